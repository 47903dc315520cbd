/**
 * The environments as a Markdown table, rendered from the model: the README's "Environments"
 * section and runbooks/environments.md show exactly this, and tests compare them with it.
 */
import { environments } from "./environments.js";
import type { EnvironmentModel } from "./environments.js";

function pagesTo(env: EnvironmentModel): string {
  if (env.monitoring.pages === "slack") return `Slack ${env.monitoring.slack.critical} (no page)`;
  return env.ownsPagerDutyService ? "PagerDuty (own service) + Slack" : `PagerDuty (${env.primary}'s service) + Slack`;
}

/** One row per environment: what an operator needs to find it and to know who hears its alerts. */
export function environmentTable(): string {
  const rows = environments().map((e) =>
    [
      `\`${e.name}\``,
      e.role === "standby" ? `standby of \`${e.primary}\`` : "primary",
      e.region,
      e.urls.api,
      e.urls.frontendProbe.replace(/\/$/, ""),
      e.monitoring.grafanaUrl,
      pagesTo(e),
      `${e.monitoring.slack.alerts}, ${e.monitoring.slack.critical}, ${e.monitoring.slack.admins}`,
    ].join(" | "),
  );
  return [
    "| Environment (stack) | Role | Region | API | Frontend | Grafana | Critical alerts | Slack (warnings, incidents, admins) |",
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ...rows.map((r) => `| ${r} |`),
  ].join("\n");
}

/** The table with the other per-environment values procedures refer to. */
export function environmentDetails(): string {
  return environments()
    .map((e) =>
      [
        `## ${e.name}`,
        "",
        "```bash",
        `export ENV=${e.name}`,
        `export AWS_REGION=${e.region}`,
        `export API=${e.urls.api}`,
        `export GRAFANA=${e.monitoring.grafanaUrl}`,
        `export NAMESPACE=${e.namespace}`,
        `pulumi stack select ${e.name}`,
        "```",
        "",
      ].join("\n"),
    )
    .join("\n");
}
