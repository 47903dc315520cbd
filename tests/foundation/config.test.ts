import { describe, expect, it } from "vitest";
import { METRICS_PORT } from "../../model/workloads.js";
import { ConfigError, loadConfig } from "../../services/config.js";

describe("service configuration", () => {
  it("runs on a fresh machine with no variables set, with the production job defaults", () => {
    const c = loadConfig({});
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.AMQP_URL).toBe("amqp://guest:guest@127.0.0.1:5672");
    expect(c.ROLES).toEqual(["api", "workers", "scheduler"]);
    expect([c.JOB_RETRY_BASE_MS, c.JOB_RETRY_MAX_MS, c.JOB_MAX_RETRIES]).toEqual([1000, 60_000, 5]);
    expect(c.DEAD_JOB_RETENTION_DAYS).toBe(30);
    expect([c.IMAGE_GC_INTERVAL_MS, c.IMAGE_GC_GRACE_MS, c.IMAGE_GC_MAX_DELETES]).toEqual([3_600_000, 3_600_000, 1000]);
  });

  it("parses lists and numbers from strings", () => {
    const c = loadConfig({ PORT: "8080", API_TOKENS: "a, b,,c", TARGET_LANGUAGES: "es", AUTO_PUSH_ON_APPROVE: "true" });
    expect(c.PORT).toBe(8080);
    expect(c.API_TOKENS).toEqual(["a", "b", "c"]);
    expect(c.TARGET_LANGUAGES).toEqual(["es"]);
    expect(c.AUTO_PUSH_ON_APPROVE).toBe(true);
  });

  it.each([
    [{ PORT: "eighty" }, "PORT"],
    [{ DATABASE_URL: "not a url" }, "DATABASE_URL"],
    [{ LOG_LEVEL: "loud" }, "LOG_LEVEL"],
    [{ ROLES: "api,cron" }, "ROLES"],
    [{ JOB_MAX_RETRIES: "-1" }, "JOB_MAX_RETRIES"],
    [{ STORAGE_DRIVER: "s3" }, "S3_BUCKET"],
    [{ IMAGE_GC_GRACE_MS: "1000" }, "IMAGE_GC_GRACE_MS"],
    [{ IMAGE_GC_MAX_DELETES: "0" }, "IMAGE_GC_MAX_DELETES"],
    [{ METRICS_PORT: "metrics" }, "METRICS_PORT"],
    [{ PORT: "9000", METRICS_PORT: "9000" }, "METRICS_PORT"],
    [{ PORT: String(METRICS_PORT) }, "METRICS_PORT"],
  ])("rejects %o and names %s", (env, key) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(key);
  });
});

describe("listeners", () => {
  it("serves the metrics listener on the port infra targets (model/workloads.ts), apart from the application port", () => {
    expect(loadConfig({})).toMatchObject({ PORT: 3000, METRICS_PORT });
    expect(loadConfig({ PORT: "8080", METRICS_PORT: "9100" })).toMatchObject({ PORT: 8080, METRICS_PORT: 9100 });
    // Tests ask the kernel for free ports on both.
    expect(loadConfig({ PORT: "0", METRICS_PORT: "0" })).toMatchObject({ PORT: 0, METRICS_PORT: 0 });
  });
});

describe("process roles", () => {
  it("consumes every job type by default and a chosen subset when JOB_TYPES is set", () => {
    expect(loadConfig({}).JOB_TYPES).toEqual(["import", "translation", "image", "source_check", "push"]);
    expect(loadConfig({ ROLES: "workers", JOB_TYPES: "image" })).toMatchObject({ ROLES: ["workers"], JOB_TYPES: ["image"] });
    expect(() => loadConfig({ JOB_TYPES: "images" })).toThrow(/JOB_TYPES/);
  });
});

describe("production configuration", () => {
  const prod = {
    NODE_ENV: "production",
    DATABASE_URL: "postgresql://app@db.internal:5432/app",
    API_TOKENS: "a".repeat(32),
    ADMIN_TOKENS: "b".repeat(32),
  };

  it("accepts explicit tokens and a database", () => {
    expect(loadConfig(prod).API_TOKENS).toEqual(["a".repeat(32)]);
  });

  it.each([
    [{ API_TOKENS: undefined }, "API_TOKENS: required"],
    [{ ADMIN_TOKENS: undefined }, "ADMIN_TOKENS: required"],
    [{ API_TOKENS: "dev-token" }, "API_TOKENS: every token must be at least 24"],
    [{ DATABASE_URL: undefined }, "DATABASE_URL: required"],
  ])("refuses the local defaults: %o", (change, message) => {
    expect(() => loadConfig({ ...prod, ...change })).toThrow(message);
  });
});
