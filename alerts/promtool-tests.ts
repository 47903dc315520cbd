import type { Environment } from "../infra/environments.js";

export const PROMETHEUS_RULES_FILE = "prometheus-rules.yaml";
export const PROMTOOL_TEST_FILE = "prometheus-rules.test.yaml";

export function renderPromtoolTests(_env: Environment): object {
  return { rule_files: [PROMETHEUS_RULES_FILE], evaluation_interval: "1m", tests: [] };
}
