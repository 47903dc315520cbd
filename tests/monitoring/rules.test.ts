/**
 * Alert rules: structure and conventions, then the real promtool on the rendered files:
 * `promtool check rules` for every environment and `promtool test rules` with every
 * alert's examples (cases that must fire and cases that must stay silent).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ENVIRONMENTS, environment } from "../../model/environments.js";
import type { EnvironmentModel } from "../../model/environments.js";
import { renderAlerting } from "../../alerts/artifacts.js";
import { alertDefinitions, prometheusRuleResource, ruleGroups } from "../../alerts/rules/index.js";
import type { AlertingRule } from "../../alerts/rules/index.js";
import { RUNBOOKS_URL } from "../../model/environments.js";
import { PROMETHEUS_RULES_FILE, PROMTOOL_TEST_FILE } from "../../alerts/promtool-tests.js";
import { BURN_RATE_WINDOWS, SLO_WINDOWS, sliErrorRecord, sliEventsRecord } from "../../alerts/slo.js";
import { INCIDENTS } from "../../alerts/incidents.js";
import { ratiosOfRates, run, tempDir, writeFiles } from "./helpers.js";

const PROMTOOL = "/usr/bin/promtool";

async function renderTo(env: EnvironmentModel): Promise<string> {
  const dir = await tempDir(`rules-${env.name}`);
  await writeFiles(dir, Object.fromEntries(renderAlerting(env).map((a) => [a.path, a.content])));
  return dir;
}

const alertsOf = (env: EnvironmentModel): AlertingRule[] => ruleGroups(env).flatMap((g) => g.rules.filter((r): r is AlertingRule => "alert" in r));

describe("alert rule conventions", () => {
  const alerts = alertsOf(environment("prod"));

  it("every alert has a CamelCase name, a severity, a team and the three annotations", () => {
    for (const a of alerts) {
      expect(a.alert, a.alert).toMatch(/^[A-Z][A-Za-z0-9]+$/);
      expect(["critical", "warning", "info", "none"], a.alert).toContain(a.labels?.severity);
      expect(a.labels?.team, a.alert).toBeTruthy();
      const summary = a.annotations?.summary ?? "";
      expect(summary, a.alert).toMatch(/^[A-Z].*\.$/);
      expect(summary, `${a.alert}: summary must be static`).not.toMatch(/\{\{/);
      expect(summary.split(/\.\s/).length, `${a.alert}: one sentence`).toBe(1);
      expect(a.annotations?.description, a.alert).toBeTruthy();
    }
  });

  it.each(ENVIRONMENTS)("runbook_url in %s is the env base URL + the lowercased alert name", (name) => {
  const env = environment(name);
    for (const a of alertsOf(env)) expect(a.annotations?.runbook_url).toBe(`${RUNBOOKS_URL}/${name}/${a.alert.toLowerCase()}.md`);
  });

  it("has the required pages, warnings, SLO alerts and the Watchdog", () => {
    const bySeverity = (s: string) => new Set(alerts.filter((a) => a.labels?.severity === s).map((a) => a.alert));
    const critical = bySeverity("critical");
    for (const name of ["ApiUnavailable", "DatabaseConnectionFailed", "FrontendDeploymentFailed", "ApiHighErrorRate", "ApiHttp500Burst", "DatabaseReplicationUnhealthy", "BackupFailed", "BackupTooOld", "ApiAvailabilityErrorBudgetBurn", "ApiLatencyErrorBudgetBurn"]) {
      expect(critical, name).toContain(name);
    }
    for (const name of ["JobWorkersUnavailable", "JobQueueWithoutConsumers", "JobQueueStalled"]) expect(critical, name).toContain(name);
    const warning = bySeverity("warning");
    for (const name of ["JobWorkersUnavailable", "JobQueueWithoutConsumers", "JobQueueStalled", "ApiHighLatencyP95", "DatabaseSlowQueries", "NodeHighCpu", "NodeHighMemory", "NodeDiskSpaceLow", "ImportJobFailureRateHigh", "TranslationQueueBacklog", "JobQueueBacklog", "DeadLetterQueueNotEmpty", "JobsStuck", "WorkerSaturated", "SourceCheckSuccessRateFalling", "ApiAvailabilityErrorBudgetBurn", "ApiLatencyErrorBudgetBurn"]) {
      expect(warning, name).toContain(name);
    }
    expect(alerts.find((a) => a.alert === "DeadLetterQueueNotEmpty")?.labels?.team).toBe("admins");
    const watchdog = alerts.find((a) => a.alert === "Watchdog");
    expect(watchdog?.expr).toBe("vector(1)");
    expect(["none", "info"]).toContain(watchdog?.labels?.severity);
  });

  it("SLO alerts use the workbook's multi-window multi-burn-rate pairs over recorded error ratios", () => {
    expect(BURN_RATE_WINDOWS.map((w) => [w.severity, w.long, w.short, w.factor])).toEqual([
      ["critical", "1h", "5m", 14.4],
      ["critical", "6h", "30m", 6],
      ["warning", "1d", "2h", 3],
      ["warning", "3d", "6h", 1],
    ]);
    const records = ruleGroups(environment("prod")).flatMap((g) => g.rules.filter((r) => "record" in r));
    for (const slo of ["api-availability", "api-latency"]) {
      for (const w of SLO_WINDOWS) expect(records.some((r) => "record" in r && r.record === sliErrorRecord(w) && r.labels?.slo === slo), `${slo} ${w}`).toBe(true);
    }
    const page = alerts.find((a) => a.alert === "ApiAvailabilityErrorBudgetBurn" && a.labels?.severity === "critical");
    // 99.9% objective: budget 0.001; 14.4x = 0.0144 over 1h and 5m.
    expect(page?.expr).toContain('slo:sli_error:ratio_rate1h{slo="api-availability"} > 0.0144 and slo:sli_error:ratio_rate5m{slo="api-availability"} > 0.0144');
  });

  it("every alert name has examples that fire and examples that stay silent", () => {
    const defs = alertDefinitions(environment("prod"));
    for (const name of new Set(defs.map((d) => d.name))) {
      const examples = defs.filter((d) => d.name === name).flatMap((d) => d.examples);
      expect(examples.some((e) => e.fires.length > 0), `${name} fires`).toBe(true);
      if (name !== "Watchdog") expect(examples.some((e) => e.fires.length === 0), `${name} silent`).toBe(true);
    }
  });

  it.each(ENVIRONMENTS)("every ratio of rates in %s is guarded by a minimum event rate, declared on the definition", (name) => {
    const defs = alertDefinitions(environment(name));
    const ratios = defs.filter((d) => ratiosOfRates(d.expr).length > 0);
    expect(ratios.map((d) => d.name)).toEqual(expect.arrayContaining(["ApiHighErrorRate", "ImportJobFailureRateHigh", "SourceCheckSuccessRateFalling"]));
    for (const d of ratios) {
      expect(d.minEvents, `${d.name} has a minEvents guard`).toBeDefined();
      expect(d.minEvents!.perSecond, d.name).toBeGreaterThan(0);
      // The guard is rendered once, by the renderer, from the field.
      const rendered = alertsOf(environment(name)).find((a) => a.alert === d.name && a.labels?.severity === d.severity)!;
      expect(rendered.expr).toBe(`(${d.expr}) and ${d.minEvents!.rate(d.minEvents!.window)} > ${d.minEvents!.perSecond}`);
      const names = d.examples.map((e) => e.name);
      expect(names, d.name).toContain("one error at very low traffic stays silent");
      expect(names, d.name).toContain("the same ratio at normal traffic fires");
    }
  });

  it("every SLO burn condition requires its long window to have seen the SLO's minimum event rate", () => {
    const records = ruleGroups(environment("prod")).flatMap((g) => g.rules.filter((r) => "record" in r));
    for (const slo of ["ApiAvailabilityErrorBudgetBurn", "ApiLatencyErrorBudgetBurn"]) {
      const defs = alertDefinitions(environment("prod")).filter((d) => d.name === slo);
      expect(defs.length).toBe(2);
      for (const d of defs) {
        for (const w of BURN_RATE_WINDOWS.filter((x) => x.severity === d.severity)) expect(d.expr, `${slo} ${w.long}`).toMatch(new RegExp(`${sliEventsRecord(w.long)}\\{slo="[a-z-]+"\\} > 0\\.1\\)`));
      }
      const examples = defs.flatMap((d) => d.examples).map((e) => e.name);
      expect(examples).toContain("one error at very low traffic stays silent");
      expect(examples).toContain("the same ratio at normal traffic fires (page and ticket)");
    }
    for (const w of SLO_WINDOWS) expect(records.some((r) => "record" in r && r.record === sliEventsRecord(w)), w).toBe(true);
  });

  it.each(ENVIRONMENTS)("every critical alert in %s has an incident and a missing-input decision that an example shows firing", (name) => {
    const defs = alertDefinitions(environment(name));
    const critical = defs.filter((d) => d.severity === "critical");
    expect(critical.length).toBeGreaterThan(10);
    const missingExample = (alert: string) => defs.filter((d) => d.name === alert).flatMap((d) => d.examples).find((e) => e.missingInput && e.fires.length > 0);
    for (const d of critical) {
      expect(Object.values(INCIDENTS), `${d.name} names an incident`).toContain(d.incident);
      const m = d.missingInput;
      expect(m, `${d.name} decides what a missing input means`).toBeDefined();
      expect(m!.decision.length, d.name).toBeGreaterThan(40);
      if (m!.kind === "fires") expect(missingExample(d.name), `${d.name} has an "input missing -> fires" example`).toBeDefined();
      if (m!.kind === "covered") {
        expect(critical.map((c) => c.name), `${d.name} is covered by a critical alert`).toContain(m!.by);
        expect(missingExample(m!.by), `${m!.by} (covering ${d.name}) has an "input missing -> fires" example`).toBeDefined();
      }
      if (m!.kind === "fires") {
        // ...and one showing it quiet when its inputs are present.
        expect(defs.filter((x) => x.name === d.name).flatMap((x) => x.examples).some((e) => !e.missingInput && e.fires.length === 0), `${d.name} has a quiet example`).toBe(true);
      }
    }
  });

  it("the PrometheusRule resource carries exactly the rule groups", () => {
    const res = prometheusRuleResource(environment("prod")) as { apiVersion: string; kind: string; spec: { groups: unknown } };
    expect(res.apiVersion).toBe("monitoring.coreos.com/v1");
    expect(res.kind).toBe("PrometheusRule");
    expect(res.spec.groups).toEqual(ruleGroups(environment("prod")));
  });
});

describe.each(ENVIRONMENTS)("promtool check rules (%s)", (name) => {
  const env = environment(name);
  it("accepts the rendered rule file and the PrometheusRule groups", async () => {
    const dir = await renderTo(env);
    const res = await run(PROMTOOL, ["check", "rules", join(dir, PROMETHEUS_RULES_FILE)]);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    const rendered = parse(await readFile(join(dir, PROMETHEUS_RULES_FILE), "utf8")) as { groups: unknown };
    expect(rendered.groups).toEqual(ruleGroups(env));
    const resource = parse(await readFile(join(dir, "prometheus-rule.yaml"), "utf8")) as { spec: { groups: unknown } };
    expect(resource.spec.groups).toEqual(rendered.groups);
  });
});

describe("promtool test rules (prod)", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await renderTo(environment("prod"));
  });

  it("passes every example", { timeout: 180_000 }, async () => {
    const tests = parse(await readFile(join(dir, PROMTOOL_TEST_FILE), "utf8")) as { tests: unknown[] };
    expect(tests.tests.length).toBeGreaterThan(50);
    const res = await run(PROMTOOL, ["test", "rules", join(dir, PROMTOOL_TEST_FILE)]);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toContain("SUCCESS");
  });

  it("fails when a threshold is wrong (the examples bite)", { timeout: 180_000 }, async () => {
    const rulesFile = join(dir, PROMETHEUS_RULES_FILE);
    const original = await readFile(rulesFile, "utf8");
    const broken = original.replace(/(alert: ApiHighErrorRate\n\s+expr: .*?)> 0\.05\)/, "$1> 0.02)");
    expect(broken).not.toBe(original);
    const only = await tempDir("rules-broken");
    const tests = parse(await readFile(join(dir, PROMTOOL_TEST_FILE), "utf8")) as { rule_files: string[]; evaluation_interval: string; tests: { name: string }[] };
    const subset = { ...tests, tests: tests.tests.filter((t) => t.name.startsWith("ApiHighErrorRate:")) };
    const { stringify } = await import("yaml");
    await writeFiles(only, { [PROMETHEUS_RULES_FILE]: broken, [PROMTOOL_TEST_FILE]: stringify(subset) });
    const res = await run(PROMTOOL, ["test", "rules", join(only, PROMTOOL_TEST_FILE)]);
    expect(res.code).not.toBe(0);
    // 3% errors must stay silent; with a 2% threshold it fires.
    expect(res.stdout + res.stderr).toMatch(/3% errors stays silent/);
  });
});
