/**
 * A real Alertmanager (/usr/bin/prometheus-alertmanager) on a free loopback port, running the
 * rendered config of one environment, pointed at a local stand-in that speaks the PagerDuty
 * Events API v2 (`POST /v2/enqueue`, 202) and a Slack incoming webhook (`POST /slack`), plus the
 * heartbeat receiver. Everything the stand-in receives is recorded, in order.
 */
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { stringify } from "yaml";
import type { EnvironmentModel } from "../../model/environments.js";
import { MAINTENANCE_WINDOW, alertmanagerConfig } from "../../alerts/alertmanager.js";
import { withMaintenanceWindowElsewhere } from "../../scripts/local/monitoring-config.js";
import type { AlertmanagerRenderOptions } from "../../alerts/alertmanager.js";
import { ruleGroups } from "../../alerts/rules/index.js";
import type { AlertingRule } from "../../alerts/rules/index.js";
import { freePort, startProcess } from "../helpers/processes.js";
import { waitFor as waitUntil } from "../helpers/wait.js";
import { tempDir, writeFiles } from "./helpers.js";

export const ALERTMANAGER = "/usr/bin/prometheus-alertmanager";
export const ROUTING_KEY = "R0UT1NGKEY-from-file-0123456789ab";
export const PAGERDUTY_PATH = "/v2/enqueue";
export const SLACK_PATH = "/slack";

export interface Received {
  path: string;
  authorization: string | undefined;
  body: Record<string, unknown>;
}

/** The parts of a PagerDuty Events API v2 event the tests read. */
export interface PagerdutyEvent {
  routing_key: string;
  dedup_key: string;
  event_action: "trigger" | "resolve" | "acknowledge";
  links?: { href: string; text: string }[];
  payload: { summary: string; severity: string; custom_details: Record<string, string> };
}

export interface PostedAlert {
  readonly rule: AlertingRule;
  /** Extra labels, as the expression would yield them. */
  readonly labels?: Readonly<Record<string, string>>;
  readonly endsAt?: Date;
}

export interface AlertmanagerHarness {
  readonly url: string;
  /** Everything the stand-in received, in arrival order. */
  readonly received: Received[];
  readonly pagerdutyEvents: () => PagerdutyEvent[];
  readonly slackMessages: () => Received[];
  post(alerts: readonly PostedAlert[]): Promise<void>;
  /** What Alertmanager logged (the tail), for failure messages. */
  log(): string;
  /** Waits like every test does; on time-out the error shows what Alertmanager logged. */
  waitFor<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
}

/** One rendered alerting rule of an environment, by name and severity. */
export function renderedRule(env: EnvironmentModel, name: string, severity: string): AlertingRule {
  const r = ruleGroups(env)
    .flatMap((g) => g.rules)
    .find((x): x is AlertingRule => "alert" in x && x.alert === name && x.labels?.severity === severity);
  if (!r) throw new Error(`no rule ${name}/${severity} in ${env.name}`);
  return r;
}

export async function startAlertmanager(env: EnvironmentModel, options: Omit<AlertmanagerRenderOptions, "pagerdutyUrl" | "heartbeatUrl" | "secretFiles"> = {}): Promise<AlertmanagerHarness> {
  const received: Received[] = [];
  const standIn: Server = createServer((req, res) => {
    let data = "";
    req.on("data", (c: Buffer) => (data += c.toString()));
    req.on("end", () => {
      try {
        received.push({ path: req.url ?? "", authorization: req.headers.authorization, body: JSON.parse(data) as Record<string, unknown> });
      } catch {
        received.push({ path: req.url ?? "", authorization: req.headers.authorization, body: { raw: data } });
      }
      const pd = (req.url ?? "").startsWith(PAGERDUTY_PATH);
      res.writeHead(pd ? 202 : 200, { "content-type": "application/json" });
      res.end(pd ? JSON.stringify({ status: "success", message: "Event processed" }) : "ok");
    });
  });
  await new Promise<void>((resolve) => standIn.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(standIn.address() as AddressInfo).port}`;

  const dir = await tempDir(`am-${env.name}`);
  const secretFiles = {
    pagerdutyRoutingKey: join(dir, "secrets/pagerduty-routing-key"),
    slackWebhookUrl: join(dir, "secrets/slack-webhook-url"),
    smtpPassword: join(dir, "secrets/smtp-password"),
    heartbeatToken: join(dir, "secrets/heartbeat-token"),
  };
  // The maintenance window moved off the current time: these tests expect warnings in Slack
  // whenever they run (inside the real window, Sunday 02:00-04:00 UTC, they were muted). The
  // window itself is tested on the rendered config (alertmanager.test.ts) and in test:e2e.
  const rendered = alertmanagerConfig(env, { groupWait: "1s", groupInterval: "2s", ...options, pagerdutyUrl: `${base}${PAGERDUTY_PATH}`, heartbeatUrl: `${base}/heartbeat`, secretFiles });
  const config = withMaintenanceWindowElsewhere(rendered, new Date(), MAINTENANCE_WINDOW.name);
  await writeFiles(dir, {
    "secrets/pagerduty-routing-key": ROUTING_KEY,
    "secrets/slack-webhook-url": `${base}${SLACK_PATH}`,
    "secrets/smtp-password": "unused",
    "secrets/heartbeat-token": "hb-token",
    "alertmanager.yaml": stringify(config),
  });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const am = startProcess(ALERTMANAGER, [
    `--config.file=${join(dir, "alertmanager.yaml")}`,
    `--storage.path=${join(dir, "data")}`,
    `--web.listen-address=127.0.0.1:${port}`,
    "--cluster.listen-address=",
    "--log.level=debug",
  ]);
  const stop = async () => {
    await am.stop();
    await new Promise<void>((resolve) => standIn.close(() => resolve()));
  };
  const waitFor = <T>(what: string, fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> =>
    waitUntil(what, fn, timeoutMs, 100, true).catch((err: Error) => {
      throw new Error(`${err.message}; alertmanager log:\n${am.output().slice(-3000)}`);
    });
  try {
    await waitFor("alertmanager ready", async () => (await fetch(`${url}/-/ready`)).ok || undefined);
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    url,
    received,
    pagerdutyEvents: () => received.filter((r) => r.path === PAGERDUTY_PATH).map((r) => r.body as unknown as PagerdutyEvent),
    slackMessages: () => received.filter((r) => r.path === SLACK_PATH),
    async post(alerts) {
      const body = alerts.map(({ rule: r, labels, endsAt }) => ({
        labels: { alertname: r.alert, ...labels, ...r.labels },
        annotations: { ...r.annotations, description: "rendered in the e2e test" },
        // Now, as Prometheus sends an alert when it starts firing (Alertmanager flushes a new group at
        // once, without group_wait, for an alert that started more than group_wait ago); a resolved
        // alert started before it ended.
        startsAt: new Date(endsAt ? endsAt.getTime() - 60_000 : Date.now()).toISOString(),
        ...(endsAt ? { endsAt: endsAt.toISOString() } : {}),
      }));
      const res = await fetch(`${url}/api/v2/alerts`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      if (res.status !== 200) throw new Error(`POST /api/v2/alerts: ${res.status} ${await res.text()}`);
    },
    waitFor,
    log: () => am.output(),
    stop,
  };
}
