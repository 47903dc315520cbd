/**
 * Alertmanager routing, rendered to alertmanager.yaml and deployed by infra as-is.
 *
 * - critical -> PagerDuty (Events API v2) and continues to Slack (#incidents); in an
 *   environment that pages to Slack (model: monitoring.pages = slack, dev and staging), only Slack
 *   (#incidents-<env>). Both critical routes group by the `incident` label alone
 *   (alerts/incidents.ts): the alerts that share a cause are one group, so one PagerDuty incident
 *   (its dedup key is derived from the group) and one Slack message, naming every alert in it.
 * - warning  -> Slack (#alerts; team="admins" goes to the admins' channel), muted during the
 *   Sunday 02:00-04:00 UTC maintenance window. Pages are never muted.
 * - Watchdog -> heartbeat receiver (dead man's switch); severity info/none is otherwise not routed.
 * - The daily summary is not Alertmanager's: it has no scheduler and forgets what resolved. The
 *   digest CronJob (ops/digest.ts) reads 24 hours of ALERTS from Prometheus and mails what fired,
 *   what resolved, for how long, and the noisiest alerts; Alertmanager sends no email.
 * Every secret is read from a file mounted at /etc/alertmanager/secrets/ (ALERTMANAGER_SECRET_FILES).
 */
import type { EnvironmentModel } from "../model/environments.js";
import type { AlertmanagerConfig, AlertmanagerRoute, Receiver } from "./alertmanager-types.js";
import { SEVERITY, TEAM_LABEL, TEAMS } from "./severity.js";
import { CRITICAL_GROUP_BY, INCIDENT_LABEL } from "./incidents.js";

export type { AlertmanagerConfig } from "./alertmanager-types.js";

/** Directory infra mounts the Kubernetes secret into. */
export const ALERTMANAGER_SECRETS_DIR = "/etc/alertmanager/secrets";

/**
 * Secret name -> file path. Infra creates one secret with these keys (the file names) and mounts
 * it into Alertmanager; the SMTP password in it is the digest CronJob's (Alertmanager sends no email).
 */
export const ALERTMANAGER_SECRET_FILES = {
  pagerdutyRoutingKey: `${ALERTMANAGER_SECRETS_DIR}/pagerduty-routing-key`,
  slackWebhookUrl: `${ALERTMANAGER_SECRETS_DIR}/slack-webhook-url`,
  smtpPassword: `${ALERTMANAGER_SECRETS_DIR}/smtp-password`,
  heartbeatToken: `${ALERTMANAGER_SECRETS_DIR}/heartbeat-token`,
} as const satisfies Record<string, string>;
export type AlertmanagerSecretName = keyof typeof ALERTMANAGER_SECRET_FILES;

/** The secret files an environment's config reads: no PagerDuty routing key where nobody is paged. */
export function alertmanagerSecretNames(env: EnvironmentModel): AlertmanagerSecretName[] {
  return (Object.keys(ALERTMANAGER_SECRET_FILES) as AlertmanagerSecretName[]).filter((n) => n !== "pagerdutyRoutingKey" || env.monitoring.pages === "pagerduty");
}

export const RECEIVERS = {
  pagerduty: "pagerduty-critical",
  slackCritical: "slack-critical",
  slackWarnings: "slack-warnings",
  slackAdmins: "slack-admins",
  heartbeat: "heartbeat",
  blackhole: "blackhole",
} as const;
export type ReceiverName = (typeof RECEIVERS)[keyof typeof RECEIVERS];

/** The maintenance window: Sunday 02:00-04:00 UTC. Mutes warnings only. */
export const MAINTENANCE_WINDOW = {
  name: "weekly-maintenance",
  weekday: "sunday",
  startTime: "02:00",
  endTime: "04:00",
  location: "UTC",
} as const;

/**
 * Labels warnings (and anything not critical) are grouped by: one chat message per alert name.
 * Critical routes group by CRITICAL_GROUP_BY instead: one page per incident.
 */
