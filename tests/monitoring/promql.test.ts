/**
 * Every PromQL expression we render (alert and recording rules, dashboard panels, runbook
 * queries) must parse with the real Prometheus grammar and name only declared metrics.
 */
import { describe, expect, it } from "vitest";
import { ENVIRONMENTS, environment } from "../../model/environments.js";
import { alertDefinitions, ruleGroups } from "../../alerts/rules/index.js";
import { buildDashboards } from "../../dashboards/index.js";
import { analysePromql, declaredSeries, grafanaToPromql, undeclared } from "./helpers.js";

function panelExprs(): { where: string; expr: string }[] {
  return buildDashboards(environment("prod")).flatMap((d) =>
    d.panels.flatMap((p) => ((p.targets ?? []) as { expr?: string }[]).map((t) => ({ where: `${d.uid} / ${p.title}`, expr: grafanaToPromql(t.expr ?? "") }))),
  );
}

describe("the PromQL checker itself", () => {
  const declared = declaredSeries(environment("prod"));
  it("flags a syntax error", () => {
    expect(analysePromql("sum(rate(http_requests_total[5m])", declared).syntaxErrors).not.toEqual([]);
  });
  it("flags an undeclared metric", () => {
    const a = analysePromql("sum(rate(http_request_total[5m]))", declared);
    expect(undeclared(a, declared)).toEqual(["http_request_total"]);
  });
  it("flags a counter outside rate", () => {
    expect(analysePromql("sum(http_requests_total)", declared).bareCounters).toEqual(["http_requests_total"]);
    expect(analysePromql("sum(rate(http_requests_total[5m]))", declared).bareCounters).toEqual([]);
  });
});

describe.each(ENVIRONMENTS)("rules of %s", (name) => {
  const env = environment(name);
  const declared = declaredSeries(env);
  const rules = ruleGroups(env).flatMap((g) => g.rules.map((r) => ({ name: "alert" in r ? r.alert : r.record, expr: r.expr })));

  it("has rules to check", () => {
    expect(rules.length).toBeGreaterThan(20);
  });
  it.each(rules.map((r) => [r.name, r.expr] as const))("%s parses and names only declared metrics", (_name, expr) => {
    const a = analysePromql(expr, declared);
    expect(a.syntaxErrors).toEqual([]);
    expect(undeclared(a, declared)).toEqual([]);
    expect(a.bareCounters).toEqual([]);
  });
});

describe("dashboard panel queries", () => {
  const declared = declaredSeries(environment("prod"));
  const exprs = panelExprs();
  it("exist", () => {
    expect(exprs.length).toBeGreaterThan(40);
  });
  it.each(exprs.map((e) => [e.where, e.expr] as const))("%s: %s", (_where, expr) => {
    const a = analysePromql(expr, declared);
    expect(a.syntaxErrors).toEqual([]);
    expect(undeclared(a, declared)).toEqual([]);
  });
});

describe("runbook queries", () => {
  const declared = declaredSeries(environment("prod"));
  const queries = alertDefinitions(environment("prod")).flatMap((d) => (d.runbook?.queries ?? []).map((q) => [`${d.name}: ${q.purpose}`, q.promql] as const));
  it.each(queries)("%s", (_purpose, promql) => {
    const a = analysePromql(promql, declared);
    expect(a.syntaxErrors).toEqual([]);
    expect(undeclared(a, declared)).toEqual([]);
  });
});
