/**
 * What the e2e suite expects of the routing, in one place, and the arithmetic of its timing table.
 *
 * incidentGroups(env) says which alerts page as ONE PagerDuty incident: the critical alerts of one
 * `incident` label (alerts/incidents.ts), as the critical routes group by it alone.
 */
import { alertDefinitions, criticalAlertsByIncident } from "../../alerts/rules/index.js";
import { scaleRuleGroups, durationMs, type TimingProfile } from "../../alerts/profile.js";
import { ruleGroups, type AlertingRule } from "../../alerts/rules/index.js";
import type { AlertmanagerConfig } from "../../alerts/alertmanager.js";
import type { EnvironmentModel } from "../../model/environments.js";
import type { ReceivedPage } from "../../scripts/local/receiver.js";

/** The alerts of each incident (alerts/incidents.ts): those of one incident page as one. */
export function incidentGroups(env: EnvironmentModel): readonly (readonly string[])[] {
  return Object.values(criticalAlertsByIncident(env));
}

/** How many PagerDuty incidents a set of paging alerts must make: one per incident they belong to. */
export function expectedIncidents(env: EnvironmentModel, alertnames: Iterable<string>): number {
  const groups = incidentGroups(env);
  const keys = new Set<string>();
  for (const name of alertnames) {
    const g = groups.findIndex((members) => members.includes(name));
    keys.add(g >= 0 ? `group:${g}` : `alert:${name}`);
  }
  return keys.size;
}

/**
 * The alert names a PagerDuty event is about, matched against every rule: its summary (the
 * incident's firing alerts; in a resolve, the resolved ones) and the `alerts` detail (the firing
 * ones). Not Alertmanager's own `resolved` detail: a trigger of a still-open incident lists the
 * alerts that resolved in it meanwhile, which the event is not about.
 */
export function alertnamesOf(env: EnvironmentModel, page: ReceivedPage): string[] {
  const details = page.body.payload?.custom_details as Record<string, unknown> | undefined;
  const text = JSON.stringify([page.body.payload?.summary, details?.["alerts"]]);
  const names = [...new Set(alertDefinitions(env).map((d) => d.name))];
  return names.filter((n) => new RegExp(`\\b${n}\\b`).test(text));
}

/** The alert's scaled for: + the evaluation interval + the route's group_wait, in seconds. */
export function notificationBudget(env: EnvironmentModel, profile: TimingProfile, am: AlertmanagerConfig, alertname: string, severity: string): { forS: number; evalS: number; groupWaitS: number; totalS: number } {
  const rules = scaleRuleGroups(ruleGroups(env), profile.factor)
    .flatMap((g) => g.rules)
    .filter((r): r is AlertingRule => "alert" in r && r.alert === alertname && r.labels?.severity === severity);
  if (rules.length === 0) throw new Error(`no rule ${alertname}/${severity}`);
  const forS = Math.max(...rules.map((r) => (r.for ? durationMs(r.for) : 0))) / 1000;
  const evalS = durationMs(profile.evaluationInterval) / 1000;
  const route = am.route.routes?.find((r) => r.matchers?.includes(`alertname="${alertname}"`));
  const groupWaitS = durationMs(route?.group_wait ?? am.route.group_wait ?? "30s") / 1000;
  return { forS, evalS, groupWaitS, totalS: forS + evalS + groupWaitS };
}

export interface TimingRow {
  readonly case: string;
  readonly arrival: string;
  readonly measuredS: number;
  readonly forS: number;
  readonly evalS: number;
  readonly groupWaitS: number;
  readonly budgetS: number;
  readonly note?: string;
}

export function timingTable(rows: readonly TimingRow[]): string {
  const head = ["case", "what arrived", "measured s", "for s", "eval s", "group_wait s", "for+eval+wait s", "note"];
  const body = rows.map((r) => [r.case, r.arrival, r.measuredS.toFixed(1), String(r.forS), String(r.evalS), String(r.groupWaitS), String(r.budgetS), r.note ?? ""]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}
