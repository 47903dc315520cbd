/** The production retry numbers, from the config defaults: 1 s doubling, capped at 60 s, 5 retries. */
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../services/config.js";
import { jobEngineConfig } from "../../services/jobs/engine.js";
import { maxAttempts, retryDelayMs, retryDelays } from "../../services/jobs/retry-policy.js";
import { DELIVERY_LIMIT_BACKSTOP, deadLetterQueue, queuesFor, retryLevels, retryQueue, workQueue } from "../../services/jobs/topology.js";
import { JOB_TYPES } from "../../services/jobs/types.js";

const production = jobEngineConfig(loadConfig({})).retry;

describe("retry policy", () => {
  it("production defaults: 1s, 2s, 4s, 8s, 16s; 5 retries; 6 attempts", () => {
    expect(production).toEqual({ baseMs: 1000, maxMs: 60_000, maxRetries: 5 });
    expect(retryDelays(production)).toEqual([1000, 2000, 4000, 8000, 16_000]);
    expect(maxAttempts(production)).toBe(6);
  });

  it("caps every delay at 60 s", () => {
    expect(retryDelayMs(production, 6)).toBe(32_000);
    expect(retryDelayMs(production, 7)).toBe(60_000);
    expect(retryDelayMs(production, 20)).toBe(60_000);
    expect(retryLevels({ ...production, maxRetries: 10 })).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 60_000]);
  });

  it("rejects retry numbers below 1", () => {
    expect(() => retryDelayMs(production, 0)).toThrow(RangeError);
  });

  it("reads the numbers from the environment", () => {
    const c = jobEngineConfig(loadConfig({ JOB_RETRY_BASE_MS: "50", JOB_RETRY_MAX_MS: "300", JOB_MAX_RETRIES: "3" }));
    expect(retryDelays(c.retry)).toEqual([50, 100, 200]);
  });
});

describe("topology", () => {
  it("names one work queue, one delay queue per backoff level and one dead-letter queue per type", () => {
    expect(workQueue("image")).toBe("jobs.image");
    expect(retryQueue("image", 4000)).toBe("jobs.image.retry.4000ms");
    expect(deadLetterQueue("image", "ns.")).toBe("ns.jobs.image.dead");
    const specs = queuesFor("image", production);
    expect(specs.map((s) => s.queue)).toEqual([
      "jobs.image",
      "jobs.image.retry.1000ms",
      "jobs.image.retry.2000ms",
      "jobs.image.retry.4000ms",
      "jobs.image.retry.8000ms",
      "jobs.image.retry.16000ms",
      "jobs.image.dead",
    ]);
    for (const s of specs) expect(s.arguments["x-queue-type"]).toBe("quorum");
    const retry = specs.filter((s) => s.role === "retry");
    expect(retry.map((s) => s.arguments["x-message-ttl"])).toEqual([1000, 2000, 4000, 8000, 16_000]);
    for (const s of retry) expect(s.arguments["x-dead-letter-routing-key"]).toBe("jobs.image");
    expect(specs[0]!.arguments["x-delivery-limit"]).toBe(DELIVERY_LIMIT_BACKSTOP);
    expect(JOB_TYPES).toEqual(["import", "translation", "image", "source_check", "push"]);
  });
});
