/**
 * Real faults in the running platform become the right page (npm run test:e2e).
 *
 * One platform (scripts/local/platform.ts, the same code `npm run platform:local` runs) for all
 * cases, on the local profile (every for:/window divided by LOCAL_PROFILE.factor). Each case
 * injects a real fault — 5xx through the API's fault-injection switch, a killed process, a cut
 * database or edge, poison jobs, stopped workers — never a hand-made alert, and asserts what the
 * local receiver got and when. The soak runs first, while the platform has no history of faults.
 * Per case, the time from injection to arrival is recorded next to the rule's scaled for: +
 * evaluation interval + group_wait; the table is printed and written to out/e2e-timings.json.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { durationMs } from "../../alerts/profile.js";
import { runbookUrl } from "../../model/environments.js";
import { API_SCRAPE_JOB, BLACKBOX_JOB, PRODUCT_NAMESPACE } from "../../model/workloads.js";
import { apiRequestRate } from "../../alerts/rules/api.js";
import { sel } from "../../alerts/promql.js";
import { httpRequestsTotal } from "../../services/metrics.js";
import { LocalPlatform, LOCAL_TOKENS } from "../../scripts/local/platform.js";
import { cpuSecondsOfGroups, killGroupsOnSignals } from "../../scripts/local/process-group.js";
import { scaleDuration } from "../../alerts/profile.js";
import type { ReceivedPage, ReceivedSlack } from "../../scripts/local/receiver.js";
import { waitFor } from "../helpers/wait.js";
import { alertnamesOf, expectedIncidents, notificationBudget, timingTable, type TimingRow } from "./expectations.js";

let p: LocalPlatform;
const timings: TimingRow[] = [];
const suiteStarted = Date.now();
let startupS = 0;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const env = () => p.env;

/** Trigger events since `since` that speak of `alertname`. */
const triggersOf = (alertname: string, since: number): ReceivedPage[] =>
  p.receiver.pages.filter((e) => e.at >= since && e.body.event_action === "trigger" && alertnamesOf(env(), e).includes(alertname));
const pagesSince = (since: number) => p.receiver.pages.filter((e) => e.at >= since);
const slackOf = (alertname: string, since: number): ReceivedSlack[] => p.receiver.slack.filter((s) => s.at >= since && JSON.stringify(s.body).includes(alertname));

function record(caseName: string, alertname: string, severity: string, injectedAt: number, arrivedAt: number, via: string, note?: string): void {
  const b = notificationBudget(env(), p.profile, p.alertmanagerConfig, alertname, severity);
  timings.push({ case: caseName, arrival: `${alertname} (${via})`, measuredS: (arrivedAt - injectedAt) / 1000, forS: b.forS, evalS: b.evalS, groupWaitS: b.groupWaitS, budgetS: b.totalS, note });
}

async function waitForTrigger(alertname: string, since: number, timeoutMs = 90_000): Promise<ReceivedPage> {
  return waitFor(`a PagerDuty trigger for ${alertname}`, () => triggersOf(alertname, since)[0], timeoutMs, 100).catch(async (err: Error) => {
    const alerts = (await p.promAlerts().catch(() => [])).map((a) => `${a.labels.alertname}/${a.state}`);
    throw new Error(`${err.message}; Prometheus alerts: ${alerts.join(", ")}; rejected: ${JSON.stringify(p.receiver.rejected.slice(-3))}`);
  });
}

async function waitForResolve(dedupKey: string, since: number, timeoutMs = 90_000): Promise<ReceivedPage> {
  return waitFor(`a PagerDuty resolve for ${dedupKey}`, () => p.receiver.pages.find((e) => e.at >= since && e.body.event_action === "resolve" && e.dedupKey === dedupKey), timeoutMs, 100);
}

/**
 * Waits until none of the alerts is pending or firing in Prometheus, and the last notification
 * about each (PagerDuty incident, Slack message) says resolved. Otherwise a fault injected now
 * could join a notification group that never closed, and Alertmanager rightly sends nothing new.
 */
