/**
 * What the workloads hand the application must be a configuration the application accepts:
 * each app container's environment (secrets resolved to stand-in values) goes through the
 * service's own loadConfig, and every long-running process exposes the probes, the application
 * port and the separate metrics listener that the Services, ServiceMonitors and kubelet expect.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { APP_PORT, METRICS_PORT } from "../../model/workloads.js";
import { renderStackByName } from "../../infra/testing/stacks.js";
import type { RenderedEnvironment } from "../../infra/testing/stacks.js";
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

let stack: RenderedEnvironment;
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
    const secrets = new Map(
      stack.resources.filter((r) => r.args["kind"] === "Secret").map((r) => [(r.args["metadata"] as { name: string }).name, Object.keys(r.args["stringData"] as object)] as const),
    );
    expect(secrets.get("app-secrets"), "the app-secrets Secret").toBeDefined();
    for (const { owner, container } of appContainers()) {
      const env: Record<string, string> = {};
      for (const e of container.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef;
        if (ref) {
          // The tokens and the broker URL from app-secrets, the database URL from the component's own db-<component> secret.
          expect(ref.name, `${owner}: ${e.name}`).toEqual(e.name === "DATABASE_URL" ? expect.stringMatching(/^db-(api|worker|scheduler)$/) : "app-secrets");
          expect(secrets.get(ref.name), `${owner}: ${e.name}`).toContain(ref.key);
          env[e.name] = ref.key === "DATABASE_URL" ? "postgresql://app@db.internal:5432/app" : ref.key === "AMQP_URL" ? "amqps://app:pw@mq.internal:5671" : "x".repeat(40);
        } else if (e.value !== undefined) env[e.name] = e.value;
      }
      expect(() => loadConfig(env), owner).not.toThrow();
      expect(loadConfig(env).NODE_ENV).toBe("production");
    }
  });

  it("runs every process with the app port and the metrics listener (METRICS_PORT), the kubelet's readiness on the metrics listener", () => {
    for (const { owner, container } of appContainers()) {
      expect(container.ports, owner).toEqual([
        { name: "http", containerPort: APP_PORT },
        { name: "metrics", containerPort: METRICS_PORT },
      ]);
      expect(container.env, owner).toContainEqual({ name: "METRICS_PORT", value: String(METRICS_PORT) });
      expect(container.env, owner).toContainEqual({ name: "PORT", value: String(APP_PORT) });
      expect(container.readinessProbe?.httpGet, owner).toEqual({ path: "/readyz", port: "metrics" });
      expect(container.livenessProbe?.httpGet, owner).toEqual({ path: "/healthz", port: "http" });
    }
  });
});
