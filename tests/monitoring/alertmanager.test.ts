/**
 * Alertmanager: the real amtool checks the rendered config and routes a table of label sets
 * (every rendered alert rule plus edge cases) with --verify.receivers; every environment's
 * critical alerts go where its model says (PagerDuty and Slack, or Slack only), and the alerts
 * that share an incident are grouped by it.
 */
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { ENVIRONMENTS, environment } from "../../model/environments.js";
import type { EnvironmentModel } from "../../model/environments.js";
import { ALERTMANAGER_SECRETS_DIR, ALERTMANAGER_SECRET_FILES, MAINTENANCE_WINDOW, RECEIVERS, alertmanagerConfig } from "../../alerts/alertmanager.js";
import type { AlertmanagerRoute } from "../../alerts/alertmanager-types.js";
import { criticalAlertsByIncident, ruleGroups } from "../../alerts/rules/index.js";
import type { AlertingRule } from "../../alerts/rules/index.js";
import { CRITICAL_GROUP_BY, INCIDENTS, INCIDENT_LABEL } from "../../alerts/incidents.js";
import { run, tempDir, writeFiles } from "./helpers.js";

const AMTOOL = "/usr/bin/amtool";
const configFiles = new Map<string, string>();

beforeAll(async () => {
  for (const name of ENVIRONMENTS) {
    const dir = await tempDir(`alertmanager-${name}`);
    await writeFiles(dir, { "alertmanager.yaml": stringify(alertmanagerConfig(environment(name))) });
    configFiles.set(name, join(dir, "alertmanager.yaml"));
  }
});

async function routesTest(labels: Record<string, string>, expected: readonly string[], env = "prod") {
  const args = ["config", "routes", "test", `--config.file=${configFiles.get(env)}`, `--verify.receivers=${expected.join(",")}`, ...Object.entries(labels).map(([k, v]) => `${k}=${v}`)];
  return run(AMTOOL, args);
}

/** Where an alert must land, written from the routing policy (not from the config). */
function expectedReceivers(labels: Record<string, string>, env: EnvironmentModel = environment("prod")): string[] {
  if (labels.alertname === "Watchdog") return ["heartbeat"];
  switch (labels.severity) {
    case "critical":
      // Where nobody is paged (dev, staging: monitoring.pages = slack) criticals go to the critical Slack channel only.
      return env.monitoring.pages === "pagerduty" ? ["pagerduty-critical", "slack-critical"] : ["slack-critical"];
    case "warning":
      return [labels.team === "admins" ? "slack-admins" : "slack-warnings"];
    case "info":
    case "none":
      return ["blackhole"];
    default:
      return ["slack-warnings"];
  }
}

describe.each(ENVIRONMENTS)("amtool check-config (%s)", (name) => {
  const env = environment(name);
  it("accepts the rendered config", async () => {
    const dir = await tempDir(`am-${env}`);
    await writeFiles(dir, { "alertmanager.yaml": stringify(alertmanagerConfig(env)) });
    const res = await run(AMTOOL, ["check-config", join(dir, "alertmanager.yaml")]);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toContain("SUCCESS");
  });
});

describe("routing table (amtool config routes test --verify.receivers)", () => {
  const ruleLabelSets = ruleGroups(environment("prod"))
    .flatMap((g) => g.rules.filter((r): r is AlertingRule => "alert" in r))
    .map((r): Record<string, string> => ({ alertname: r.alert, namespace: "product-platform", ...r.labels }));
  const edgeCases: Record<string, string>[] = [
    { alertname: "SomethingInfo", severity: "info", team: "platform" },
    { alertname: "ForgotSeverity", team: "platform" },
    { alertname: "AdminsPage", severity: "critical", team: "admins" },
  ];
  const table = [...ruleLabelSets, ...edgeCases].map((l) => [JSON.stringify(l), l, expectedReceivers(l)] as const);

  it("covers every severity and team", () => {
    const sevs = new Set(table.map(([, l]) => l.severity));
    expect([...sevs].sort()).toEqual(["critical", "info", "none", "warning", undefined].sort());
    expect(new Set(table.map(([, l]) => l.team))).toEqual(new Set(["platform", "admins"]));
  });

  it.each(table)("%s", { timeout: 30_000 }, async (_name, labels, expected) => {
    const res = await routesTest(labels, expected);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout.trim().split(",")).toEqual(expected);
  });

  it("fails when the expectation is wrong (the check bites)", async () => {
    const res = await routesTest({ alertname: "NodeHighCpu", severity: "warning", team: "platform" }, ["pagerduty-critical"]);
    expect(res.code).not.toBe(0);
  });
});

