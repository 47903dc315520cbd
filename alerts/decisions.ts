/**
 * The table of critical alerts in alerts/README.md, rendered from the definitions: each page's
 * incident and what it does when its input series are missing (AlertDefinition.missingInput), so
 * the documented decision is the one the rules render. `npx tsx runbooks/generate.ts` writes it
 * between the README's markers; a test fails when they differ.
 */
import { environments } from "../model/environments.js";
import type { EnvironmentName } from "../model/environments.js";
import type { MissingInput } from "./alert-def.js";
import { alertDefinitions } from "./rules/index.js";
import { SEVERITY } from "./severity.js";

export const CRITICAL_TABLE_BEGIN = "<!-- critical-alerts:begin -->";
export const CRITICAL_TABLE_END = "<!-- critical-alerts:end -->";

const reading = (m: MissingInput | undefined): string => {
  if (!m) return "(undecided)";
  switch (m.kind) {
    case "fires":
      return `fires: ${m.decision}`;
    case "covered":
      return `quiet, ${m.by} fires: ${m.decision}`;
    case "not-deployed":
      return `no such input: ${m.decision}`;
  }
};

/** One row per critical alert: its incident, and its missing-input decision (per environment where they differ). */
export function criticalAlertTable(): string {
  const decisions = new Map<string, { incident: string; byReading: Map<string, EnvironmentName[]> }>();
  for (const env of environments()) {
    for (const d of alertDefinitions(env)) {
      if (d.severity !== SEVERITY.critical) continue;
      const row = decisions.get(d.name) ?? { incident: d.incident ?? "", byReading: new Map<string, EnvironmentName[]>() };
      const r = reading(d.missingInput);
      row.byReading.set(r, [...(row.byReading.get(r) ?? []), env.name]);
      decisions.set(d.name, row);
    }
  }
  const all = environments().length;
  const cell = (byReading: Map<string, EnvironmentName[]>): string =>
    [...byReading]
      .map(([r, envs]) => (envs.length === all ? r : `${envs.join(", ")}: ${r}`))
      .join(" ")
      .replaceAll("|", "\\|");
  return [
    "| Critical alert | Incident | When its input series are missing |",
    "| --- | --- | --- |",
    ...[...decisions].map(([name, row]) => `| ${name} | \`${row.incident}\` | ${cell(row.byReading)} |`),
  ].join("\n");
}

/** The README with its block replaced by the current table. */
export function withCriticalAlertTable(readme: string): string {
  const begin = readme.indexOf(CRITICAL_TABLE_BEGIN);
  const end = readme.indexOf(CRITICAL_TABLE_END);
  if (begin < 0 || end < begin) throw new Error(`alerts/README.md has no ${CRITICAL_TABLE_BEGIN} ... ${CRITICAL_TABLE_END} block`);
  return `${readme.slice(0, begin + CRITICAL_TABLE_BEGIN.length)}\n${criticalAlertTable()}\n${readme.slice(end)}`;
}