async function waitInactive(alertnames: readonly string[], timeoutMs = 120_000): Promise<void> {
  const named = (text: string) => alertnames.some((n) => new RegExp(`\\b${n}\\b`).test(text));
  await waitFor(
    `${alertnames.join(", ")} to be inactive and resolved`,
    async () => {
      if ((await p.promAlerts()).some((a) => alertnames.includes(a.labels.alertname!))) return false;
      if (p.receiver.incidents().some((i) => i.open && named(i.summary))) return false;
      for (const n of alertnames) {
        const last = p.receiver.slack.filter((m) => (m.body.attachments?.[0]?.title ?? "").includes(n)).at(-1);
        if (last && !(last.body.attachments?.[0]?.title ?? "").startsWith("[RESOLVED]")) return false;
      }
      return true;
    },
    timeoutMs,
    500,
  );
}

async function waitFiring(alertname: string, timeoutMs = 90_000): Promise<void> {
  await waitFor(`${alertname} to fire in Prometheus`, async () => (await p.promAlerts()).some((a) => a.labels.alertname === alertname && a.state === "firing"), timeoutMs, 250);
}

/** A PagerDuty trigger as PagerDuty needs it: severity, the alert's runbook link first. */
function expectWellFormedPage(page: ReceivedPage, alertname: string): void {
  expect(page.body.payload?.severity).toBe("critical");
  expect(page.body.links?.[0]).toEqual({ href: runbookUrl(env(), alertname), text: "Runbook" });
  expect(page.body.payload?.summary).toContain(alertname);
}

/** Distinct incidents (dedup keys) among the triggers since `since`, and the alerts they named. */
function incidentsSince(since: number): { dedupKeys: Set<string>; alertnames: Set<string> } {
  const triggers = pagesSince(since).filter((e) => e.body.event_action === "trigger");
  return { dedupKeys: new Set(triggers.map((t) => t.dedupKey)), alertnames: new Set(triggers.flatMap((t) => alertnamesOf(env(), t))) };
}

/**
 * Makes `target` the 5xx share the rules see. Their denominator is every request the processes
 * count, including Prometheus' own scrapes of /metrics (1 per second per target on this profile,
 * where production scrapes every 30 s), so a share of /v1 requests gives a smaller overall share.
 * Starts at `target` of /v1 (never above target overall), then corrects twice from the share
 * Prometheus measured over the rule's window, by at most 1.5x a step.
 */
async function injectErrorRatio(target: number): Promise<number> {
  const window = scaleDuration("5m", p.profile.factor);
  let ratio = target;
  await p.setHttp500Ratio(ratio);
  for (let i = 0; i < 2; i++) {
    await sleep(durationMs(window) + 500);
    const seen = await measuredErrorRatio(window);
    if (seen > 0) ratio = Math.min(1, ratio * Math.min(1.5, target / seen));
    await p.setHttp500Ratio(ratio);
  }
  return ratio;
}

/** The 5xx share over the last `window`, as the error-ratio rule computes it. */
async function measuredErrorRatio(window: string): Promise<number> {
  const r = await p.promQuery(`sum(rate(${sel(httpRequestsTotal, 'status_code=~"5.."')}[${window}])) / ${apiRequestRate(window)}`);
  return Number(r[0]?.value[1] ?? NaN);
}

beforeAll(async () => {
  killGroupsOnSignals();
  const t0 = Date.now();
  p = await LocalPlatform.start({
    ports: "free",
    databaseName: `e2e_platform_${process.pid}`,
    dropDatabaseOnStop: true,
    requirePostgres: true,
    trafficRate: 40,
    importEveryMs: 5000,
    logLevel: "warn",
    // Warnings must reach Slack whenever the suite runs, Sunday 02:00-04:00 UTC included.
    maintenanceWindow: "elsewhere",
  });
  await p.waitForTargetsUp();
  startupS = (Date.now() - t0) / 1000;
  // Start-up load (TypeScript loading, migrations) settles before the soak.
  let active: string[] = [];
  await waitFor(
    "the platform to be quiet",
    async () => {
      // Nothing pending or firing in Prometheus, nothing active in Alertmanager, no open incident.
      active = (await p.promAlerts()).filter((a) => a.labels.alertname !== "Watchdog").map((a) => `${a.labels.alertname}/${a.state}`);
      const am = (await (await fetch(`${p.urls.alertmanager}/api/v2/alerts?active=true`)).json()) as { labels: Record<string, string> }[];
      active.push(...am.filter((a) => a.labels.alertname !== "Watchdog").map((a) => `${a.labels.alertname}/alertmanager`));
      active.push(...p.receiver.incidents().filter((i) => i.open).map((i) => `${i.summary}/open incident`));
      return active.length === 0;
    },
    120_000,
    1000,
  ).catch(async (err: Error) => {
    const cpu = await p.promQuery('1 - avg(rate(node_cpu_seconds_total{mode="idle"}[30s]))').catch(() => []);
    throw new Error(`${err.message}: still active ${active.join(", ")}; host CPU busy ${cpu[0]?.value[1] ?? "?"}`);
  });
}, 180_000);

