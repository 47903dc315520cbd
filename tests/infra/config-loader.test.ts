/** loadStackConfig reads the engine's config the way `pulumi up` hands it to the program. */
import * as pulumi from "@pulumi/pulumi";
import { readFile } from "node:fs/promises";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { StackConfigError, loadStackConfig } from "../../infra/config.js";
import { PlatformMocks } from "../../infra/testing/mocks.js";

/** Pulumi.<stack>.yaml's config as the engine passes it: objects as JSON strings, scalars as strings. */
async function engineConfig(stack: string): Promise<Record<string, string>> {
  const doc = parse(await readFile(`Pulumi.${stack}.yaml`, "utf8")) as { config: Record<string, unknown> };
  return Object.fromEntries(Object.entries(doc.config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
}

describe("loadStackConfig", () => {
  it("reads prod-dr as the prod environment in the standby role", async () => {
    await pulumi.runtime.setMocks(new PlatformMocks("eu-central-1"), "platform", "prod-dr", false);
    pulumi.runtime.setAllConfig(await engineConfig("prod-dr"));
    const cfg = loadStackConfig();
    expect(cfg.environment).toBe("prod");
    expect(cfg.dr.role).toBe("standby");
    expect(cfg.rds.engineVersion).toBe("16");
  });

  it("names a misspelt key", async () => {
    await pulumi.runtime.setMocks(new PlatformMocks("eu-west-1"), "platform", "dev", false);
    pulumi.runtime.setAllConfig({ ...(await engineConfig("dev")), "platform:rdsBackupWindow": "03:00-03:30" });
    expect(() => loadStackConfig()).toThrow(StackConfigError);
    expect(() => loadStackConfig()).toThrow(/platform:rdsBackupWindow: unknown key/);
  });

  it("rejects a stack that is not an environment unless platform:environment says which", async () => {
    await pulumi.runtime.setMocks(new PlatformMocks("eu-west-1"), "platform", "sandbox", false);
    pulumi.runtime.setAllConfig(await engineConfig("dev"));
    expect(() => loadStackConfig()).toThrow(/platform:environment: "sandbox"/);
  });
});
