/**
 * One incident, one page, through the real Alertmanager: ~6% HTTP 5xx at 10 requests/s fires
 * ApiHighErrorRate, ApiHttp500Burst and ApiAvailabilityErrorBudgetBurn at once. Posted together
 * (built from the rendered rules), they must reach the PagerDuty stand-in as ONE trigger whose
 * summary and details name all three, and the critical Slack channel as one message. A related
 * alert joining later updates the same incident (same dedup key); the resolve carries it too.
 * Where nobody is paged (dev, staging) the same three are one Slack message and no PagerDuty event.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { environment } from "../../model/environments.js";
import type { EnvironmentName } from "../../model/environments.js";
import { INCIDENTS } from "../../alerts/incidents.js";
import { renderedRule, startAlertmanager } from "./alertmanager-harness.js";
import type { AlertmanagerHarness, PostedAlert } from "./alertmanager-harness.js";

/** The three alerts a 6% error ratio at 10 req/s fires (tests/monitoring/fault-shapes.test.ts shows it). */
const SIX_PERCENT = ["ApiHighErrorRate", "ApiHttp500Burst", "ApiAvailabilityErrorBudgetBurn"] as const;
/**
 * Alertmanager waits group_wait (30 s in production) for the alerts of a new group before the first
 * notification; the alerts are posted in one request, so 3 s covers a loaded machine.
 */
const GROUP_WAIT = "3s";
const GROUP_INTERVAL_MS = 2000;
const timings = { groupWait: GROUP_WAIT, groupInterval: `${GROUP_INTERVAL_MS / 1000}s` };

/** Waits long enough for any further notification of the same groups to have been sent. */
const settle = () => new Promise((r) => setTimeout(r, 3 * GROUP_INTERVAL_MS));

/** Channel and title of every Slack message, for a failure message. */
const slackTitles = (am: AlertmanagerHarness): string =>
  JSON.stringify(am.slackMessages().map((m) => `${String(m.body.channel)}: ${(m.body.attachments as { title?: string }[] | undefined)?.[0]?.title ?? ""}`));

function critical(envName: EnvironmentName, names: readonly string[]): PostedAlert[] {
  return names.map((n) => ({ rule: renderedRule(environment(envName), n, "critical") }));
}

describe("one incident, one page (prod)", () => {
  let am: AlertmanagerHarness;
  const env = environment("prod");
  beforeAll(async () => {
    am = await startAlertmanager(env, timings);
  }, 60_000);
  afterAll(async () => {
    await am?.stop();
  });

  it("pages once for the three alerts of a 6% error ratio, names each of them, and keeps the dedup key while the fault lasts", { timeout: 90_000 }, async () => {
    await am.post(critical("prod", SIX_PERCENT));
    await am.waitFor("the PagerDuty trigger", () => am.pagerdutyEvents().find((e) => e.event_action === "trigger"));
    await am.waitFor("the Slack message in the critical channel", () => am.slackMessages().find((m) => m.body.channel === env.monitoring.slack.critical));
    await settle();

    const triggers = am.pagerdutyEvents().filter((e) => e.event_action === "trigger");
    process.stdout.write(`PagerDuty trigger notifications for ${SIX_PERCENT.join(", ")}: ${triggers.length}\n`);
    expect(triggers.length).toBe(1);
    const page = triggers[0]!;
    for (const name of SIX_PERCENT) {
      expect(page.payload.summary).toContain(name);
      expect(JSON.stringify(page.payload.custom_details)).toContain(`${name}: rendered in the e2e test`);
    }
    expect(page.payload.custom_details.firing).toBe("3");
    expect(am.slackMessages().filter((m) => m.body.channel === env.monitoring.slack.critical).length, slackTitles(am)).toBe(1);

    // The fault goes on and a related alert joins: the same incident is updated, not a new one opened.
    await am.post([...critical("prod", SIX_PERCENT), ...critical("prod", ["ApiUnavailable"])]);
    const update = await am.waitFor("the updated trigger", () => am.pagerdutyEvents().filter((e) => e.event_action === "trigger")[1]);
    expect(update.dedup_key).toBe(page.dedup_key);
    expect(update.payload.summary).toContain("ApiUnavailable");
    expect(update.payload.custom_details.firing).toBe("4");

    const ended = new Date(Date.now() - 1000);
    await am.post([...critical("prod", SIX_PERCENT), ...critical("prod", ["ApiUnavailable"])].map((a) => ({ ...a, endsAt: ended })));
    const resolve = await am.waitFor("the PagerDuty resolve", () => am.pagerdutyEvents().find((e) => e.event_action === "resolve"));
    expect(resolve.dedup_key).toBe(page.dedup_key);
    await settle();
    expect(new Set(am.pagerdutyEvents().map((e) => e.dedup_key))).toEqual(new Set([page.dedup_key]));
  });
});

