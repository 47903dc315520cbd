/**
 * Renders each alert's runbook page from its typed definition, so the page, the rule and the
 * runbook_url cannot drift. Each environment has its own pages (runbooks/<env>/<alert>.md), rendered
 * from that environment's definitions, so every host, URL and channel on a page is that
 * environment's: a staging page never shows a prod host. The committed files are this output
 * (regenerate with `npx tsx runbooks/generate.ts`; a test fails when they differ).
 */
import type { EnvironmentModel } from "../model/environments.js";
import { dashboardUrl, environments } from "../model/environments.js";
import { environmentDetails, environmentTable } from "../model/environment-table.js";
import type { AlertDefinition, RunbookContent } from "./alert-def.js";
import { alertDefinitions, alertExpr } from "./rules/index.js";
import { buildDashboards } from "../dashboards/index.js";

/** The section headings every alert runbook has, in order. */
export const RUNBOOK_SECTIONS = ["What is happening", "Impact", "Diagnosis", "Mitigation", "Escalation", "Related dashboards"] as const;

/** The procedure pages under runbooks/procedures/ (file name without .md). */
export const PROCEDURES = ["deploy", "rollback", "database-restore", "dr-failover", "dlq-review-and-replay", "maintenance-window"] as const;

export function runbookFileName(alertName: string): string {
  return `${alertName.toLowerCase()}.md`;
}

function severityLine(env: EnvironmentModel, defs: readonly AlertDefinition[]): string {
  const critical =
    env.monitoring.pages === "pagerduty" ? `pages via PagerDuty and posts to Slack ${env.monitoring.slack.critical}` : `posts to Slack ${env.monitoring.slack.critical} (nobody is paged for ${env.name})`;
  return defs
    .map((d) => {
      const route = d.severity === "critical" ? critical : d.severity === "warning" ? `posts to Slack ${d.team === "admins" ? env.monitoring.slack.admins : env.monitoring.slack.alerts} (chat/ticket)` : "goes to the heartbeat receiver only";
      return `\`${d.severity}\`${d.for ? ` after ${d.for}` : ""}: ${route}`;
    })
    .join("; ");
}

/** One Markdown page for all the definitions sharing an alert name (e.g. an SLO's page and ticket rules). */
export function renderRunbook(defs: readonly AlertDefinition[], env: EnvironmentModel): string {
  const first = defs[0];
  if (!first) throw new Error("renderRunbook needs at least one definition");
  const content: RunbookContent | undefined = defs.find((d) => d.runbook)?.runbook;
  if (!content) throw new Error(`alert ${first.name} has no runbook content`);
  const titles = new Map(buildDashboards(env).map((d) => [d.uid, d.title]));
  const lines: string[] = [
    `<!-- Generated from alerts/rules by runbooks/generate.ts. Edit the alert definition, not this file. -->`,
    `# ${first.name} (${env.name})`,
    "",
    `> ${first.summary}`,
    "",
    `Environment: \`${env.name}\` (${env.role}, ${env.region}; [all environments](../environments.md)). Severity: ${severityLine(env, defs)}. Team label: \`${first.team}\`.`,
    "",
    "## What is happening",
    "",
    content.whatIsHappening,
    "",
    "## Impact",
    "",
    content.impact,
    "",
    "## Diagnosis",
    "",
    "The alert expression" + (defs.length > 1 ? "s" : "") + ":",
    "",
    ...defs.flatMap((d) => ["```promql", alertExpr(d), "```", ""]),
    ...(content.queries ?? []).flatMap((q) => [`${q.purpose}:`, "", "```promql", q.promql, "```", ""]),
    ...content.commands.flatMap((c) => [`${c.purpose}:`, "", "```bash", c.command, "```", ""]),
    "## Mitigation",
    "",
    ...content.mitigation.map((m) => `- ${m}`),
    ...(content.procedures ?? []).map((p) => `- Procedure: [${p}](../procedures/${p}.md)`),
    "",
    "## Escalation",
    "",
    content.escalation,
    "",
    "## Related dashboards",
    "",
    ...[...new Set(defs.flatMap((d) => d.dashboards))].map((uid) => `- [${titles.get(uid) ?? uid}](${dashboardUrl(env, uid)})`),
    "",
  ];
  return lines.join("\n");
}

/** Every alert runbook of one environment: file name -> Markdown. */
export function renderAllRunbooks(env: EnvironmentModel): Map<string, string> {
  const byName = new Map<string, AlertDefinition[]>();
  for (const d of alertDefinitions(env)) byName.set(d.name, [...(byName.get(d.name) ?? []), d]);
  const out = new Map<string, string>();
  for (const [name, defs] of byName) out.set(runbookFileName(name), renderRunbook(defs, env));
  return out;
}

/** Every generated page under runbooks/: `<env>/<alert>.md` for each environment, and the index. */
export function renderRunbookTree(): Map<string, string> {
  const out = new Map<string, string>();
  for (const env of environments()) for (const [file, md] of renderAllRunbooks(env)) out.set(`${env.name}/${file}`, md);
  out.set("README.md", renderRunbookIndex());
  out.set("environments.md", renderEnvironmentsPage());
  return out;
}

/** runbooks/README.md: the index of alert runbooks (one column per environment) and procedures. */
export function renderRunbookIndex(): string {
  const envs = environments();
  const defs = alertDefinitions(envs[0]!);
  const byName = new Map<string, AlertDefinition>();
  for (const d of defs) if (!byName.has(d.name)) byName.set(d.name, d);
  return [
    "<!-- Generated by runbooks/generate.ts. -->",
    "# Runbooks",
    "",
    "One page per alert and environment, generated from the alert definitions in `alerts/rules/` (each alert's `runbook_url` points to its environment's page), and hand-written procedures. The hosts, URLs and channels of each environment are in [environments.md](environments.md).",
    "",
    "## Alerts",
    "",
    `| Alert | Severity | Summary | ${envs.map((e) => e.name).join(" | ")} |`,
    `| --- | --- | --- |${envs.map(() => " --- |").join("")}`,
    ...[...byName.values()].map((d) => {
      const sev = [...new Set(defs.filter((x) => x.name === d.name).map((x) => x.severity))].join(", ");
      return `| ${d.name} | ${sev} | ${d.summary} | ${envs.map((e) => `[${e.name}](${e.name}/${runbookFileName(d.name)})`).join(" | ")} |`;
    }),
    "",
    "## Procedures",
    "",
    ...PROCEDURES.map((p) => `- [${p}](procedures/${p}.md)`),
    "",
  ].join("\n");
}

/** runbooks/environments.md: every environment's hosts, and the shell variables the procedures use. */
export function renderEnvironmentsPage(): string {
  return [
    "<!-- Generated by runbooks/generate.ts from Pulumi.<stack>.yaml (model/environments.ts). -->",
    "# Environments",
    "",
    "The procedures in `procedures/` use `$ENV`, `$API`, `$GRAFANA`, `$NAMESPACE` and `$AWS_REGION`. Set them for the environment you work on by pasting its block below.",
    "",
    environmentTable(),
    "",
    environmentDetails(),
  ].join("\n");
}
