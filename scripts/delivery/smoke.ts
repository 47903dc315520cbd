/**
 * `npm run smoke -- --base-url <url> [--metrics-url <url>] [--token-file <f>] [--budget 60s] [--retries 2]`
 *
 * The smoke tests a deploy runs against an environment (deploy.yml, after each rollout, and the
 * rollback's verification): on the application port (the URL the load balancer serves)
 *   healthz            GET /healthz answers 200 {"status":"ok"}
 *   readyz             GET /readyz answers 200 {"status":"ready"} (Postgres and RabbitMQ reachable)
 *   metrics-not-public GET /metrics answers 404: metrics live on the metrics listener only
 *   auth-required      GET /v1/products without a token answers 401
 *   authenticated-read GET /v1/products?limit=1 with the bearer token answers 200 with a page of items
 * and, with --metrics-url (the metrics listener, METRICS_PORT: in Kubernetes through a port-forward)
 *   metrics-exposed    GET /metrics is a Prometheus exposition with the API's request metrics
 *   readyz-detailed    GET /readyz names every dependency check, each "ok"
 *
 * The token is the first of --token-file's first line (an API_TOKENS value) or $SMOKE_TOKEN. Every
 * request draws from one time budget (default 60 s) and a failed or unreachable answer is retried
 * up to --retries times, 2 s apart, within it. One line per check; exits 0 when all pass, 1 when
 * any fails (or the budget runs out), 2 on bad usage.
 */
import { z } from "zod";
import { httpRequestDuration, httpRequestsTotal } from "../../services/metrics.js";
import { Budget, Report, UsageError, durationFlag, parseFlags, readToken, request, runCli, sleep, snippet, urlFlag, type CheckResult, type HttpResult } from "./checks.js";

const USAGE = "npm run smoke -- --base-url <url> [--metrics-url <url>] [--token-file <file>] [--budget 60s] [--retries 2]";

interface Check {
  readonly name: string;
  readonly url: string;
  readonly headers?: Record<string, string>;
  /** undefined when the answer is right, else what is wrong with it. */
  readonly verify: (res: HttpResult) => string | undefined;
}

const json = (text: string): unknown => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
};
const expectJson = (res: HttpResult, status: number, schema: z.ZodType, what: string): string | undefined => {
  if (res.status !== status) return `expected ${status}, got ${res.status} ${snippet(res.text)}`;
  return schema.safeParse(json(res.text)).success ? undefined : `expected ${what}, got ${snippet(res.text)}`;
};

function checks(base: string, metrics: string | undefined, token: string | undefined): Check[] {
  const list: Check[] = [
    { name: "healthz", url: `${base}/healthz`, verify: (r) => expectJson(r, 200, z.object({ status: z.literal("ok") }), '{"status":"ok"}') },
    { name: "readyz", url: `${base}/readyz`, verify: (r) => expectJson(r, 200, z.object({ status: z.literal("ready") }), '{"status":"ready"}') },
    { name: "metrics-not-public", url: `${base}/metrics`, verify: (r) => (r.status === 404 ? undefined : `expected 404 (metrics belong to the metrics listener), got ${r.status}`) },
    { name: "auth-required", url: `${base}/v1/products?limit=1`, verify: (r) => (r.status === 401 ? undefined : `expected 401 without a token, got ${r.status}`) },
    {
      name: "authenticated-read",
      url: `${base}/v1/products?limit=1`,
      headers: token ? { authorization: `Bearer ${token}` } : {},
      verify: (r) => (token ? expectJson(r, 200, z.object({ items: z.array(z.unknown()).max(1) }), "a page of at most 1 product") : "no token: pass --token-file <file> or set SMOKE_TOKEN"),
    },
  ];
  if (metrics) {
    list.push(
      {
        name: "metrics-exposed",
        url: `${metrics}/metrics`,
        verify: (r) => {
          if (r.status !== 200) return `expected 200, got ${r.status}`;
          if (!/^text\/plain/.test(r.headers.get("content-type") ?? "")) return `expected a text/plain exposition, got ${r.headers.get("content-type")}`;
          const missing = [httpRequestsTotal, httpRequestDuration].filter((m) => !new RegExp(`^# TYPE ${m.name} ${m.type}$`, "m").test(r.text)).map((m) => m.name);
          return missing.length === 0 ? undefined : `no ${missing.join(", ")} in the exposition`;
        },
      },
      {
        name: "readyz-detailed",
        url: `${metrics}/readyz`,
        verify: (r) => {
          const body = z.object({ status: z.string(), checks: z.record(z.string(), z.string()) }).safeParse(json(r.text));
          if (!body.success) return `expected {"status","checks"}, got ${r.status} ${snippet(r.text)}`;
          const bad = Object.entries(body.data.checks).filter(([, v]) => v !== "ok");
          if (r.status !== 200 || bad.length > 0) return `${r.status}: ${bad.map(([k, v]) => `${k}: ${v}`).join("; ") || snippet(r.text)}`;
          return Object.keys(body.data.checks).length > 0 ? undefined : "no dependency checks reported";
        },
      },
    );
  }
  return list;
}

/** A failed attempt worth repeating: no answer, or an answer a rollout in progress gives. */
const transient = (res: HttpResult | undefined) => res === undefined || [502, 503, 504].includes(res.status);

async function run(check: Check, budget: Budget, retries: number): Promise<CheckResult> {
  let last = "not attempted: the time budget ran out";
  for (let attempt = 0; attempt <= retries && !budget.exhausted; attempt++) {
    if (attempt > 0) await sleep(Math.min(2000, budget.remainingMs));
    if (budget.exhausted) break;
    let res: HttpResult | undefined;
    try {
      res = await request(check.url, budget, { headers: check.headers });
    } catch (err) {
      last = `GET ${check.url}: ${(err as Error).message}`;
      continue;
    }
    const problem = check.verify(res);
    if (problem === undefined) return { name: check.name, ok: true, detail: `GET ${check.url} -> ${res.status} in ${Math.round(res.ms)} ms` };
    last = `GET ${check.url}: ${problem}`;
    if (!transient(res)) break;
  }
  return { name: check.name, ok: false, detail: last };
}

runCli("smoke", USAGE, async () => {
  const flags = parseFlags({
    "base-url": { type: "string" },
    "metrics-url": { type: "string" },
    "token-file": { type: "string" },
    budget: { type: "string", default: "60s" },
    retries: { type: "string", default: "2" },
  });
  const base = urlFlag("base-url", flags["base-url"], true);
  const metrics = urlFlag("metrics-url", flags["metrics-url"]);
  const retries = Number(flags.retries);
  if (!Number.isInteger(retries) || retries < 0) throw new UsageError(`--retries: "${flags.retries}" is not a whole number`);
  const budget = new Budget(durationFlag("budget", flags.budget));
  const token = readToken(flags["token-file"]);
  const report = new Report();
  console.log(`smoke: ${base}${metrics ? ` (metrics ${metrics})` : ""}, budget ${(budget.totalMs / 1000).toFixed(0)} s`);
  for (const check of checks(base, metrics, token)) report.add(await run(check, budget, retries));
  return report.summary("smoke", budget);
});
