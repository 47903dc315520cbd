/**
 * `npm run deploy:critical-alerts -- --alertmanager-url <url> [--budget 30s]`
 *
 * The post-deploy check that no critical alert is firing: asks the environment's Alertmanager
 * (API v2, GET /api/v2/alerts) for the active alerts with severity="critical" that are neither
 * silenced nor inhibited (what pages right now), and lists each with its start and summary.
 * Exits 0 when there is none, 1 when any fires or Alertmanager cannot be asked, 2 on bad usage.
 * deploy.yml reaches Alertmanager from the deploy runner through a kubectl port-forward.
 */
import { z } from "zod";
import { SEVERITY } from "../../alerts/severity.js";
import { Budget, Report, durationFlag, parseFlags, request, runCli, snippet, urlFlag } from "./checks.js";

const USAGE = "npm run deploy:critical-alerts -- --alertmanager-url <url> [--budget 30s]";

const alerts = z.array(
  z.object({
    labels: z.record(z.string(), z.string()),
    annotations: z.record(z.string(), z.string()).default({}),
    startsAt: z.string(),
    status: z.object({ state: z.string() }),
  }),
);

runCli("critical-alerts", USAGE, async () => {
  const flags = parseFlags({ "alertmanager-url": { type: "string" }, budget: { type: "string", default: "30s" } });
  const base = urlFlag("alertmanager-url", flags["alertmanager-url"], true);
  const budget = new Budget(durationFlag("budget", flags.budget));
  const report = new Report();
  const query = new URLSearchParams({ active: "true", silenced: "false", inhibited: "false", unprocessed: "false", filter: `severity="${SEVERITY.critical}"` });
  const url = `${base}/api/v2/alerts?${query}`;
  const res = await request(url, budget).catch((err: Error) => err);
  if (res instanceof Error || res.status !== 200) {
    report.add({ name: "alertmanager", ok: false, detail: res instanceof Error ? `GET ${url}: ${res.message}` : `GET ${url} -> ${res.status} ${snippet(res.text)}` });
    return report.summary("critical alerts", budget);
  }
  const parsed = alerts.safeParse(JSON.parse(res.text));
  if (!parsed.success) {
    report.add({ name: "alertmanager", ok: false, detail: `unexpected answer ${snippet(res.text)}` });
    return report.summary("critical alerts", budget);
  }
  const firing = parsed.data.filter((a) => a.labels["severity"] === SEVERITY.critical && a.status.state === "active");
  report.add({ name: "alertmanager", ok: true, detail: `GET /api/v2/alerts -> 200 in ${Math.round(res.ms)} ms` });
  if (firing.length === 0) report.add({ name: "no-critical-alert", ok: true, detail: "no active critical alert" });
  for (const a of firing) {
    const where = Object.entries(a.labels)
      .filter(([k]) => !["alertname", "severity"].includes(k))
      .map(([k, v]) => `${k}=${v}`)
      .join(",");
    report.add({ name: a.labels["alertname"] ?? "(unnamed)", ok: false, detail: `critical since ${a.startsAt}${where ? ` {${where}}` : ""}: ${a.annotations["summary"] ?? ""}` });
  }
  return report.summary("critical alerts", budget);
});
