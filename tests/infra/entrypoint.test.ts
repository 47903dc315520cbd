/**
 * What `pulumi up --stack staging` runs: infra/index.ts's default export called with no
 * arguments, reading config and secrets from the engine (here: engine-style config under mocks).
 */
import * as pulumi from "@pulumi/pulumi";
import { readFile } from "node:fs/promises";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import * as program from "../../infra/index.js";
import { loadStack } from "../../infra/testing/stack-config.js";
import { renderStack } from "../../infra/testing/mocks.js";

describe("the Pulumi entry point", () => {
  it("has only a default export (Pulumi rejects a mix of default and named exports)", () => {
    expect(Object.keys(program)).toEqual(["default"]);
  });

  it("runs with the stack's own config and secrets", async () => {
    const doc = parse(await readFile("Pulumi.staging.yaml", "utf8")) as { config: Record<string, unknown> };
    const config = Object.fromEntries(Object.entries(doc.config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
    const secrets = { "platform:slackWebhookUrl": "https://hooks.slack.invalid/x", "platform:smtpPassword": "x", "platform:heartbeatToken": "x" };
    const result = await renderStack("staging", (await loadStack("staging")).region, async () => {
      pulumi.runtime.setAllConfig({ ...config, ...secrets }, Object.keys(secrets));
      return program.default();
    });
    expect(result.resources.length).toBeGreaterThan(150);
    expect(result.outputs["environment"]).toBe("staging");
    expect(result.outputs["rpoHours"]).toBe(1);
    const secret = result.resources.find((r) => r.name === "staging-alertmanager-secrets")!;
    expect(Object.values(secret.args["stringData"] as object).every((v) => v === "[secret]")).toBe(true);
  }, 60_000);

  it("fails when an Alertmanager secret is not set", async () => {
    const doc = parse(await readFile("Pulumi.dev.yaml", "utf8")) as { config: Record<string, unknown> };
    const config = Object.fromEntries(Object.entries(doc.config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
    await pulumi.runtime.setMocks({ newResource: (a) => ({ id: a.name, state: a.inputs }), call: () => ({}) }, "platform", "dev", false);
    pulumi.runtime.setAllConfig(config);
    expect(() => program.default()).toThrow(/platform:slackWebhookUrl/);
  });
});
