/**
 * Rule groups as plain Prometheus objects: the same objects go into prometheus-rules.yaml and
 * into the PrometheusRule resource that infra deploys.
 */
import type { EnvironmentModel } from "../../model/environments.js";
import type { AlertDefinition } from "../alert-def.js";
import type { AlertingRule, RuleGroup } from "../rule-types.js";
import { dashboardUrl, runbookUrl } from "../../model/environments.js";
import { SEVERITY, TEAM_LABEL } from "../severity.js";
import { INCIDENT_LABEL, INCIDENTS } from "../incidents.js";
import type { Incident } from "../incidents.js";
import { alertDefinitions, definitionGroups } from "./definitions.js";

export type { RuleGroup, Rule, AlertingRule, RecordingRule } from "../rule-types.js";
export { alertDefinitions, definitionGroups } from "./definitions.js";

/** The static labels a definition puts on its alerts. */
export function alertLabels(def: AlertDefinition): Record<string, string> {
  return { severity: def.severity, [TEAM_LABEL]: def.team, ...(def.incident ? { [INCIDENT_LABEL]: def.incident } : {}), ...def.labels };
}

/** The rule's expression: the definition's, with its minimum-events guard (if any) rendered here and only here. */
export function alertExpr(def: AlertDefinition): string {
  const g = def.minEvents;
  return g ? `(${def.expr}) and ${g.rate(g.window)} > ${g.perSecond}` : def.expr;
}

/**
 * The critical alerts of each incident: the alerts that must reach PagerDuty as one incident when
 * they fire together (end-to-end tests assert this grouping).
 */
export function criticalAlertsByIncident(env: EnvironmentModel): Record<Incident, string[]> {
  const out = Object.fromEntries(Object.values(INCIDENTS).map((i) => [i, [] as string[]])) as Record<Incident, string[]>;
  for (const d of alertDefinitions(env)) {
    if (d.severity !== SEVERITY.critical || !d.incident) continue;
    if (!out[d.incident].includes(d.name)) out[d.incident].push(d.name);
  }
  return out;
}

/** The annotations of a definition; runbook and dashboard links are built here and only here. */
export function alertAnnotations(env: EnvironmentModel, def: AlertDefinition): Record<string, string> {
  const annotations: Record<string, string> = {
    summary: def.summary,
    description: def.description,
    runbook_url: runbookUrl(env, def.name),
  };
  const dashboard = def.dashboards[0];
  if (dashboard) annotations.dashboard_url = dashboardUrl(env, dashboard);
  return annotations;
}

export function renderAlert(env: EnvironmentModel, def: AlertDefinition): AlertingRule {
  return {
    alert: def.name,
    expr: alertExpr(def),
    ...(def.for ? { for: def.for } : {}),
    labels: alertLabels(def),
    annotations: alertAnnotations(env, def),
  };
}

/** Every rule group, rendered for one environment. */
export function ruleGroups(env: EnvironmentModel): RuleGroup[] {
  return definitionGroups(env).map((g) => ({
    name: g.name,
    ...(g.interval ? { interval: g.interval } : {}),
    rules: [
      ...(g.recordings ?? []).map((r) => ({ record: r.record, expr: r.expr, ...(r.labels ? { labels: { ...r.labels } } : {}) })),
      ...g.alerts.map((a) => renderAlert(env, a)),
    ],
  }));
}

/** The same groups as a prometheus-operator PrometheusRule resource. */
export function prometheusRuleResource(env: EnvironmentModel): object {
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: {
      name: "product-platform",
      namespace: "monitoring",
      labels: { "app.kubernetes.io/part-of": "product-platform", role: "alert-rules", environment: env.tier },
    },
    spec: { groups: ruleGroups(env) },
  };
}