describe("the database down: one page for the outage and what follows it (prod)", () => {
  let am: AlertmanagerHarness;
  const env = environment("prod");
  beforeAll(async () => {
    am = await startAlertmanager(env, timings);
  }, 60_000);
  afterAll(async () => {
    await am?.stop();
  });

  it("pages once, naming each alert once however many of its series fire", { timeout: 60_000 }, async () => {
    const rule = (name: string) => renderedRule(env, name, "critical");
    await am.post([
      { rule: rule("DatabaseConnectionFailed"), labels: { job: "api" } },
      { rule: rule("DatabaseConnectionFailed"), labels: { job: "worker" } },
      { rule: rule("ApiUnavailable") },
      { rule: rule("ApiHighErrorRate") },
      ...["worker-import", "worker-translation", "worker-image", "worker-push"].map((deployment) => ({ rule: rule("JobWorkersUnavailable"), labels: { namespace: env.namespace, deployment } })),
    ]);
    await am.waitFor("the PagerDuty trigger", () => am.pagerdutyEvents().find((e) => e.event_action === "trigger"));
    await settle();
    const triggers = am.pagerdutyEvents().filter((e) => e.event_action === "trigger");
    process.stdout.write(`PagerDuty trigger notifications for the database outage's alerts: ${triggers.length}\n`);
    expect(triggers.length, JSON.stringify(triggers.map((t) => [t.dedup_key, t.payload.summary, t.payload.custom_details.firing])) + am.log().split("\n").filter((l) => /flush|Received alert|aggrGroup/i.test(l)).join("\n")).toBe(1);
    const summary = triggers[0]!.payload.summary;
    expect(summary.startsWith(`${INCIDENTS.productService}: `), summary).toBe(true);
    const named = summary.slice(`${INCIDENTS.productService}: `.length).split(", ");
    expect([...named].sort()).toEqual(["ApiHighErrorRate", "ApiUnavailable", "DatabaseConnectionFailed", "JobWorkersUnavailable"]);
    expect(triggers[0]!.payload.custom_details.firing).toBe("8");
  });
});

describe.each(["dev", "staging"] as const)("one incident, one message where nobody is paged (%s)", (name) => {
  let am: AlertmanagerHarness;
  const env = environment(name);
  beforeAll(async () => {
    am = await startAlertmanager(env, timings);
  }, 60_000);
  afterAll(async () => {
    await am?.stop();
  });

  it("posts the three alerts as one message to the critical Slack channel and pages nobody", { timeout: 60_000 }, async () => {
    await am.post(critical(name, SIX_PERCENT));
    const message = await am.waitFor("the Slack message in the critical channel", () => am.slackMessages().find((m) => m.body.channel === env.monitoring.slack.critical));
    await settle();
    expect(am.slackMessages().filter((m) => m.body.channel === env.monitoring.slack.critical).length, slackTitles(am)).toBe(1);
    for (const n of SIX_PERCENT) expect(JSON.stringify(message.body)).toContain(n);
    expect(am.pagerdutyEvents()).toEqual([]);
  });
});
