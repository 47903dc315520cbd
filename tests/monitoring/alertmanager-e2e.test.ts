/**
 * End to end: a real Alertmanager (/usr/bin/prometheus-alertmanager) on a loopback port, with
 * the rendered config pointed at a local stand-in for the PagerDuty Events API v2 and Slack.
 * A critical alert built from the rendered ApiHighErrorRate rule must reach PagerDuty with the
 * routing key read from file, the runbook/dashboard links and a stable dedup key (trigger, then
 * resolve with the same key), and continue to Slack; a warning must not page.
 */
import { spawn } from "node:child_process";
import { environment } from "../../model/environments.js";
import type { ChildProcess } from "node:child_process";
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { alertmanagerConfig } from "../../alerts/alertmanager.js";
import { ruleGroups } from "../../alerts/rules/index.js";
import type { AlertingRule } from "../../alerts/rules/index.js";
import { freePort } from "../helpers/processes.js";
import { waitFor as waitUntil } from "../helpers/wait.js";
import { tempDir, writeFiles } from "./helpers.js";

const ALERTMANAGER = "/usr/bin/prometheus-alertmanager";
const ROUTING_KEY = "R0UT1NGKEY-from-file-0123456789ab";

interface Received {
  path: string;
  authorization: string | undefined;
  body: Record<string, unknown>;
}

const received: Received[] = [];
let standIn: Server;
let am: ChildProcess | undefined;
let amUrl = "";
let amLog = "";

/** Waits like every test does, and on time-out shows what Alertmanager logged. */
function waitFor<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  return waitUntil(what, fn, timeoutMs, 200, true).catch((err: Error) => {
    throw new Error(`${err.message}; alertmanager log:\n${amLog.slice(-3000)}`);
  });
}

const rule = (name: string, severity: string): AlertingRule => {
  const r = ruleGroups(environment("prod"))
    .flatMap((g) => g.rules)
    .find((x): x is AlertingRule => "alert" in x && x.alert === name && x.labels?.severity === severity);
  if (!r) throw new Error(`no rule ${name}/${severity}`);
  return r;
};

