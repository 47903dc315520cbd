/**
 * The alerting artifacts `npm run synth` writes under out/<env>/: prometheus-rules.yaml, the
 * PrometheusRule resource, the promtool test file and alertmanager.yaml. With a profile
 * (`--profile local`), the rules and alertmanager.yaml are the same objects with their timings
 * scaled (alerts/profile.ts); the promtool tests (whose example times belong to the production
 * rules) and the PrometheusRule resource (deployed by infra, never profiled) are left out.
 */
import { stringify } from "yaml";
import type { Artifact, ArtifactSource } from "../synth/artifact.js";
import type { EnvironmentModel } from "../model/environments.js";
import { ruleGroups, prometheusRuleResource } from "./rules/index.js";
import { alertmanagerConfig } from "./alertmanager.js";
import { renderPromtoolTests, PROMTOOL_TEST_FILE, PROMETHEUS_RULES_FILE } from "./promtool-tests.js";
import { applyProfile, type TimingProfile } from "./profile.js";

export const ALERTMANAGER_FILE = "alertmanager.yaml";

const toYaml = (value: unknown): string => stringify(value, { lineWidth: 0, aliasDuplicateObjects: false });

export function renderAlerting(env: EnvironmentModel, profile?: TimingProfile): Artifact[] {
  if (profile) {
    const scaled = applyProfile(profile, { groups: ruleGroups(env), alertmanager: alertmanagerConfig(env) });
    return [
      { path: PROMETHEUS_RULES_FILE, content: toYaml({ groups: scaled.groups }), kind: "prometheus-rules" },
      { path: ALERTMANAGER_FILE, content: toYaml(scaled.alertmanager), kind: "alertmanager" },
    ];
  }
  return [
    { path: PROMETHEUS_RULES_FILE, content: toYaml({ groups: ruleGroups(env) }), kind: "prometheus-rules" },
    { path: "prometheus-rule.yaml", content: toYaml(prometheusRuleResource(env)), kind: "prometheus-rule-resource" },
    { path: PROMTOOL_TEST_FILE, content: toYaml(renderPromtoolTests(env)), kind: "promtool-test" },
    { path: ALERTMANAGER_FILE, content: toYaml(alertmanagerConfig(env)), kind: "alertmanager" },
  ];
}

export const alertingArtifacts: ArtifactSource = (env, opts) => renderAlerting(env, opts?.profile);
