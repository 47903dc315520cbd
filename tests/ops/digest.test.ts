/**
 * ops/digest.ts against a real Prometheus and a real SMTP server: Prometheus evaluates a rule file
 * whose alerts fire and resolve on a known schedule (gated by time() windows that begin a few seconds
 * after the rules are loaded, evaluated every second), so the expected episodes are exact; the
 * digest command reads ALERTS / ALERTS_FOR_STATE and mails the summary to a local SMTP server
 * (tests/helpers/smtp-capture.ts, built on the `smtp-server` package).
 *
 * The schedule, in seconds after T0 (all windows [from, to)):
 *   DiskAlmostFull  warning   0-4 and 8-12        2 episodes, 4 s each, resolved
 *   ApiDown         critical  2-9                 1 episode, 7 s, resolved
 *   DbSlow          critical  3-6 on db-a and db-b 2 episodes (two label sets), 3 s each, resolved
 *   QueueBacklog    warning   6-                  1 episode, still firing at T0+16
 *   FlakyPending    warning   1-5 with for: 30s   pending only: never fired, not counted
 *   InfoOnly        info      0-3                 not a notification: not counted
 *   Watchdog        none      always              not counted
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { environment, runbookUrl } from "../../model/environments.js";
import { episodesFrom, evaluationInterval, type Series } from "../../ops/digest/history.js";
import { freePort, startProcess, type Running } from "../helpers/processes.js";
import { startSmtpCapture, type SmtpCapture } from "../helpers/smtp-capture.js";
import { waitFor } from "../helpers/wait.js";
import { lastJsonLine, runOps } from "./helpers.js";

const windowExpr = (t0: number, ranges: [number, number | undefined][], labels: Record<string, string> = {}) => {
  const base = Object.entries(labels).reduce((e, [k, v]) => `label_replace(${e}, "${k}", "${v}", "", "")`, "vector(1)");
  const within = ranges.map(([a, b]) => (b === undefined ? `vector(time()) >= ${t0 + a}` : `(vector(time()) >= ${t0 + a} and vector(time()) < ${t0 + b})`)).join(" or ");
  return `${base} and on () (${within})`;
};

function rules(t0: number) {
  const alert = (name: string, severity: string, expr: string, extra: Record<string, unknown> = {}) => ({ alert: name, expr, labels: { severity, team: "platform" }, ...extra });
  return {
    groups: [
      {
        name: "digest-schedule",
        interval: "1s",
        rules: [
          alert("DiskAlmostFull", "warning", windowExpr(t0, [[0, 4], [8, 12]])),
          alert("ApiDown", "critical", windowExpr(t0, [[2, 9]])),
          alert("DbSlow", "critical", `${windowExpr(t0, [[3, 6]], { instance: "db-a" })} or ${windowExpr(t0, [[3, 6]], { instance: "db-b" })}`),
          alert("QueueBacklog", "warning", windowExpr(t0, [[6, undefined]])),
          alert("FlakyPending", "warning", windowExpr(t0, [[1, 5]]), { for: "30s" }),
          alert("InfoOnly", "info", windowExpr(t0, [[0, 3]])),
          alert("Watchdog", "none", "vector(1)"),
        ],
      },
    ],
  };
}

const iso = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString();

describe("the daily digest from a real Prometheus, by email", () => {
  let dir: string;
  let prometheus: Running;
  let promUrl: string;
  let smtp: SmtpCapture;
  let t0: number;
  let passwordFile: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "digest-"));
    const rulesFile = join(dir, "rules.yaml");
    await writeFile(rulesFile, stringify({ groups: [] }));
    await writeFile(join(dir, "prometheus.yaml"), stringify({ global: { evaluation_interval: "1s" }, rule_files: [rulesFile], scrape_configs: [] }));
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    prometheus = startProcess("prometheus", [
      `--config.file=${join(dir, "prometheus.yaml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--web.enable-lifecycle",
      "--log.level=warn",
    ]);
    await waitFor("Prometheus to be ready", async () => (await fetch(`${promUrl}/-/ready`)).ok, 30_000, 250, true).catch((err: Error) => {
      throw new Error(`${err.message}\n${prometheus.output()}`);
    });
    // The schedule starts 3 s after the rules are loaded, so no window begins before the first evaluation.
    t0 = Math.ceil(Date.now() / 1000) + 3;
    await writeFile(rulesFile, stringify(rules(t0)));
    const reload = await fetch(`${promUrl}/-/reload`, { method: "POST" });
    expect(reload.status, await reload.text()).toBe(200);
    passwordFile = join(dir, "smtp-password");
    await writeFile(passwordFile, "s3cret\n");
    smtp = await startSmtpCapture({ auth: { user: "digest", pass: "s3cret" } });
    // Until the last evaluation before T0+16 is in.
    await waitFor("the schedule to play out", () => Date.now() / 1000 > t0 + 16.5, 40_000, 100);
  }, 90_000);

  afterAll(async () => {
    await prometheus?.stop();
    await smtp?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const env = () => ({
    PROMETHEUS_URL: promUrl,
    SMTP_SMARTHOST: smtp.smarthost,
    SMTP_FROM: "alertmanager-prod@acme.example",
    SMTP_TO: "oncall-digest+prod@acme.example, platform-lead@acme.example",
    SMTP_USER: "digest",
    SMTP_PASSWORD_FILE: passwordFile,
    SMTP_REQUIRE_TLS: "false",
    ENVIRONMENT: "prod",
  });

  it("mails what fired and resolved, how long each lasted, pages against warnings and the noisiest alerts", async () => {
    const res = await runOps("digest", ["--since", iso(t0 - 3), "--now", iso(t0 + 16)], env());
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(lastJsonLine(res.stdout)).toMatchObject({ sent: true, fired: 6, resolved: 5, stillFiring: 1, pages: 3, warnings: 3 });

    expect(smtp.messages).toHaveLength(1);
    const mail = smtp.messages[0]!;
    expect(mail.user).toBe("digest");
    expect(mail.envelope.to).toEqual(["oncall-digest+prod@acme.example", "platform-lead@acme.example"]);
    expect(mail.parsed.from?.text).toBe("alertmanager-prod@acme.example");
    expect(mail.parsed.subject).toBe(`[prod] Alert digest ${iso(t0 + 16).slice(0, 10)}: 3 pages, 3 warnings, 1 still firing`);

    const text = mail.parsed.text ?? "";
    expect(text).toContain("Fired: 6   Resolved: 5   Still firing: 1");
    expect(text).toContain("Pages (critical): 3   Warnings: 3");
    // Noisiest first: most episodes, then the longest in total.
    const top = text.split("Top noisy alerts:\n")[1]!.split("\n\n")[0]!.split("\n").map((l) => l.trim().split(/\s+/)[0]);
    expect(top).toEqual(["DiskAlmostFull", "DbSlow", "QueueBacklog", "ApiDown"]);
    const perAlert = (name: string) => new RegExp(`${name}\\s+(critical|warning)\\s+fired (\\d+) times?, resolved (\\d+), firing (\\d+); (\\d+)s in total, longest (\\d+)s`).exec(text);
    const expected: [string, string, number, number, number, number, number][] = [
      // name, severity, episodes, resolved, firing, total s, longest s
      ["DiskAlmostFull", "warning", 2, 2, 0, 8, 4],
      ["DbSlow", "critical", 2, 2, 0, 6, 3],
      ["QueueBacklog", "warning", 1, 0, 1, 10, 10],
      ["ApiDown", "critical", 1, 1, 0, 7, 7],
    ];
    for (const [name, severity, episodes, resolved, firing, total, longest] of expected) {
      const m = perAlert(name);
      expect(m, `${name} in:\n${text}`).toBeTruthy();
      expect([m![1], Number(m![2]), Number(m![3]), Number(m![4])], name).toEqual([severity, episodes, resolved, firing]);
      // Durations come from the 1 s evaluations: exact to one evaluation.
      expect(Math.abs(Number(m![5]) - total), `${name} total`).toBeLessThanOrEqual(1);
      expect(Math.abs(Number(m![6]) - longest), `${name} longest`).toBeLessThanOrEqual(1);
    }
    for (const silent of ["FlakyPending", "InfoOnly", "Watchdog"]) expect(text).not.toContain(silent);
    expect(text).toContain(`runbook: ${runbookUrl(environment("prod"), "ApiDown")}`);
    expect(text).toMatch(/DbSlow \(critical; instance=db-a\): \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC -> \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, [34]s/);
    expect(text).toMatch(/QueueBacklog \(warning\): .* -> still firing/);

    const html = mail.parsed.html || "";
    expect(html).toContain("Fired: 6   Resolved: 5   Still firing: 1");
    expect(html).toContain("Pages (critical): 3   Warnings: 3");
    expect(html).toContain(`<a href="${runbookUrl(environment("prod"), "DiskAlmostFull")}">DiskAlmostFull</a>`);
    expect((html.match(/<tr>/g) ?? []).length).toBe(1 + 4 + 1 + 6); // header + 4 alerts, header + 6 episodes
  }, 60_000);

  it("counts an alert already firing when the window began as not fired in it, and leaves out what ended before", async () => {
    const res = await runOps("digest", ["--since", iso(t0 + 7), "--now", iso(t0 + 16), "--dry-run"], env());
    expect(res.code, res.stdout + res.stderr).toBe(0);
    // In (T0+7, T0+16]: DiskAlmostFull's second episode fires and resolves; ApiDown and QueueBacklog were already firing.
    expect(lastJsonLine(res.stdout)).toEqual({ sent: false, fired: 1, resolved: 2, stillFiring: 1, pages: 1, warnings: 2 });
    expect(res.stdout).toMatch(/ApiDown \(critical\): already firing -> /);
    expect(res.stdout).not.toContain("DbSlow");
  }, 30_000);

  it("fails when TLS is required and the server offers none, and when the password is wrong", async () => {
    const before = smtp.messages.length;
    const tls = await runOps("digest", ["--since", "1h"], { ...env(), SMTP_REQUIRE_TLS: "true" });
    expect(tls.code).toBe(1);
    expect(tls.stderr).toMatch(/STARTTLS/i);
    const badPassword = join(dir, "wrong-password");
    await writeFile(badPassword, "nope");
    const auth = await runOps("digest", ["--since", "1h"], { ...env(), SMTP_PASSWORD_FILE: badPassword });
    expect(auth.code).toBe(1);
    expect(auth.stderr).toMatch(/Invalid username or password|535/);
    expect(smtp.messages.length).toBe(before);
  }, 30_000);

  it("fails when Prometheus cannot be reached, and names a missing setting", async () => {
    const closed = await freePort();
    const down = await runOps("digest", ["--dry-run"], { ...env(), PROMETHEUS_URL: `http://127.0.0.1:${closed}` });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain("digest failed");
    const missing = await runOps("digest", [], { PROMETHEUS_URL: promUrl });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("SMTP_SMARTHOST");
  }, 30_000);
});

describe("episodes from ALERTS samples", () => {
  const firing = (values: number[], labels: Record<string, string> = {}): Series => ({
    metric: { __name__: "ALERTS", alertname: "A", alertstate: "firing", severity: "warning", ...labels },
    values: values.map((t) => [t, "1"] as [number, string]),
  });
  const forState = (pairs: [number, number][]): Series => ({ metric: { __name__: "ALERTS_FOR_STATE", alertname: "A", severity: "warning" }, values: pairs.map(([t, a]) => [t, String(a)] as [number, string]) });
  const w = { since: 100, now: 200 };

  it("keeps one episode across skipped evaluations when the active-since time is unchanged", () => {
    const s = firing([110, 120, 150, 160]);
    const e = episodesFrom([s], [forState([[110, 105], [120, 105], [150, 105], [160, 105]])], w, 10);
    expect(e.map((x) => [x.firingFrom, x.until, x.resolved, x.seconds])).toEqual([[110, 170, true, 60]]);
  });

  it("splits on a new activation, and on a gap where the active-since time is missing", () => {
    expect(episodesFrom([firing([110, 120, 130])], [forState([[110, 105], [120, 105], [130, 125]])], w, 10).length).toBe(2);
    expect(episodesFrom([firing([110, 120, 150, 160])], [], w, 10).map((x) => [x.firingFrom, x.until])).toEqual([
      [110, 130],
      [150, 170],
    ]);
  });

  it("clips an episode that began before the window, drops one that ended before it, and keeps one still firing open", () => {
    const e = episodesFrom([firing([60, 70]), firing([80, 90, 100, 110], { instance: "b" }), firing([180, 190], { instance: "c" })], [], w, 10);
    expect(e.map((x) => [x.labels.instance, x.startedBefore, x.resolved, x.seconds])).toEqual([
      ["b", true, true, 20],
      ["c", false, false, 20],
    ]);
  });

  it("reads the evaluation interval from the samples' spacing", () => {
    expect(evaluationInterval([firing([0, 30, 60, 90, 150])])).toBe(30);
    expect(evaluationInterval([])).toBe(60);
  });
});