describe.each(ENVIRONMENTS)("critical alerts of %s (amtool config routes test --verify.receivers)", (name) => {
  const env = environment(name);
  const critical = ruleGroups(env)
    .flatMap((g) => g.rules.filter((r): r is AlertingRule => "alert" in r && r.labels?.severity === "critical"))
    .map((r): Record<string, string> => ({ alertname: r.alert, ...r.labels }));
  const expected = env.monitoring.pages === "pagerduty" ? ["pagerduty-critical", "slack-critical"] : ["slack-critical"];

  it(`route to ${expected.join(", ")}`, { timeout: 60_000 }, async () => {
    expect(critical.length).toBeGreaterThan(10);
    expect(expectedReceivers(critical[0]!, env)).toEqual(expected);
    for (const labels of critical) {
      const res = await routesTest(labels, expected, name);
      expect(res.code, `${JSON.stringify(labels)}: ${res.stdout}${res.stderr}`).toBe(0);
      expect(res.stdout.trim().split(","), JSON.stringify(labels)).toEqual(expected);
    }
  });

  it("the three alerts of a 6% error ratio share one incident, which both critical routes group by alone", async () => {
    const six = ["ApiHighErrorRate", "ApiHttp500Burst", "ApiAvailabilityErrorBudgetBurn"].map((a) => critical.find((l) => l.alertname === a));
    expect(new Set(six.map((l) => l?.[INCIDENT_LABEL]))).toEqual(new Set([INCIDENTS.productService]));
    for (const labels of six) expect((await routesTest(labels!, expected, name)).code).toBe(0);
    const cfg = alertmanagerConfig(env);
    const criticalRoutes = (cfg.route.routes ?? []).filter((r) => (r.matchers ?? []).includes('severity="critical"'));
    expect(criticalRoutes.map((r) => r.receiver)).toEqual(expected);
    for (const r of criticalRoutes) expect(r.group_by).toEqual([...CRITICAL_GROUP_BY]);
  });
});

describe("incidents", () => {
  it("every critical alert belongs to an incident, and the incidents are what on-call expects to be one page", () => {
    const env = environment("prod");
    const unassigned = ruleGroups(env)
      .flatMap((g) => g.rules.filter((r): r is AlertingRule => "alert" in r && r.labels?.severity === "critical"))
      .filter((r) => !Object.values(INCIDENTS).includes(r.labels?.[INCIDENT_LABEL] as never));
    expect(unassigned.map((r) => r.alert)).toEqual([]);
    const byIncident = criticalAlertsByIncident(env);
    // The pairs issue 17 names: the API target down with the probe failing (one alert, plus the rollout
    // with no available replica); the database down with the readiness failures and API errors after it.
    for (const alert of ["ApiHighErrorRate", "ApiHttp500Burst", "ApiAvailabilityErrorBudgetBurn", "ApiUnavailable", "FrontendDeploymentFailed", "DatabaseConnectionFailed", "JobWorkersUnavailable"]) {
      expect(byIncident[INCIDENTS.productService], alert).toContain(alert);
    }
    for (const alert of ["BackupFailed", "BackupTooOld", "DatabaseReplicationUnhealthy"]) expect(byIncident[INCIDENTS.dataProtection], alert).toContain(alert);
  });
});

describe("config policy", () => {
  const cfg = alertmanagerConfig(environment("prod"));
  const yaml = stringify(cfg);
  const flat = (r: AlertmanagerRoute): AlertmanagerRoute[] => [r, ...(r.routes ?? []).flatMap(flat)];
  const routes = flat(cfg.route).slice(1);

  it("never inlines a secret: every credential is a file under the mounted secret dir", () => {
    expect(yaml).not.toMatch(/^\s*(routing_key|service_key|api_url|smtp_auth_password|auth_password|credentials|bearer_token):/m);
    const files = [...yaml.matchAll(/_file: (.+)$/gm)].map((m) => m[1]!.trim());
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const f of files) expect(Object.values(ALERTMANAGER_SECRET_FILES)).toContain(f);
    for (const f of Object.values(ALERTMANAGER_SECRET_FILES)) expect(f.startsWith(`${ALERTMANAGER_SECRETS_DIR}/`)).toBe(true);
  });

  it("groups warnings by alertname and inhibits warnings while a critical with the same alertname and namespace fires", () => {
    expect(cfg.route.group_by).toContain("alertname");
    expect(cfg.inhibit_rules).toContainEqual({ source_matchers: ['severity="critical"'], target_matchers: ['severity="warning"'], equal: ["alertname", "namespace"] });
  });

  it("mutes warnings, never pages, during the Sunday 02:00-04:00 UTC window", () => {
    expect(cfg.time_intervals).toEqual([
      { name: MAINTENANCE_WINDOW.name, time_intervals: [{ weekdays: ["sunday"], times: [{ start_time: "02:00", end_time: "04:00" }], location: "UTC" }] },
    ]);
    for (const r of routes) {
      const muted = (r.mute_time_intervals ?? []).includes(MAINTENANCE_WINDOW.name);
      const warning = (r.matchers ?? []).some((m) => m === 'severity="warning"');
      expect(muted, JSON.stringify(r)).toBe(warning);
    }
  });

  it("critical continues from PagerDuty to Slack, with runbook and dashboard links in the event", () => {
    const pd = routes.find((r) => r.receiver === RECEIVERS.pagerduty);
    expect(pd?.continue).toBe(true);
    const receiver = cfg.receivers.find((r) => r.name === RECEIVERS.pagerduty);
    const links = receiver?.pagerduty_configs?.[0]?.links ?? [];
    expect(links.map((l) => l.text)).toEqual(["Runbook", "Dashboard"]);
    expect(links[0]?.href).toContain("runbook_url");
    expect(links[1]?.href).toContain("dashboard_url");
    expect(receiver?.pagerduty_configs?.[0]?.routing_key_file).toBe(ALERTMANAGER_SECRET_FILES.pagerdutyRoutingKey);
  });

  it("sends no email: the daily digest is the ops/digest.ts CronJob, from Prometheus's ALERTS", () => {
    expect(cfg.receivers.flatMap((r) => r.email_configs ?? [])).toEqual([]);
    expect(JSON.stringify(cfg.global)).not.toContain("smtp");
  });
});
