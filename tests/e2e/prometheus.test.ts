/**
 * The rendered rules and every dashboard query, loaded into a real Prometheus server that scrapes
 * a real instance of the API's metrics listener (METRICS_PORT, as the ServiceMonitor does; the
 * application port serves no /metrics): every rule must evaluate without error, the
 * recording rules must produce series, the Watchdog must fire, and every panel query must be
 * accepted by Prometheus' own query engine.
 */
import type { AddressInfo } from "node:net";
import { environment } from "../../model/environments.js";
import type { Server } from "node:http";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildDashboards } from "../../dashboards/index.js";
import { ruleGroups } from "../../alerts/rules/index.js";
import { createApp } from "../../services/api/app.js";
import { createMetricsApp } from "../../services/api/metrics-listener.js";
import { silentLogger } from "../../services/logger.js";
import { MetricsRegistry } from "../../services/metrics-registry.js";
import { APP_METRICS } from "../../services/metrics.js";
import { freePort, startProcess, type Running } from "../helpers/processes.js";
import { waitFor } from "../helpers/wait.js";

interface PromRule {
  name: string;
  health: string;
  lastError?: string;
  type: string;
  lastEvaluation: string;
}

describe("rules and dashboards in a real Prometheus", () => {
  let dir: string;
  let server: Server;
  let metricsServer: Server;
  let prometheus: Running;
  let promUrl: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "prom-e2e-"));
    const metrics = new MetricsRegistry({ defaultMetrics: true });
    for (const def of APP_METRICS) {
      if (def.type === "counter") metrics.counter(def);
      else if (def.type === "gauge") metrics.gauge(def);
      else if (def.type === "histogram") metrics.histogram(def);
    }
    const app = createApp({ logger: silentLogger(), metrics, readiness: {} });
    server = app.listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    const appAddress = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    metricsServer = createMetricsApp({ logger: silentLogger(), metrics, readiness: {} }).listen(0, "127.0.0.1");
    await new Promise((r) => metricsServer.once("listening", r));
    const target = `127.0.0.1:${(metricsServer.address() as AddressInfo).port}`;

    await writeFile(join(dir, "rules.yaml"), stringify({ groups: ruleGroups(environment("prod")) }));
    await writeFile(
      join(dir, "prometheus.yaml"),
      stringify({
        global: { scrape_interval: "1s", evaluation_interval: "1s" },
        rule_files: [join(dir, "rules.yaml")],
        scrape_configs: [{ job_name: "api", static_configs: [{ targets: [target], labels: { namespace: "product-platform" } }] }],
      }),
    );
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    prometheus = startProcess("prometheus", [
      `--config.file=${join(dir, "prometheus.yaml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ]);
    await waitFor("Prometheus to be ready", async () => (await fetch(`${promUrl}/-/ready`)).ok, 30_000, 250, true).catch((err: Error) => {
      throw new Error(`${err.message}\n${prometheus.output()}`);
    });
    // Some traffic, so the HTTP series exist.
    for (let i = 0; i < 5; i++) await fetch(`http://${appAddress}/healthz`);
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    await new Promise<void>((r) => (metricsServer ? metricsServer.close(() => r()) : r()));
    await rm(dir, { recursive: true, force: true });
  });

  async function query(expr: string): Promise<{ status: string; error?: string; data?: { result: unknown[] } }> {
    const res = await fetch(`${promUrl}/api/v1/query?${new URLSearchParams({ query: expr })}`);
    return (await res.json()) as { status: string; error?: string; data?: { result: unknown[] } };
  }

  it("scrapes the API's metrics endpoint", async () => {
    await waitFor("the api target to be up", async () => (await query('up{job="api"} == 1')).data?.result.length, 30_000, 250);
  });

  it("evaluates every rule without error", async () => {
    const expected = ruleGroups(environment("prod")).flatMap((g) => g.rules).length;
    expect(expected).toBeGreaterThan(20);
    const rules = await waitFor(
      "every rule to have been evaluated",
      async () => {
        const body = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as { data: { groups: { rules: PromRule[] }[] } };
        const all = body.data.groups.flatMap((g) => g.rules);
        return all.length === expected && all.every((r) => r.health !== "unknown") ? all : undefined;
      },
      30_000,
      250,
    );
    const broken = rules.filter((r) => r.health !== "ok").map((r) => `${r.name}: ${r.lastError}`);
    expect(broken).toEqual([]);
  });

  it("fires the Watchdog", async () => {
    await waitFor(
      "the Watchdog to fire",
      async () => {
        const body = (await (await fetch(`${promUrl}/api/v1/alerts`)).json()) as { data: { alerts: { labels: { alertname: string }; state: string }[] } };
        return body.data.alerts.some((a) => a.labels.alertname === "Watchdog" && a.state === "firing");
      },
      30_000,
      250,
    );
  });

  it("accepts every dashboard panel query", async () => {
    const exprs: { where: string; expr: string }[] = [];
    const visit = (dashboard: string, panels: unknown[] | undefined) => {
      for (const p of (panels ?? []) as { title?: string; targets?: { expr?: string }[]; panels?: unknown[] }[]) {
        for (const t of p.targets ?? []) if (t.expr) exprs.push({ where: `${dashboard} / ${p.title}`, expr: t.expr });
        visit(dashboard, p.panels);
      }
    };
    for (const d of buildDashboards(environment("prod"))) visit(String(d.title), (d as { panels?: unknown[] }).panels);
    expect(exprs.length).toBeGreaterThan(20);
    const failures: string[] = [];
    for (const { where, expr } of exprs) {
      // Grafana's variables, as Grafana would substitute them.
      const concrete = expr
        .replaceAll("$__rate_interval", "1m")
        .replaceAll("$__interval", "15s")
        .replaceAll("$__range", "1h")
        .replace(/\$\{?(\w+)(?::\w+)?\}?/g, ".*");
      const r = await query(concrete);
      if (r.status !== "success") failures.push(`${where}: ${r.error} in ${concrete}`);
    }
    expect(failures).toEqual([]);
  });
});
