/**
 * Rule groups as plain Prometheus objects: the same objects go into prometheus-rules.yaml and
 * into the PrometheusRule resource that infra deploys.
 */
import type { EnvironmentModel } from "../../model/environments.js";
import type { AlertDefinition } from "../alert-def.js";
import type { AlertingRule, RuleGroup } from "../rule-types.js";
import { dashboardUrl, runbookUrl } from "../../model/environments.js";
import { TEAM_LABEL } from "../severity.js";
import { definitionGroups } from "./definitions.js";

export type { RuleGroup, Rule, AlertingRule, RecordingRule } from "../rule-types.js";
export { alertDefinitions, definitionGroups } from "./definitions.js";

/** The static labels a definition puts on its alerts. */
export function alertLabels(def: AlertDefinition): Record<string, string> {
  return { severity: def.severity, [TEAM_LABEL]: def.team, ...def.labels };
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
    expr: def.expr,
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
