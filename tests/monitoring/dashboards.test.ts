/**
 * Lints every rendered dashboard by grafana/dashboard-linter's rules:
 * - template-datasource-rule: exactly one datasource variable, named `datasource`;
 * - panel-datasource-rule / target-datasource: every panel and target uses `${datasource}`;
 * - target-rate-interval-rule: rate/irate/increase use $__rate_interval. Documented exception:
 *   increase(...[1d]) for per-day figures (the range is the bucket, not smoothing);
 * - panel-title/description/units rules; counters only inside rate/irate/increase;
 * - read-only (editable: false), stable uids, unique panel ids.
 */
import { describe, expect, it } from "vitest";
import { environment } from "../../model/environments.js";
import { buildDashboards } from "../../dashboards/index.js";
import type { DashboardJson, PanelJson } from "../../dashboards/index.js";
import { DASHBOARD_UIDS } from "../../dashboards/uids.js";
import { RATE_INTERVAL_SENTINEL, analysePromql, declaredSeries, grafanaToPromql, undeclared } from "./helpers.js";

const declared = declaredSeries(environment("prod"));

type Target = { expr?: string; datasource?: { uid?: string; type?: string } };

/** Returns every lint problem of one dashboard (empty when clean). */
export function lintDashboard(d: DashboardJson): string[] {
  const problems: string[] = [];
  const vars = (d.templating?.list ?? []) as { type?: string; name?: string; query?: unknown }[];
  const dsVars = vars.filter((v) => v.type === "datasource");
  if (dsVars.length !== 1 || dsVars[0]?.name !== "datasource") problems.push(`expected exactly one datasource variable named "datasource", got ${JSON.stringify(dsVars.map((v) => v.name))}`);
  if (dsVars[0] && dsVars[0].query !== "prometheus") problems.push("the datasource variable must select prometheus data sources");
  if (d.editable !== false) problems.push("dashboard must be read-only (editable: false)");
  const ids = new Set<number>();
  for (const p of d.panels as PanelJson[]) {
    const where = `panel ${p.id} "${p.title ?? ""}"`;
    if (typeof p.id !== "number" || ids.has(p.id)) problems.push(`${where}: missing or duplicate id`);
    ids.add(p.id);
    if (!p.title) problems.push(`${where}: no title`);
    if (!p.description) problems.push(`${where}: no description`);
    if (!p.fieldConfig?.defaults?.unit) problems.push(`${where}: no unit`);
    if (p.datasource?.uid !== "${datasource}") problems.push(`${where}: panel datasource is not \${datasource}`);
    const targets = (p.targets ?? []) as Target[];
    if (targets.length === 0) problems.push(`${where}: no query`);
    for (const t of targets) {
      if (t.datasource?.uid !== "${datasource}") problems.push(`${where}: target datasource is not \${datasource}`);
      const expr = t.expr ?? "";
      const a = analysePromql(grafanaToPromql(expr), declared);
      if (a.syntaxErrors.length > 0) problems.push(`${where}: ${a.syntaxErrors.join("; ")}`);
      for (const name of undeclared(a, declared)) problems.push(`${where}: undeclared metric ${name}`);
      for (const name of a.bareCounters) problems.push(`${where}: counter ${name} outside rate/increase`);
      for (const r of a.ranges) {
        const perDay = r.fn === "increase" && r.range === "1d";
        if (["rate", "irate", "increase"].includes(r.fn) && r.range !== RATE_INTERVAL_SENTINEL && !perDay) problems.push(`${where}: ${r.fn} over [${r.range}] instead of $__rate_interval`);
      }
    }
  }
  return problems;
}

const dashboards = buildDashboards(environment("prod"));

describe("dashboards", () => {
  it("are the five expected ones, with the stable uids alerts link to", () => {
    expect(dashboards.map((d) => d.uid).sort()).toEqual(Object.values(DASHBOARD_UIDS).sort());
    expect(new Set(dashboards.map((d) => d.title)).size).toBe(dashboards.length);
  });

  it("render the same in every environment and are JSON-serialisable", () => {
    const json = JSON.stringify(dashboards);
    expect(JSON.stringify(buildDashboards(environment("dev")))).toBe(json);
    expect(JSON.parse(json)).toEqual(dashboards);
  });

  it.each(dashboards.map((d) => [d.uid, d] as const))("%s passes the linter", (_uid, d) => {
    expect(lintDashboard(d)).toEqual([]);
  });

  it("the linter catches each kind of problem", () => {
    const clean = dashboards[0]!;
    const broken: DashboardJson = JSON.parse(JSON.stringify(clean));
    const p = broken.panels[0]!;
    p.description = "";
    (p.targets as Target[])[0]!.expr = "sum(rate(http_requests_total[5m])) + sum(http_requests_total) + nope_total";
    broken.panels.push({ ...broken.panels[1]!, id: p.id });
    broken.editable = true;
    const problems = lintDashboard(broken).join("\n");
    expect(problems).toMatch(/no description/);
    expect(problems).toMatch(/rate over \[5m\]/);
    expect(problems).toMatch(/counter http_requests_total outside/);
    expect(problems).toMatch(/undeclared metric nope_total/);
    expect(problems).toMatch(/duplicate id/);
    expect(problems).toMatch(/read-only/);
  });

  it("cover what each dashboard must show", () => {
    const byUid = new Map(dashboards.map((d) => [d.uid, d]));
    const types = (uid: string) => (byUid.get(uid)?.panels ?? []).map((p) => p.type);
    const exprs = (uid: string) => (byUid.get(uid)?.panels ?? []).flatMap((p) => ((p.targets ?? []) as Target[]).map((t) => t.expr ?? "")).join("\n");
    expect(types(DASHBOARD_UIDS.api)).toEqual(expect.arrayContaining(["heatmap", "table", "timeseries"]));
    expect(exprs(DASHBOARD_UIDS.api)).toMatch(/histogram_quantile\(0\.99/);
    expect(types(DASHBOARD_UIDS.business)).toEqual(expect.arrayContaining(["piechart", "state-timeline", "barchart", "heatmap"]));
    expect(exprs(DASHBOARD_UIDS.business)).toMatch(/increase\(products_pushed_total\[1d\]\)/);
    expect(exprs(DASHBOARD_UIDS.jobs)).toMatch(/jobs_dead_letter_size/);
    expect(exprs(DASHBOARD_UIDS.database)).toMatch(/replica_lag/);
    expect(exprs(DASHBOARD_UIDS.infrastructure)).toMatch(/container_memory_working_set_bytes/);
  });
});