afterAll(async () => {
  const result = await p?.stop();
  const table = timingTable(timings);
  const total = (Date.now() - suiteStarted) / 1000;
  console.log(`\nplatform start-up ${startupS.toFixed(1)} s; suite ${total.toFixed(0)} s\n${table}\n`);
  await mkdir("out", { recursive: true });
  await writeFile("out/e2e-timings.json", JSON.stringify({ profile: p?.profile, startupSeconds: startupS, suiteSeconds: total, rows: timings }, null, 2) + "\n");
  // Nothing the platform started may survive it, even when a case failed.
  expect(result?.leftovers ?? []).toEqual([]);
}, 120_000);

describe("a running platform", () => {
  it("7. a healthy soak of 2 minutes under normal traffic: no page, no warning, the Watchdog keeps beating", { timeout: 200_000 }, async () => {
    const since = Date.now();
    const cpuBefore = (await cpuSecondsOfGroups(p.processGroups)) + process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6;
    const before = p.traffic.stats();
    const products = Number((await p.query<{ n: string }>("SELECT count(*)::text AS n FROM products WHERE status = 'in_review'"))[0]!.n);
    await sleep(125_000);
    const after = p.traffic.stats();
    const ok = (after.byStatus["200"] ?? 0) - (before.byStatus["200"] ?? 0);
    expect(ok).toBeGreaterThan(125 * p.traffic.requestsPerSecond * 0.8);
    expect(Object.keys(after.byStatus).filter((s) => s !== "200")).toEqual([]);
    // Normal work flowed through the pipeline meanwhile (a sample import every 5 s).
    const reviewed = Number((await p.query<{ n: string }>("SELECT count(*)::text AS n FROM products WHERE status = 'in_review'"))[0]!.n);
    expect(reviewed - products).toBeGreaterThan(15);
    const cpuAfter = (await cpuSecondsOfGroups(p.processGroups)) + process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6;
    const platformCores = (cpuAfter - cpuBefore) / ((Date.now() - since) / 1000);
    expect(pagesSince(since)).toEqual([]);
    // A shared machine can be saturated by other work: NodeHighCpu then reports a real host
    // condition, not the platform's. It is excused only when the platform itself used too little
    // CPU to cause it (well under the 80% threshold of the host's cores); any other warning fails.
    const hostCores = (await p.promQuery("count(node_cpu_seconds_total{mode=\"idle\"})"))[0]?.value[1];
    const platformCannotCauseIt = platformCores < Number(hostCores ?? 1) * 0.4;
    const warnings = p.receiver.slack.filter((s) => s.at >= since).map((s) => s.body.attachments?.[0]?.title ?? "");
    const excused = warnings.filter((t) => platformCannotCauseIt && /\bNodeHighCpu\b/.test(t));
    if (excused.length) console.log(`soak: NodeHighCpu excused: the platform used ${platformCores.toFixed(2)} of ${hostCores} cores; the host was busy with other work`);
    expect(warnings.filter((t) => !excused.includes(t))).toEqual([]);
    expect(p.receiver.emails.filter((e) => e.at >= since && !(excused.length && /warning/.test(e.subject))).map((e) => e.subject)).toEqual([]);
    const beats = p.receiver.heartbeats.filter((h) => h.at >= since);
    expect(beats.every((h) => h.alertnames.includes("Watchdog"))).toBe(true);
    const gaps = beats.slice(1).map((h, i) => h.at - beats[i]!.at);
    const maxGapS = Math.max((beats[0]?.at ?? Infinity) - since, ...gaps) / 1000;
    expect(beats.length).toBeGreaterThan(20);
    expect(maxGapS).toBeLessThan(10);
    timings.push({ case: "7 soak 125 s", arrival: `${beats.length} Watchdog heartbeats, 0 pages, 0 Slack, 0 email`, measuredS: maxGapS, forS: 0, evalS: 1, groupWaitS: 0, budgetS: 0, note: `measured = longest gap between heartbeats; platform CPU ${platformCores.toFixed(2)} cores${excused.length ? "; NodeHighCpu from other work excused" : ""}` });
  });

  it("1. about 6% 5xx under steady traffic pages critical with the runbook and a stable dedup key, and resolves; about 3% does not page ApiHighErrorRate", { timeout: 240_000 }, async () => {
    p.traffic.setRate(40);
    try {
      const injected = Date.now();
      const v1Share = await injectErrorRatio(0.06);
      const page = await waitForTrigger("ApiHighErrorRate", injected);
      const seenRatio = await measuredErrorRatio(scaleDuration("5m", p.profile.factor));
      record("1 6% 5xx", "ApiHighErrorRate", "critical", injected, page.at, "PagerDuty trigger", `5xx share ${(seenRatio * 100).toFixed(1)}% (${(v1Share * 100).toFixed(1)}% of /v1)`);
      expectWellFormedPage(page, "ApiHighErrorRate");
      // The related alerts (the SLO's 1h window fills more slowly) arrive within a few more
      // seconds; the incident count follows INCIDENT_GROUPS.
      await sleep(10_000);
      const six = incidentsSince(injected);
      expect([...six.alertnames].filter((n) => !["ApiHighErrorRate", "ApiHttp500Burst", "ApiAvailabilityErrorBudgetBurn"].includes(n))).toEqual([]);
      expect(six.dedupKeys.size).toBe(expectedIncidents(env(), six.alertnames));
      console.log(`6% 5xx: ${six.dedupKeys.size} PagerDuty incident(s) for ${[...six.alertnames].join(", ")}`);
      for (const name of six.alertnames) if (name !== "ApiHighErrorRate") record("1 6% 5xx", name, "critical", injected, triggersOf(name, injected)[0]!.at, "PagerDuty trigger");

      await sleep(10_000);
      const stopped = Date.now();
      await p.setHttp500Ratio(0);
      const resolve = await waitForResolve(page.dedupKey, stopped);
      timings.push({ case: "1 errors stop", arrival: "ApiHighErrorRate (PagerDuty resolve)", measuredS: (resolve.at - stopped) / 1000, forS: 0, evalS: 1, groupWaitS: 0, budgetS: 0, note: "window drains, then group_interval" });
      // One dedup key from trigger to resolve: every event of this alert carried it.
      expect(new Set(pagesSince(injected).filter((e) => alertnamesOf(env(), e).includes("ApiHighErrorRate") && e.at <= resolve.at).map((e) => e.dedupKey))).toEqual(new Set([page.dedupKey]));
      expect(resolve.body.routing_key).toBe(page.body.routing_key);

      // ~3%: below the 5% ratio; held for window + for + group_wait + margin.
      await waitInactive(["ApiHighErrorRate"]);
      const three = Date.now();
      await injectErrorRatio(0.03);
      await sleep(4000);
      const threeRatio = await measuredErrorRatio("4s");
      const budget = notificationBudget(env(), p.profile, p.alertmanagerConfig, "ApiHighErrorRate", "critical");
      await sleep(5000 + budget.totalS * 1000 + 8000);
      const threeRatioEnd = await measuredErrorRatio("30s");
      expect(threeRatioEnd).toBeGreaterThan(0.02);
      expect(threeRatioEnd).toBeLessThan(0.045);
      expect(triggersOf("ApiHighErrorRate", three)).toEqual([]);
      const low = incidentsSince(three);
      const firing = [...new Set((await p.promAlerts()).filter((a) => a.state === "firing" && a.labels.severity === "critical").map((a) => a.labels.alertname!))];
      console.log(`3% 5xx: ApiHighErrorRate silent; new pages: ${[...low.alertnames].join(", ") || "none"} (${low.dedupKeys.size} incident(s)); critical alerts firing: ${firing.join(", ") || "none"}`);
      expect(low.dedupKeys.size).toBe(expectedIncidents(env(), low.alertnames));
      timings.push({ case: "1 3% 5xx", arrival: `no ApiHighErrorRate page; firing: ${firing.join(", ") || "none"}`, measuredS: (Date.now() - three) / 1000, forS: budget.forS, evalS: budget.evalS, groupWaitS: budget.groupWaitS, budgetS: budget.totalS, note: `5xx share ${(threeRatio * 100).toFixed(1)}%..${(threeRatioEnd * 100).toFixed(1)}%, observed without a page` });
    } finally {
      await p.setHttp500Ratio(0);
    }
  });

  it("2. more than 10 HTTP 500s a minute at low traffic pages the 500 burst", { timeout: 240_000 }, async () => {
    await waitInactive(["ApiHttp500Burst"]);
    p.traffic.setRate(2);
    try {
      const injected = Date.now();
      // 2 requests/s, half of them 500: 60 per minute.
      await p.setHttp500Ratio(0.5);
      const page = await waitForTrigger("ApiHttp500Burst", injected);
      record("2 500 burst, 2 req/s", "ApiHttp500Burst", "critical", injected, page.at, "PagerDuty trigger");
      expectWellFormedPage(page, "ApiHttp500Burst");
      await sleep(3000);
      const seen = incidentsSince(injected);
      expect(seen.dedupKeys.size).toBe(expectedIncidents(env(), seen.alertnames));
      console.log(`500 burst at 2 req/s: paged ${[...seen.alertnames].join(", ")}`);
      const stopped = Date.now();
      await p.setHttp500Ratio(0);
      await waitForResolve(page.dedupKey, stopped);
    } finally {
      await p.setHttp500Ratio(0);
      p.traffic.setRate(40);
    }
  });

  it("3. the API process killed pages ApiUnavailable (up == 0 and the probe); the edge cut alone pages it from the probe", { timeout: 240_000 }, async () => {
    await waitInactive(["ApiUnavailable"]);
    const upSel = `up{job="${API_SCRAPE_JOB}", namespace="${PRODUCT_NAMESPACE}"}`;
    const probeSel = `probe_success{job="${BLACKBOX_JOB}", instance="${env().urls.apiProbe}"}`;
    const killed = Date.now();
    try {
      await p.stopService("api", "SIGKILL");
      const page = await waitForTrigger("ApiUnavailable", killed);
      record("3 API killed", "ApiUnavailable", "critical", killed, page.at, "PagerDuty trigger");
      expectWellFormedPage(page, "ApiUnavailable");
      expect((await p.promQuery(upSel))[0]?.value[1]).toBe("0");
      await waitFor("the probe to fail", async () => (await p.promQuery(probeSel))[0]?.value[1] === "0", 10_000, 250);
      const restarted = Date.now();
      await p.restartService("api");
      await waitForResolve(page.dedupKey, restarted);

      // The public edge fails while the API process is healthy: only the probe sees it.
      await waitInactive(["ApiUnavailable"]);
      const cut = Date.now();
      await p.edgeProxy.close();
      const edgePage = await waitForTrigger("ApiUnavailable", cut);
      record("3 edge cut (probe only)", "ApiUnavailable", "critical", cut, edgePage.at, "PagerDuty trigger", "the previous incident's group may still exist: then group_interval applies");
      expect((await p.promQuery(upSel))[0]?.value[1]).toBe("1");
      expect((await p.promQuery(probeSel))[0]?.value[1]).toBe("0");
      const restored = Date.now();
      await p.edgeProxy.listen(p.ports.edge);
      await waitForResolve(edgePage.dedupKey, restored);
    } finally {
      await p.edgeProxy.listen(p.ports.edge).catch(() => undefined);
      if (!p.processes.get("api")?.running()) await p.restartService("api");
    }
  });

  it("4. the database cut off pages DatabaseConnectionFailed; the jobs in flight complete when it returns", { timeout: 240_000 }, async () => {
    await waitInactive(["DatabaseConnectionFailed"]);
    p.setSampleImports(0);
    // Slow source pages keep the imports in flight while the database goes away.
    p.site.faults.slow(4000, 12);
    await p.importProducts(12, "dbcut", { images: ["green.jpg"] });
    await waitFor("imports in flight", async () => Number((await p.query<{ n: string }>("SELECT count(*)::text AS n FROM jobs WHERE type = 'import' AND status = 'processing'"))[0]!.n) > 0, 20_000, 100);
    const cut = Date.now();
    try {
      await p.cutDatabase();
      const page = await waitForTrigger("DatabaseConnectionFailed", cut);
      record("4 database cut", "DatabaseConnectionFailed", "critical", cut, page.at, "PagerDuty trigger");
      expectWellFormedPage(page, "DatabaseConnectionFailed");
      // The processes themselves report it (the scrape survives the outage), not only the exporter.
      const down = await p.promQuery('dependency_up{dependency="postgres"} == 0');
      expect(down.map((s) => s.metric.job).sort()).toContain(API_SCRAPE_JOB);
      const seen = incidentsSince(cut);
      console.log(`database cut: paged ${[...seen.alertnames].join(", ")}`);
      await sleep(5000);
      const restored = Date.now();
      await p.restoreDatabase();
      await waitForResolve(page.dedupKey, restored);
      timings.push({ case: "4 database back", arrival: "DatabaseConnectionFailed (PagerDuty resolve)", measuredS: (Date.now() - restored) / 1000, forS: 0, evalS: 1, groupWaitS: 0, budgetS: 0 });
      // Every job in flight finished: the imports completed once each and their products moved on.
      const products = await waitFor(
        "the dbcut products to reach review",
        async () => {
          const rows = await p.query<{ status: string }>("SELECT status::text AS status FROM products WHERE source_url LIKE '%/p/dbcut-%'");
          return rows.length === 12 && rows.every((r) => r.status === "in_review") ? rows : undefined;
        },
        120_000,
        500,
      ).catch(async (err: Error) => {
        const state = await p.query<{ what: string; n: string }>(
          `SELECT 'product ' || status::text AS what, count(*)::text AS n FROM products WHERE source_url LIKE '%/p/dbcut-%' GROUP BY 1
           UNION ALL SELECT type::text || ' job ' || status::text || ' ' || coalesce(left(last_error, 80), ''), count(*)::text FROM jobs
             WHERE payload->>'sourceUrl' LIKE '%/p/dbcut-%' OR payload->>'productId' IN (SELECT id::text FROM products WHERE source_url LIKE '%/p/dbcut-%') GROUP BY 1`,
        );
        throw new Error(`${err.message}: ${state.map((r) => `${r.what}: ${r.n}`).join("; ")}`);
      });
      expect(products).toHaveLength(12);
      const jobs = await p.query<{ status: string; n: string }>("SELECT status::text AS status, count(*)::text AS n FROM jobs WHERE type = 'import' AND payload->>'sourceUrl' LIKE '%/p/dbcut-%' GROUP BY 1");
      expect(jobs).toEqual([{ status: "completed", n: "12" }]);
    } finally {
      await p.restoreDatabase().catch(() => undefined);
      p.setSampleImports(5000);
    }
  });

  it("5. poison jobs in the dead-letter queue warn the admins in Slack and do not page", { timeout: 180_000 }, async () => {
    await waitInactive(["DeadLetterQueueNotEmpty"]);
    const injected = Date.now();
    await p.importProducts(3, "poison", { images: ["corrupt.jpg"] });
    const slack = await waitFor("the admins' Slack warning", () => slackOf("DeadLetterQueueNotEmpty", injected)[0], 90_000, 100);
    record("5 poison jobs", "DeadLetterQueueNotEmpty", "warning", injected, slack.at, "Slack #platform-admins");
    expect(slack.channel).toBe(env().monitoring.slack.admins);
    expect(slack.runbookLinks).toContain(runbookUrl(env(), "DeadLetterQueueNotEmpty"));
    await sleep(3000);
    expect(triggersOf("DeadLetterQueueNotEmpty", injected)).toEqual([]);
    const dead = await p.api("POST", "/v1/admin/dead-jobs/discard", { filter: { type: "image" } }, LOCAL_TOKENS.admin);
    expect(dead.status).toBe(200);
    expect((dead.body as { discarded: number }).discarded).toBe(3);
  });

  it("8. the maintenance window mutes a warning and does not mute a page", { timeout: 240_000 }, async () => {
    await waitInactive(["DeadLetterQueueNotEmpty", "ApiUnavailable"]);
    await p.maintenanceWindowNow(true);
    try {
      const injected = Date.now();
      await p.importProducts(2, "muted", { images: ["corrupt.jpg"] });
      await waitFiring("DeadLetterQueueNotEmpty");
      const firingAt = Date.now();
      const killed = Date.now();
      await p.stopService("api", "SIGKILL");
      const page = await waitForTrigger("ApiUnavailable", killed);
      record("8 page in the window", "ApiUnavailable", "critical", killed, page.at, "PagerDuty trigger");
      await waitFor("the critical Slack message", () => slackOf("ApiUnavailable", killed)[0], 30_000, 100);
      // The warning fires in Prometheus and reaches Alertmanager, whose route mutes it: nothing in
      // Slack for group_wait + group_interval + a margin.
      const root = p.alertmanagerConfig.route;
      const mutedForMs = notificationBudget(env(), p.profile, p.alertmanagerConfig, "DeadLetterQueueNotEmpty", "warning").groupWaitS * 1000 + durationMs(root.group_interval ?? "5m") + 8000;
      await sleep(Math.max(0, firingAt + mutedForMs - Date.now()));
      expect(slackOf("DeadLetterQueueNotEmpty", injected)).toEqual([]);
      timings.push({ case: "8 warning in the window", arrival: "DeadLetterQueueNotEmpty: nothing in Slack", measuredS: (Date.now() - firingAt) / 1000, forS: 0, evalS: 0, groupWaitS: 0, budgetS: 0, note: "observed muted after it fired" });
      // The window ends (rendered config back): the same warning now reaches Slack.
      const unmuted = Date.now();
      await p.maintenanceWindowNow(false);
      const slack = await waitFor("the warning after the window", () => slackOf("DeadLetterQueueNotEmpty", unmuted)[0], 60_000, 100);
      expect(slack.body.attachments?.[0]?.title).toMatch(/^\[FIRING:\d+\] DeadLetterQueueNotEmpty/);
      expect(slack.channel).toBe(env().monitoring.slack.admins);
      timings.push({ case: "8 window over", arrival: "DeadLetterQueueNotEmpty (Slack #platform-admins)", measuredS: (slack.at - unmuted) / 1000, forS: 0, evalS: 0, groupWaitS: notificationBudget(env(), p.profile, p.alertmanagerConfig, "DeadLetterQueueNotEmpty", "warning").groupWaitS, budgetS: 0, note: "after the config reload" });
    } finally {
      await p.maintenanceWindowNow(false);
      if (!p.processes.get("api")?.running()) await p.restartService("api");
    }
  });
  // Last: its 1100 products go on through translation, images and review after the case, and a
  // case after it would queue its jobs behind them.
  it("6. a translation backlog over 1000 (workers stopped, imports continuing) warns", { timeout: 240_000 }, async () => {
    await waitInactive(["TranslationQueueBacklog"]);
    await p.stopService("worker-translation");
    try {
      const injected = Date.now();
      await p.importProducts(1100, "backlog");
      const slack = await waitFor("the backlog warning", () => slackOf("TranslationQueueBacklog", injected)[0], 150_000, 200);
      record("6 translation backlog", "TranslationQueueBacklog", "warning", injected, slack.at, "Slack #alerts", "from the first import of 1100");
      expect(slack.channel).toBe(env().monitoring.slack.alerts);
      expect(slack.runbookLinks).toContain(runbookUrl(env(), "TranslationQueueBacklog"));
      expect(triggersOf("TranslationQueueBacklog", injected)).toEqual([]);
    } finally {
      await p.restartService("worker-translation");
    }
  });
});
