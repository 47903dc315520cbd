/**
 * Renders every alert's examples as a `promtool test rules` file: one test group per example,
 * checking at the example's time that exactly the expected alerts fire (none for silent examples).
 * Expected labels add the rule's static labels to what the example lists; expected annotations
 * are the rule's static ones plus the description the example wrote by hand.
 */
import type { EnvironmentModel } from "../model/environments.js";
import type { AlertDefinition } from "./alert-def.js";
import { alertAnnotations, alertLabels, definitionGroups } from "./rules/index.js";

export const PROMETHEUS_RULES_FILE = "prometheus-rules.yaml";
export const PROMTOOL_TEST_FILE = "prometheus-rules.test.yaml";
/** Input series are one sample per minute; rules are evaluated every minute in tests. */
export const TEST_INTERVAL = "1m";

interface PromtoolTestGroup {
  name: string;
  interval: string;
  input_series: { series: string; values: string }[];
  alert_rule_test?: { eval_time: string; alertname: string; exp_alerts: { exp_labels: Record<string, string>; exp_annotations: Record<string, string> }[] }[];
  promql_expr_test?: { expr: string; eval_time: string; exp_samples: { labels: string; value: number }[] }[];
}

export interface PromtoolTestFile {
  rule_files: string[];
  evaluation_interval: string;
  tests: PromtoolTestGroup[];
}

function alertTests(env: EnvironmentModel, defs: readonly AlertDefinition[]): PromtoolTestGroup[] {
  const byName = new Map<string, AlertDefinition[]>();
  for (const d of defs) byName.set(d.name, [...(byName.get(d.name) ?? []), d]);
  return defs.flatMap((def) =>
    def.examples.map((ex) => ({
      name: `${def.name}: ${ex.name}`,
      interval: TEST_INTERVAL,
      input_series: ex.input.map((s) => ({ series: s.series, values: s.values })),
      alert_rule_test: [
        {
          eval_time: ex.at,
          alertname: def.name,
          exp_alerts: ex.fires.map((f) => {
            // An expected alert may name another severity of the same alert name (SLO page/ticket pairs).
            const severity = f.labels?.severity ?? def.severity;
            const owner = (byName.get(def.name) ?? [def]).find((d) => d.severity === severity) ?? def;
            return {
              exp_labels: { ...alertLabels(owner), ...f.labels },
              exp_annotations: { ...alertAnnotations(env, owner), description: f.description },
            };
          }),
        },
      ],
    })),
  );
}

export function renderPromtoolTests(env: EnvironmentModel): PromtoolTestFile {
  const groups = definitionGroups(env);
  const tests: PromtoolTestGroup[] = [];
  for (const g of groups) {
    tests.push(...alertTests(env, g.alerts));
    for (const r of g.recordingExamples ?? []) {
      tests.push({
        name: `recording: ${r.name}`,
        interval: TEST_INTERVAL,
        input_series: r.input.map((s) => ({ series: s.series, values: s.values })),
        promql_expr_test: [{ expr: r.expr, eval_time: r.at, exp_samples: r.expect.map((e) => ({ labels: e.labels, value: e.value })) }],
      });
    }
  }
  return { rule_files: [PROMETHEUS_RULES_FILE], evaluation_interval: TEST_INTERVAL, tests };
}
