/** Plain Prometheus rule-file shapes: what prometheus-rules.yaml and PrometheusRule.spec.groups hold. */
export interface AlertingRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
export interface RecordingRule {
  record: string;
  expr: string;
  labels?: Record<string, string>;
}
export type Rule = AlertingRule | RecordingRule;
export interface RuleGroup {
  name: string;
  interval?: string;
  rules: Rule[];
}
