import type { Environment } from "../../infra/environments.js";
import type { RuleGroup } from "../rule-types.js";

export type { RuleGroup, Rule, AlertingRule, RecordingRule } from "../rule-types.js";

/** Every rule group, rendered for one environment. */
export function ruleGroups(_env: Environment): RuleGroup[] {
  return [];
}

/** The same groups as a prometheus-operator PrometheusRule resource. */
export function prometheusRuleResource(env: Environment): object {
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: { name: "product-platform", namespace: "monitoring", labels: { role: "alert-rules", environment: env } },
    spec: { groups: ruleGroups(env) },
  };
}
