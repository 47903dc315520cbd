/**
 * What the workloads hand the application must be a configuration the application accepts:
 * each app container's environment (secrets resolved to stand-in values) goes through the
 * service's own loadConfig, and every long-running process exposes the probes and the metrics
 * port that the Services, ServiceMonitors and kubelet expect.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { APP_PORT } from "../../infra/workloads.js";
import type { RenderedStack } from "../../infra/testing/mocks.js";
import { renderStackByName } from "../../infra/testing/stacks.js";
import { loadConfig } from "../../services/config.js";

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
interface Container {
  name: string;
  env?: EnvVar[];
  ports?: { name: string; containerPort: number }[];
  readinessProbe?: { httpGet: { path: string; port: string } };
  livenessProbe?: { httpGet: { path: string; port: string } };
}

let stack: RenderedStack;
beforeAll(async () => {
  stack = await renderStackByName("prod");
}, 60_000);

function appContainers(): { owner: string; container: Container }[] {
  const out: { owner: string; container: Container }[] = [];
  for (const r of stack.resources) {
    const kind = r.args["kind"];
    if (kind !== "Deployment" && kind !== "Rollout") continue;
    const spec = (r.args["spec"] as { template?: { spec?: { containers?: Container[] } } }).template?.spec;
    for (const c of spec?.containers ?? []) {
      if (c.env?.some((e) => e.name === "ROLES")) out.push({ owner: r.name, container: c });
    }
  }
  return out;
}

describe("the application's runtime contract in prod", () => {
  it("runs the api, one worker per job type and the scheduler", () => {
    const roles = appContainers().map(({ container }) => container.env!.find((e) => e.name === "ROLES")!.value);
    expect(roles.filter((r) => r === "api")).toHaveLength(1);
    expect(roles.filter((r) => r === "workers")).toHaveLength(5);
    expect(roles.filter((r) => r === "scheduler")).toHaveLength(1);
  });

  it("gives every app container a configuration that the service accepts in production", () => {
    const secret = stack.resources.find((r) => r.args["kind"] === "Secret" && (r.args["metadata"] as { name: string }).name === "app-secrets");
    expect(secret, "the app-secrets Secret").toBeDefined();
    const secretKeys = Object.keys(secret!.args["stringData"] as object);
    for (const { owner, container } of appContainers()) {
      const env: Record<string, string> = {};
      for (const e of container.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef;
        if (ref) {
          expect(ref.name, `${owner}: ${e.name}`).toBe("app-secrets");
          expect(secretKeys, `${owner}: ${e.name}`).toContain(ref.key);
          env[e.name] = ref.key === "DATABASE_URL" ? "postgresql://app@db.internal:5432/app" : ref.key === "AMQP_URL" ? "amqps://app:pw@mq.internal:5671" : "x".repeat(40);
        } else if (e.value !== undefined) env[e.name] = e.value;
      }
      expect(() => loadConfig(env), owner).not.toThrow();
      expect(loadConfig(env).NODE_ENV).toBe("production");
    }
  });

  it("exposes /healthz, /readyz and /metrics on the app port of every process", () => {
    for (const { owner, container } of appContainers()) {
      const port = container.ports?.find((p) => p.containerPort === APP_PORT);
      expect(port, `${owner} container port`).toBeDefined();
      expect(container.readinessProbe?.httpGet, owner).toEqual({ path: "/readyz", port: port!.name });
      expect(container.livenessProbe?.httpGet, owner).toEqual({ path: "/healthz", port: port!.name });
    }
  });
});
