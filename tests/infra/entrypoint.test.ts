/**
 * What `pulumi up` runs in each project: the default export of infra/index.ts (the AWS stack) and
 * of infra/cluster/index.ts (the cluster stack) called with no arguments, reading config and
 * secrets from the engine (here: engine-style config under mocks).
 */
import * as pulumi from "@pulumi/pulumi";
import { readFile } from "node:fs/promises";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import * as program from "../../infra/index.js";
import * as clusterProgram from "../../infra/cluster/index.js";
import { loadStack } from "../../infra/testing/stack-config.js";
import { MOCK_ORGANIZATION, PlatformMocks, renderStack } from "../../infra/testing/mocks.js";
import { asStackOutputs, renderAwsStack } from "../../infra/testing/stacks.js";
import { environment } from "../../model/environments.js";

async function engineConfig(stack: string): Promise<Record<string, string>> {
  const doc = parse(await readFile(`Pulumi.${stack}.yaml`, "utf8")) as { config: Record<string, unknown> };
  return Object.fromEntries(Object.entries(doc.config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
}

describe("the Pulumi entry points", () => {
  it("have only a default export (Pulumi rejects a mix of default and named exports)", () => {
    expect(Object.keys(program)).toEqual(["default"]);
    expect(Object.keys(clusterProgram)).toEqual(["default"]);
  });

  it("the AWS stack runs with the stack's own config and holds no Alertmanager secret", async () => {
    const config = await engineConfig("staging");
    const result = await renderStack("staging", (await loadStack("staging")).region, async () => {
      pulumi.runtime.setAllConfig(config);
      return program.default() as Record<string, unknown>;
    });
    expect(result.resources.length).toBeGreaterThan(150);
    expect(result.outputs["environment"]).toBe("staging");
    expect(result.outputs["rpoHours"]).toBe(1);
    expect(result.resources.filter((r) => r.type.startsWith("kubernetes:"))).toEqual([]);
  }, 60_000);

  it("the AWS stack refuses Alertmanager secrets set on it, naming where they belong", async () => {
    await pulumi.runtime.setMocks(new PlatformMocks("eu-west-1"), "platform", "dev", false, MOCK_ORGANIZATION);
    pulumi.runtime.setAllConfig({ ...(await engineConfig("dev")), "platform:slackWebhookUrl": "https://hooks.slack.invalid/x" }, ["platform:slackWebhookUrl"]);
    expect(() => program.default()).toThrow(/platform:slackWebhookUrl: moved to the cluster stack: pulumi config set --secret platform-cluster:slackWebhookUrl/);
  });

  it("the cluster stack runs with its own secrets, reading the environment of its name and the AWS stack's outputs", async () => {
    const env = environment("staging");
    const aws = asStackOutputs(await renderAwsStack(env));
    const secrets = { "platform-cluster:slackWebhookUrl": "https://hooks.slack.invalid/x", "platform-cluster:smtpPassword": "x", "platform-cluster:heartbeatToken": "x" };
    const result = await renderStack(
      "staging",
      env.region,
      async () => {
        pulumi.runtime.setAllConfig(secrets, Object.keys(secrets));
        return clusterProgram.default();
      },
      { project: "platform-cluster", stacks: { "organization/platform/staging": aws } },
    );
    expect(result.outputs["environment"]).toBe("staging");
    expect(result.outputs["awsStack"]).toBe("organization/platform/staging");
    const secret = result.resources.find((r) => r.name === "staging-alertmanager-secrets")!;
    expect(Object.values(secret.args["stringData"] as object).every((v) => v === "[secret]")).toBe(true);
    expect(result.resources.filter((r) => r.type.startsWith("aws:") && !r.type.startsWith("aws:route53/")).map((r) => r.type)).toEqual([]);
  }, 60_000);

  it("the cluster stack fails when an Alertmanager secret is not set", async () => {
    await pulumi.runtime.setMocks({ newResource: (a) => ({ id: a.name, state: a.inputs }), call: () => ({}) }, "platform-cluster", "dev", false, MOCK_ORGANIZATION);
    pulumi.runtime.setAllConfig({});
    expect(() => clusterProgram.default()).toThrow(/platform-cluster:slackWebhookUrl/);
  });
});