export const GROUP_BY = ["alertname", "namespace", "severity"] as const;

/**
 * The alert names of a list of alerts (`.Alerts`, `.Alerts.Firing`), comma-separated, each once
 * when its alerts are adjacent (Alertmanager sorts a group's alerts by their labels).
 */
const alertNames = (list: string): string =>
  `{{ $prev := "" }}{{ range ${list} }}{{ if ne .Labels.alertname $prev }}{{ if $prev }}, {{ end }}{{ .Labels.alertname }}{{ $prev = .Labels.alertname }}{{ end }}{{ end }}`;
/** The firing alerts' names, or, in a notification that resolves the group, the resolved ones'. */
const groupAlertNames = `{{ if .Alerts.Firing }}${alertNames(".Alerts.Firing")}{{ else }}${alertNames(".Alerts")}{{ end }}`;
/** What a notification is about: the incident and every alert in it, or (grouped by alertname) the alert. */
const groupTitle = `{{ if .GroupLabels.${INCIDENT_LABEL} }}{{ .GroupLabels.${INCIDENT_LABEL} }}: ${groupAlertNames}{{ else }}{{ .GroupLabels.alertname }}{{ end }}`;
/** An annotation of the first firing alert (or, when all resolved, the first alert): the PagerDuty links. */
const firstAnnotation = (name: string): string => `{{ with .Alerts.Firing }}{{ (index . 0).Annotations.${name} }}{{ else }}{{ (index .Alerts 0).Annotations.${name} }}{{ end }}`;

export interface AlertmanagerRenderOptions {
  /** Override the PagerDuty Events API v2 URL (tests point it to a local stand-in). */
  readonly pagerdutyUrl?: string;
  /** Override the heartbeat URL (tests). */
  readonly heartbeatUrl?: string;
  /** Override secret file paths (tests write their own files). */
  readonly secretFiles?: Readonly<Record<AlertmanagerSecretName, string>>;
  /** Shorter timings for tests (root route; routes with their own timings keep them). */
  readonly groupWait?: string;
  readonly groupInterval?: string;
}

const m = (label: string, op: "=" | "=~" | "!=", value: string): string => `${label}${op}${JSON.stringify(value)}`;

