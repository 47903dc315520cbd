/** loadStackConfig reads the engine's config the way `pulumi up` hands it to the program. */
import * as pulumi from "@pulumi/pulumi";
import { readFile } from "node:fs/promises";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { StackConfigError, loadEnvironment } from "../../infra/config.js";
import { PlatformMocks } from "../../infra/testing/mocks.js";

/** Pulumi.<stack>.yaml's config as the engine passes it: objects as JSON strings, scalars as strings. */
async function engineConfig(stack: string): Promise<Record<string, string>> {
  const doc = parse(await readFile(`Pulumi.${stack}.yaml`, "utf8")) as { config: Record<string, unknown> };
  return Object.fromEntries(Object.entries(doc.config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
}

describe("loadStackConfig", () => {
  it("reads prod-dr as its own environment, a standby of prod deploying the prod tier", async () => {
    await pulumi.runtime.setMocks(new PlatformMocks("eu-central-1"), "platform", "prod-dr", false);
    pulumi.runtime.setAllConfig(await engineConfig("prod-dr"));
    const env = loadEnvironment();
    expect(env).toMatchObject({ name: "prod-dr", tier: "prod", role: "standby", primary: "prod", region: "eu-central-1" });
    expect(env.config.rds.engineVersion).toBe("16");
    expect(env.monitoring.slack.critical).toBe("#incidents-prod-dr");
  });

  it("names a misspelt key", async () => {
    await pulumi.runtime.setMocks(new PlatformMocks("eu-west-1"), "platform", "dev", false);
    pulumi.runtime.setAllConfig({ ...(await engineConfig("dev")), "platform:rdsBackupWindow": "03:00-03:30" });
    expect(() => loadEnvironment()).toThrow(StackConfigError);
    expect(() => loadEnvironment()).toThrow(/platform:rdsBackupWindow: unknown key/);
  });

  it("rejects a stack whose name is not a tier unless platform:environment says which", async () => {
    await pulumi.runtime.setMocks(new PlatformMocks("eu-west-1"), "platform", "sandbox", false);
    pulumi.runtime.setAllConfig(await engineConfig("dev"));
    expect(() => loadEnvironment()).toThrow(/platform:environment: "sandbox"/);
  });

  it("rejects a stack that is not one of the environments, naming the list", async () => {
    await pulumi.runtime.setMocks(new PlatformMocks("eu-west-1"), "platform", "sandbox", false);
    pulumi.runtime.setAllConfig({ ...(await engineConfig("dev")), "platform:environment": "dev" });
    expect(() => loadEnvironment()).toThrow(/stack "sandbox" is not one of the environments dev, staging, prod, prod-dr/);
  });

  it("requires aws:region to name platform:region, naming both keys", async () => {
    await pulumi.runtime.setMocks(new PlatformMocks("eu-west-1"), "platform", "dev", false);
    pulumi.runtime.setAllConfig({ ...(await engineConfig("dev")), "aws:region": "us-east-1" });
    expect(() => loadEnvironment()).toThrow(/aws:region: is us-east-1, but platform:region is eu-west-1/);
    const { "aws:region": _dropped, ...withoutRegion } = await engineConfig("dev");
    pulumi.runtime.setAllConfig(withoutRegion);
    expect(() => loadEnvironment()).toThrow(/aws:region: required, and must equal platform:region \(eu-west-1\)/);
  });
});
