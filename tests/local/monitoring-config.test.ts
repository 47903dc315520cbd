/**
 * The local Prometheus and Alertmanager configurations: promtool and amtool accept them, the
 * scrape jobs carry production's label values, and the Alertmanager config differs from the
 * production rendering only where the brief allows (receiver URLs, secret files, smarthost) and
 * in the scaled timings.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { alertmanagerConfig, MAINTENANCE_WINDOW } from "../../alerts/alertmanager.js";
import { API_SCRAPE_JOB, BLACKBOX_JOB, PRODUCT_NAMESPACE, WORKLOADS } from "../../model/workloads.js";
import { environment } from "../../model/environments.js";

const DEV = environment("dev");
import { LOCAL_PROFILE, scaleRuleGroups } from "../../alerts/profile.js";
import { ruleGroups } from "../../alerts/rules/index.js";
import { localAlertmanagerConfig, localBlackboxConfig, localPrometheusConfig, withMaintenanceWindowCovering, withMaintenanceWindowElsewhere } from "../../scripts/local/monitoring-config.js";
import { run, tempDir, writeFiles } from "../monitoring/helpers.js";

const targets = {
  api: { address: "127.0.0.1:3000", pod: "api-local" },
  workers: [{ address: "127.0.0.1:3001", pod: "worker-translation-local" }],
  scheduler: { address: "127.0.0.1:3003", pod: "scheduler-local" },
  probes: { api: "http://127.0.0.1:3080/healthz", frontend: "http://127.0.0.1:8080/" },
  blackboxExporter: "127.0.0.1:9115",
  postgresExporter: "127.0.0.1:9187",
  nodeExporter: "127.0.0.1:9100",
  rabbitmq: "127.0.0.1:15692",
  alertmanager: "127.0.0.1:9093",
  queueNamespace: "local1a2b3c.",
};

interface ScrapeConfig {
  job_name: string;
  static_configs: { targets: string[]; labels?: Record<string, string> }[];
  metric_relabel_configs?: { source_labels?: string[]; regex?: string; replacement?: string; target_label?: string }[];
}

describe("the local Prometheus configuration", () => {
  const config = localPrometheusConfig(DEV, LOCAL_PROFILE, targets, "/tmp/rules.yaml") as { scrape_configs: ScrapeConfig[]; global: Record<string, string> };
  const job = (name: string) => config.scrape_configs.find((c) => c.job_name === name)!;

  it("passes promtool check config, with the local rules and the blackbox module", async () => {
    const dir = await tempDir("local-prom");
    await writeFiles(dir, {
      "rules.yaml": stringify({ groups: scaleRuleGroups(ruleGroups(DEV), LOCAL_PROFILE.factor) }),
      "prometheus.yml": stringify(localPrometheusConfig(DEV, LOCAL_PROFILE, targets, join(dir, "rules.yaml"))),
      "blackbox.yml": stringify(localBlackboxConfig()),
    });
    const res = await run("promtool", ["check", "config", join(dir, "prometheus.yml")]);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    const bb = await run("prometheus-blackbox-exporter", [`--config.file=${join(dir, "blackbox.yml")}`, "--config.check"]);
    expect(bb.code, bb.stdout + bb.stderr).toBe(0);
  });

  it("labels the targets as production does", () => {
    expect(config.global.scrape_interval).toBe(LOCAL_PROFILE.scrapeInterval);
    expect(job(API_SCRAPE_JOB).static_configs).toEqual([{ targets: ["127.0.0.1:3000"], labels: { namespace: PRODUCT_NAMESPACE, pod: "api-local" } }]);
    expect(job(WORKLOADS.worker).static_configs[0]!.labels?.namespace).toBe(PRODUCT_NAMESPACE);
    // The exporter probes the local URLs; the series carry the environment's public URLs.
    expect(job(BLACKBOX_JOB).static_configs).toEqual([
      { targets: ["127.0.0.1:9115"], labels: { __param_target: "http://127.0.0.1:3080/healthz", instance: DEV.urls.apiProbe } },
      { targets: ["127.0.0.1:9115"], labels: { __param_target: "http://127.0.0.1:8080/", instance: DEV.urls.frontendProbe } },
    ]);
  });

  it("strips the local queue namespace so queue labels are production's", () => {
    const relabel = job(API_SCRAPE_JOB).metric_relabel_configs![0]!;
    const re = new RegExp(`^(?:${relabel.regex})$`);
    expect("local1a2b3c.jobs.translation".replace(re, relabel.replacement!)).toBe("jobs.translation");
    expect(re.test("jobs.translation")).toBe(false);
    // RabbitMQ's own metrics: only this platform's queues (and the series without a queue label).
    const keep = new RegExp(`^(?:${job("rabbitmq").metric_relabel_configs![0]!.regex})$`);
    expect(["", "local1a2b3c.jobs.image"].every((q) => keep.test(q))).toBe(true);
    expect(keep.test("jobs.image")).toBe(false);
  });
});

/** Every leaf path whose value differs between two plain objects. */
function changedPaths(a: unknown, b: unknown, path = ""): string[] {
  if (typeof a !== "object" || a === null || typeof b !== "object" || b === null) return a === b ? [] : [path];
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].flatMap((k) => changedPaths((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k));
}