export function alertmanagerConfig(env: EnvironmentModel, options: AlertmanagerRenderOptions = {}): AlertmanagerConfig {
  const cfg = env.monitoring;
  const pages = cfg.pages === "pagerduty";
  const secrets = options.secretFiles ?? ALERTMANAGER_SECRET_FILES;
  const sev = (s: string): string => m("severity", "=", s);

  const routes: AlertmanagerRoute[] = [
    // Dead man's switch: always firing, re-sent every minute so the heartbeat service sees it.
    { matchers: [m("alertname", "=", "Watchdog")], receiver: RECEIVERS.heartbeat, group_wait: "0s", group_interval: "1m", repeat_interval: "1m" },
    // One incident, one page: the critical routes group by incident only (alerts/incidents.ts).
    ...(pages ? [{ matchers: [sev(SEVERITY.critical)], receiver: RECEIVERS.pagerduty, group_by: [...CRITICAL_GROUP_BY], continue: true }] : []),
    { matchers: [sev(SEVERITY.critical)], receiver: RECEIVERS.slackCritical, group_by: [...CRITICAL_GROUP_BY], continue: true },
    {
      matchers: [sev(SEVERITY.warning), m(TEAM_LABEL, "=", TEAMS.admins)],
      receiver: RECEIVERS.slackAdmins,
      mute_time_intervals: [MAINTENANCE_WINDOW.name],
      continue: true,
    },
    {
      matchers: [sev(SEVERITY.warning), m(TEAM_LABEL, "!=", TEAMS.admins)],
      receiver: RECEIVERS.slackWarnings,
      mute_time_intervals: [MAINTENANCE_WINDOW.name],
      continue: true,
    },
    // info / none: visible in Alertmanager's UI, not notified. An alert without severity falls to the default (Slack) so the mistake is seen.
    { matchers: [m("severity", "=~", `${SEVERITY.info}|${SEVERITY.none}`)], receiver: RECEIVERS.blackhole },
  ];

  // An incident's alerts differ in their annotations: the links are the first firing alert's, and
  // every alert's runbook is in the details.
  const pagerdutyLinks = [
    { href: firstAnnotation("runbook_url"), text: "Runbook" },
    { href: firstAnnotation("dashboard_url"), text: "Dashboard" },
  ];

  const slackText =
    '{{ range .Alerts }}*{{ .Labels.alertname }}* ({{ .Status }}): *{{ .Annotations.summary }}*\n{{ .Annotations.description }}\nRunbook: {{ .Annotations.runbook_url }}\n{{ if .Annotations.dashboard_url }}Dashboard: {{ .Annotations.dashboard_url }}\n{{ end }}{{ end }}';
  const slackTitle = `[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] ${groupTitle} ({{ .CommonLabels.severity }})`;
  const slack = (channel: string): Receiver["slack_configs"] => [
    { api_url_file: secrets.slackWebhookUrl, channel, send_resolved: true, title: slackTitle, title_link: firstAnnotation("runbook_url"), text: slackText },
  ];

  const pagerduty: Receiver[] = [
    {
      name: RECEIVERS.pagerduty,
      pagerduty_configs: [
        {
          routing_key_file: secrets.pagerdutyRoutingKey,
          ...(options.pagerdutyUrl ? { url: options.pagerdutyUrl } : {}),
          send_resolved: true,
          severity: "{{ .CommonLabels.severity }}",
          // PagerDuty's summary (the incident title): the incident and every alert that fired in it.
          description: groupTitle,
          client: `Alertmanager (${env.name})`,
          links: pagerdutyLinks,
          details: {
            environment: env.name,
            namespace: env.namespace,
            incident: `{{ .GroupLabels.${INCIDENT_LABEL} }}`,
            firing: "{{ .Alerts.Firing | len }}",
            alerts: "{{ range .Alerts.Firing }}{{ .Labels.alertname }}: {{ .Annotations.description }} Runbook: {{ .Annotations.runbook_url }}\n{{ end }}",
          },
        },
      ],
    },
  ];
  const receivers: Receiver[] = [
    ...(pages ? pagerduty : []),
    { name: RECEIVERS.slackCritical, slack_configs: slack(cfg.slack.critical) },
    { name: RECEIVERS.slackWarnings, slack_configs: slack(cfg.slack.alerts) },
    { name: RECEIVERS.slackAdmins, slack_configs: slack(cfg.slack.admins) },
    {
      name: RECEIVERS.heartbeat,
      webhook_configs: [
        {
          url: options.heartbeatUrl ?? cfg.heartbeatUrl,
          send_resolved: false,
          http_config: { authorization: { type: "Bearer", credentials_file: secrets.heartbeatToken } },
        },
      ],
    },
    { name: RECEIVERS.blackhole },
  ];

  return {
    global: {
      resolve_timeout: "5m",
    },
    route: {
      receiver: RECEIVERS.slackWarnings,
      group_by: [...GROUP_BY],
      group_wait: options.groupWait ?? "30s",
      group_interval: options.groupInterval ?? "5m",
      repeat_interval: "4h",
      routes,
    },
    receivers,
    inhibit_rules: [
      {
        source_matchers: [sev(SEVERITY.critical)],
        target_matchers: [sev(SEVERITY.warning)],
        equal: ["alertname", "namespace"],
      },
    ],
    time_intervals: [
      {
        name: MAINTENANCE_WINDOW.name,
        time_intervals: [
          {
            weekdays: [MAINTENANCE_WINDOW.weekday],
            times: [{ start_time: MAINTENANCE_WINDOW.startTime, end_time: MAINTENANCE_WINDOW.endTime }],
            location: MAINTENANCE_WINDOW.location,
          },
        ],
      },
    ],
  };
}