async function postAlerts(alerts: { rule: AlertingRule; endsAt?: Date }[]): Promise<void> {
  const body = alerts.map(({ rule: r, endsAt }) => ({
    labels: { alertname: r.alert, namespace: "product-platform", ...r.labels },
    annotations: { ...r.annotations, description: "rendered in the e2e test" },
    startsAt: new Date(Date.now() - 60_000).toISOString(),
    ...(endsAt ? { endsAt: endsAt.toISOString() } : {}),
  }));
  const res = await fetch(`${amUrl}/api/v2/alerts`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
}

beforeAll(async () => {
  standIn = createServer((req, res) => {
    let data = "";
    req.on("data", (c: Buffer) => (data += c.toString()));
    req.on("end", () => {
      try {
        received.push({ path: req.url ?? "", authorization: req.headers.authorization, body: JSON.parse(data) as Record<string, unknown> });
      } catch {
        received.push({ path: req.url ?? "", authorization: req.headers.authorization, body: { raw: data } });
      }
      const pd = (req.url ?? "").startsWith("/v2/enqueue");
      res.writeHead(pd ? 202 : 200, { "content-type": "application/json" });
      res.end(pd ? JSON.stringify({ status: "success", message: "Event processed" }) : "ok");
    });
  });
  await new Promise<void>((resolve) => standIn.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(standIn.address() as AddressInfo).port}`;

  const dir = await tempDir("am-e2e");
  const secretFiles = {
    pagerdutyRoutingKey: join(dir, "secrets/pagerduty-routing-key"),
    slackWebhookUrl: join(dir, "secrets/slack-webhook-url"),
    smtpPassword: join(dir, "secrets/smtp-password"),
    heartbeatToken: join(dir, "secrets/heartbeat-token"),
  };
  const config = alertmanagerConfig(environment("prod"), { pagerdutyUrl: `${base}/v2/enqueue`, heartbeatUrl: `${base}/heartbeat`, secretFiles, groupWait: "1s", groupInterval: "2s" });
  await writeFiles(dir, {
    "secrets/pagerduty-routing-key": ROUTING_KEY,
    "secrets/slack-webhook-url": `${base}/slack`,
    "secrets/smtp-password": "unused",
    "secrets/heartbeat-token": "hb-token",
    "alertmanager.yaml": stringify(config),
  });
  const port = await freePort();
  amUrl = `http://127.0.0.1:${port}`;
  am = spawn(ALERTMANAGER, [
    `--config.file=${join(dir, "alertmanager.yaml")}`,
    `--storage.path=${join(dir, "data")}`,
    `--web.listen-address=127.0.0.1:${port}`,
    "--cluster.listen-address=",
    "--log.level=debug",
  ]);
  am.stdout?.on("data", (c: Buffer) => (amLog += c.toString()));
  am.stderr?.on("data", (c: Buffer) => (amLog += c.toString()));
  await waitFor("alertmanager ready", async () => (await fetch(`${amUrl}/-/ready`)).ok || undefined);
}, 60_000);

afterAll(async () => {
  if (am && am.exitCode === null) {
    am.kill("SIGTERM");
    await new Promise((r) => am?.once("exit", r));
  }
  await new Promise<void>((resolve) => standIn?.close(() => resolve()));
});

describe("Alertmanager end to end", () => {
  it("pages PagerDuty with the key from file, links and a stable dedup key; continues to Slack; warnings do not page", { timeout: 60_000 }, async () => {
    const critical = rule("ApiHighErrorRate", "critical");
    const warning = rule("NodeHighCpu", "warning");
    await postAlerts([{ rule: critical }, { rule: warning }]);

    const trigger = await waitFor("PagerDuty trigger", () => received.find((r) => r.path === "/v2/enqueue" && r.body.event_action === "trigger"));
    expect(trigger.body.routing_key).toBe(ROUTING_KEY);
    const dedupKey = trigger.body.dedup_key as string;
    expect(dedupKey).toMatch(/^[0-9a-f]{64}$/);
    const links = trigger.body.links as { href: string; text: string }[];
    expect(links).toEqual([
      { href: critical.annotations?.runbook_url, text: "Runbook" },
      { href: critical.annotations?.dashboard_url, text: "Dashboard" },
    ]);
    const payload = trigger.body.payload as { summary: string; severity: string; custom_details: Record<string, string> };
    expect(payload.severity).toBe("critical");
    expect(payload.summary).toBe(`ApiHighErrorRate: ${critical.annotations?.summary}`);

    await waitFor("Slack notification of the critical alert", () => received.find((r) => r.path === "/slack" && JSON.stringify(r.body).includes("ApiHighErrorRate")));
    await waitFor("Slack notification of the warning", () => received.find((r) => r.path === "/slack" && JSON.stringify(r.body).includes("NodeHighCpu")));

    await postAlerts([{ rule: critical, endsAt: new Date(Date.now() - 1000) }]);
    const resolve = await waitFor("PagerDuty resolve", () => received.find((r) => r.path === "/v2/enqueue" && r.body.event_action === "resolve"));
    expect(resolve.body.dedup_key).toBe(dedupKey);
    expect(resolve.body.routing_key).toBe(ROUTING_KEY);

    const paged = received.filter((r) => r.path === "/v2/enqueue").map((r) => (r.body.payload as { summary?: string } | undefined)?.summary ?? "");
    expect(paged.some((s) => s.includes("NodeHighCpu"))).toBe(false);
  });

  it("sends the Watchdog to the heartbeat receiver with the bearer token read from file, and never pages it", { timeout: 60_000 }, async () => {
    await postAlerts([{ rule: rule("Watchdog", "none") }]);
    const beat = await waitFor("heartbeat", () => received.find((r) => r.path === "/heartbeat"));
    expect(beat.authorization).toBe("Bearer hb-token");
    expect(JSON.stringify(beat.body)).toContain("Watchdog");
    expect(received.filter((r) => r.path !== "/heartbeat").some((r) => JSON.stringify(r.body).includes("Watchdog"))).toBe(false);
  });
});