describe("the local Alertmanager configuration", () => {
  const secretFiles = { pagerdutyRoutingKey: "/tmp/s/pd", slackWebhookUrl: "/tmp/s/slack", smtpPassword: "/tmp/s/smtp", heartbeatToken: "/tmp/s/hb" };
  const local = localAlertmanagerConfig(DEV, LOCAL_PROFILE, { pagerdutyUrl: "http://127.0.0.1:9095/v2/enqueue", heartbeatUrl: "http://127.0.0.1:9095/heartbeat", smarthost: "127.0.0.1:2525", secretFiles });

  it("changes only the receiver URLs, the secret files and the route timings", () => {
    const changed = changedPaths(alertmanagerConfig(DEV), local);
    const allowed = [
      /^receivers\.\d+\.pagerduty_configs\.0\.(url|routing_key_file)$/,
      /^receivers\.\d+\.slack_configs\.0\.api_url_file$/,
      /^receivers\.\d+\.webhook_configs\.0\.(url|http_config\.authorization\.credentials_file)$/,
      /^route(\.routes\.\d+)?\.(group_wait|group_interval|repeat_interval)$/,
    ];
    expect(changed.filter((p) => !allowed.some((re) => re.test(p)))).toEqual([]);
    expect(changed.some((p) => p.startsWith("global."))).toBe(false);
  });

  it("passes amtool check-config, also with the maintenance window moved to today", async () => {
    const now = new Date();
    const moved = withMaintenanceWindowCovering(local, now, MAINTENANCE_WINDOW.name);
    const interval = moved.time_intervals.find((t) => t.name === MAINTENANCE_WINDOW.name)!.time_intervals[0]!;
    expect(interval.weekdays).toEqual([["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"][now.getUTCDay()]]);
    expect(changedPaths(local, moved).every((p) => p.startsWith("time_intervals."))).toBe(true);
    const dir = await tempDir("local-am");
    await writeFiles(dir, { "local.yaml": stringify(local), "moved.yaml": stringify(moved) });
    for (const f of ["local.yaml", "moved.yaml"]) {
      const res = await run("amtool", ["check-config", join(dir, f)]);
      expect(res.code, res.stdout + res.stderr).toBe(0);
    }
  });

  it("moves the maintenance window off any moment for tests (a run inside the real window, Sunday 02:00-04:00 UTC, muted their warnings)", async () => {
    const days = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];
    const rendered = local.time_intervals.find((t) => t.name === MAINTENANCE_WINDOW.name)!.time_intervals;
    expect(rendered[0]!.weekdays).toEqual(["sunday"]);
    // Every weekday, and the moment the CI run of 6 December 2026 failed: Sunday 03:59 UTC.
    for (const now of [...Array.from({ length: 7 }, (_, d) => new Date(Date.UTC(2026, 11, 6 + d, 3, 0))), new Date("2026-12-06T03:59:15Z")]) {
      const moved = withMaintenanceWindowElsewhere(local, now, MAINTENANCE_WINDOW.name);
      const intervals = moved.time_intervals.find((t) => t.name === MAINTENANCE_WINDOW.name)!.time_intervals;
      const today = days[now.getUTCDay()]!;
      const tomorrow = days[(now.getUTCDay() + 1) % 7]!;
      for (const i of intervals) expect(i.weekdays!.some((w) => w === today || w === tomorrow), `${now.toISOString()}: ${i.weekdays}`).toBe(false);
      // The hours, the location and the routes that mute on it stay as rendered.
      expect(intervals.map((i) => ({ ...i, weekdays: undefined }))).toEqual(rendered.map((i) => ({ ...i, weekdays: undefined })));
      expect(changedPaths(local, moved).every((p) => p.startsWith("time_intervals."))).toBe(true);
    }
    const dir = await tempDir("local-am-elsewhere");
    await writeFiles(dir, { "elsewhere.yaml": stringify(withMaintenanceWindowElsewhere(local, new Date(), MAINTENANCE_WINDOW.name)) });
    const res = await run("amtool", ["check-config", join(dir, "elsewhere.yaml")]);
    expect(res.code, res.stdout + res.stderr).toBe(0);
  });
});
