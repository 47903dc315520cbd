/**
 * End to end: a real Alertmanager (/usr/bin/prometheus-alertmanager) on a loopback port, with
 * the rendered config pointed at a local stand-in for the PagerDuty Events API v2 and Slack
 * (tests/monitoring/alertmanager-harness.ts). A critical alert built from the rendered
 * ApiHighErrorRate rule must reach PagerDuty with the routing key read from file, the
 * runbook/dashboard links and a stable dedup key (trigger, then resolve with the same key), and
 * continue to Slack; a warning must not page.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { environment } from "../../model/environments.js";
import { ROUTING_KEY, renderedRule, startAlertmanager } from "./alertmanager-harness.js";
import type { AlertmanagerHarness } from "./alertmanager-harness.js";

const env = environment("prod");
const rule = (name: string, severity: string) => renderedRule(env, name, severity);
let am: AlertmanagerHarness;

beforeAll(async () => {
  am = await startAlertmanager(env);
}, 60_000);

afterAll(async () => {
  await am?.stop();
});

describe("Alertmanager end to end", () => {
  it("pages PagerDuty with the key from file, links and a stable dedup key; continues to Slack; warnings do not page", { timeout: 60_000 }, async () => {
    const critical = rule("ApiHighErrorRate", "critical");
    const warning = rule("NodeHighCpu", "warning");
    await am.post([{ rule: critical }, { rule: warning }]);

    const trigger = await am.waitFor("PagerDuty trigger", () => am.pagerdutyEvents().find((e) => e.event_action === "trigger"));
    expect(trigger.routing_key).toBe(ROUTING_KEY);
    const dedupKey = trigger.dedup_key;
    expect(dedupKey).toMatch(/^[0-9a-f]{64}$/);
    expect(trigger.links).toEqual([
      { href: critical.annotations?.runbook_url, text: "Runbook" },
      { href: critical.annotations?.dashboard_url, text: "Dashboard" },
    ]);
    expect(trigger.payload.severity).toBe("critical");
    expect(trigger.payload.summary).toBe(`${critical.labels?.incident}: ApiHighErrorRate`);
    expect(trigger.payload.custom_details.alerts).toContain(`ApiHighErrorRate: rendered in the e2e test Runbook: ${critical.annotations?.runbook_url}`);

    await am.waitFor("Slack notification of the critical alert", () => am.slackMessages().find((r) => JSON.stringify(r.body).includes("ApiHighErrorRate")));
    await am.waitFor("Slack notification of the warning", () => am.slackMessages().find((r) => JSON.stringify(r.body).includes("NodeHighCpu")));

    await am.post([{ rule: critical, endsAt: new Date(Date.now() - 1000) }]);
    const resolve = await am.waitFor("PagerDuty resolve", () => am.pagerdutyEvents().find((e) => e.event_action === "resolve"));
    expect(resolve.dedup_key).toBe(dedupKey);
    expect(resolve.routing_key).toBe(ROUTING_KEY);

    expect(am.pagerdutyEvents().some((e) => e.payload.summary.includes("NodeHighCpu"))).toBe(false);
  });

  it("sends the Watchdog to the heartbeat receiver with the bearer token read from file, and never pages it", { timeout: 60_000 }, async () => {
    await am.post([{ rule: rule("Watchdog", "none") }]);
    const beat = await am.waitFor("heartbeat", () => am.received.find((r) => r.path === "/heartbeat"));
    expect(beat.authorization).toBe("Bearer hb-token");
    expect(JSON.stringify(beat.body)).toContain("Watchdog");
    expect(am.received.filter((r) => r.path !== "/heartbeat").some((r) => JSON.stringify(r.body).includes("Watchdog"))).toBe(false);
  });
});
