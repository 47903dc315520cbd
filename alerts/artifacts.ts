/**
 * The alerting artifacts `npm run synth` writes under out/<env>/: prometheus-rules.yaml, the
 * PrometheusRule resource, the promtool test file and alertmanager.yaml.
 */
import { stringify } from "yaml";
import type { Artifact, ArtifactSource } from "../synth/artifact.js";
import type { EnvironmentModel } from "../model/environments.js";
import { ruleGroups, prometheusRuleResource } from "./rules/index.js";
import { alertmanagerConfig } from "./alertmanager.js";
import { renderPromtoolTests, PROMTOOL_TEST_FILE, PROMETHEUS_RULES_FILE } from "./promtool-tests.js";

const toYaml = (value: unknown): string => stringify(value, { lineWidth: 0, aliasDuplicateObjects: false });

export function renderAlerting(env: EnvironmentModel): Artifact[] {
  return [
    { path: PROMETHEUS_RULES_FILE, content: toYaml({ groups: ruleGroups(env) }), kind: "prometheus-rules" },
    { path: "prometheus-rule.yaml", content: toYaml(prometheusRuleResource(env)), kind: "prometheus-rule-resource" },
    { path: PROMTOOL_TEST_FILE, content: toYaml(renderPromtoolTests(env)), kind: "promtool-test" },
    { path: "alertmanager.yaml", content: toYaml(alertmanagerConfig(env)), kind: "alertmanager" },
  ];
}

export const alertingArtifacts: ArtifactSource = (env) => renderAlerting(env);
