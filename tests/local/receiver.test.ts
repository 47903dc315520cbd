/**
 * The local receiver answers like PagerDuty, Slack and an SMTP relay would: valid events are
 * accepted and shown (grouped into incidents by dedup key), invalid ones are refused with the
 * real services' errors. SMTP is spoken over a real socket with STARTTLS and AUTH PLAIN.
 */
import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalReceiver } from "../../scripts/local/receiver.js";
import { selfSignedCertificate } from "../../scripts/local/tls.js";
import { tempDir } from "../monitoring/helpers.js";

const KEY = "R0UT1NGKEY-local-0123456789abcdef";
let r: LocalReceiver;
let ca: Buffer;

beforeAll(async () => {
  const cert = await selfSignedCertificate(await tempDir("receiver"));
  ca = cert.cert;
  r = await LocalReceiver.start({ routingKey: KEY, heartbeatToken: "hb", smtp: { username: "alertmanager", password: "pw", key: cert.key, cert: cert.cert } });
});
afterAll(() => r?.close());

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });

const trigger = (over: Record<string, unknown> = {}) => ({
  routing_key: KEY,
  event_action: "trigger",
  dedup_key: "k1",
  payload: { summary: "ApiHighErrorRate: More than 5% of API requests fail.", source: "Alertmanager", severity: "critical" },
  links: [{ href: "https://github.com/acme/product-platform/blob/main/runbooks/apihigherrorrate.md", text: "Runbook" }],
  ...over,
});

describe("PagerDuty Events API v2", () => {
  it("accepts a trigger with 202 and the dedup key, and a resolve closes the incident", async () => {
    const res = await post(r.pagerdutyUrl, trigger());
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: "success", message: "Event processed", dedup_key: "k1" });
    expect((await post(r.pagerdutyUrl, trigger())).status).toBe(202);
    expect(r.incidents()).toMatchObject([{ dedupKey: "k1", open: true, severity: "critical", events: 2 }]);
    expect((await post(r.pagerdutyUrl, { routing_key: KEY, event_action: "resolve", dedup_key: "k1" })).status).toBe(202);
    const [incident] = r.incidents();
    expect(incident).toMatchObject({ open: false, events: 3 });
    expect(incident!.resolvedAt).toBeGreaterThanOrEqual(incident!.triggeredAt);
  });

  it("generates a dedup key for a trigger without one", async () => {
    const res = await post(r.pagerdutyUrl, trigger({ dedup_key: undefined }));
    expect(res.status).toBe(202);
    expect(((await res.json()) as { dedup_key: string }).dedup_key).toMatch(/^[0-9a-f]{32}$/);
  });

  it.each([
    [{ routing_key: "wrong" }, "Invalid routing key"],
    [{ event_action: "page" }, "event_action must be trigger, acknowledge or resolve"],
    [{ payload: { summary: "x", source: "am", severity: "fatal" } }, "payload.severity must be critical, error, warning or info"],
    [{ payload: { source: "am", severity: "critical" } }, "payload.summary"],
    [{ payload: undefined }, "payload is required for trigger events"],
    [{ event_action: "resolve", dedup_key: undefined }, "dedup_key is required for resolve events"],
    [{ links: [{ text: "Runbook" }] }, "links.0.href"],
  ])("refuses %o with 400 and the error", async (change, error) => {
    const before = r.pages.length;
    const res = await post(r.pagerdutyUrl, trigger(change));
    expect(res.status).toBe(400);
    const body = (await res.json()) as { status: string; errors: string[] };
    expect(body.status).toBe("invalid event");
    expect(body.errors.join(" ")).toContain(error);
    expect(r.pages.length).toBe(before);
  });

  it("refuses malformed JSON", async () => {
    expect((await post(r.pagerdutyUrl, "{nope")).status).toBe(400);
  });
});

describe("Slack incoming webhook", () => {
  it("accepts attachments with 200 ok and keeps the runbook link", async () => {
    const res = await post(r.slackWebhookUrl, { channel: "#alerts-dev", attachments: [{ title: "[FIRING:1] DeadLetterQueueNotEmpty", title_link: "https://github.com/acme/product-platform/blob/main/runbooks/deadletterqueuenotempty.md", text: "x" }] });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("ok");
    expect(r.slack.at(-1)).toMatchObject({ channel: "#alerts-dev", runbookLinks: ["https://github.com/acme/product-platform/blob/main/runbooks/deadletterqueuenotempty.md"] });
  });

  it("refuses an empty message, malformed JSON and an unknown webhook", async () => {
    const empty = await post(r.slackWebhookUrl, { channel: "#x" });
    expect([empty.status, await empty.text()]).toEqual([400, "no_text"]);
    const bad = await post(r.slackWebhookUrl, "not json");
    expect([bad.status, await bad.text()]).toEqual([400, "invalid_payload"]);
    const unknown = await post(`${r.url}/services/T1/B1/other`, { text: "hi" });
    expect([unknown.status, await unknown.text()]).toEqual([404, "no_service"]);
  });
});

describe("heartbeat", () => {
  it("needs the bearer token", async () => {
    expect((await post(r.heartbeatUrl, { status: "firing", alerts: [] })).status).toBe(401);
    const ok = await post(r.heartbeatUrl, { status: "firing", alerts: [{ labels: { alertname: "Watchdog" } }] }, { authorization: "Bearer hb" });
    expect(ok.status).toBe(200);
    expect(r.heartbeats.at(-1)).toMatchObject({ status: "firing", alertnames: ["Watchdog"] });
  });
});

/** A minimal SMTP client: reads replies line by line, upgrades with STARTTLS. */
class SmtpClient {
  private buf = "";
  private waiters: ((line: string) => void)[] = [];
  private constructor(private sock: Socket | TLSSocket) {
    this.listen(sock);
  }
  static async open(host: string, port: number): Promise<SmtpClient> {
    const s = netConnect(port, host);
    await new Promise((res, rej) => s.once("connect", res).once("error", rej));
    return new SmtpClient(s);
  }
  private listen(s: Socket | TLSSocket) {
    s.on("data", (d: Buffer) => {
      this.buf += d.toString();
      let i;
      while ((i = this.buf.indexOf("\r\n")) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 2);
        // Multi-line replies ("250-..."): only the last line ("250 ...") completes the reply.
        if (/^\d{3} /.test(line)) this.waiters.shift()?.(line);
      }
    });
  }
  reply(): Promise<string> {
    return new Promise((res) => this.waiters.push(res));
  }
  async cmd(line: string): Promise<string> {
    const p = this.reply();
    this.sock.write(line + "\r\n");
    return p;
  }
  async startTls(ca: Buffer): Promise<void> {
    expect(await this.cmd("STARTTLS")).toMatch(/^220/);
    this.sock.removeAllListeners("data");
    const t = tlsConnect({ socket: this.sock as Socket, ca, servername: "localhost" });
    await new Promise((res, rej) => t.once("secureConnect", res).once("error", rej));
    this.sock = t;
    this.listen(t);
  }
  close() {
    this.sock.destroy();
  }
}

describe("SMTP", () => {
  it("takes a message over STARTTLS with AUTH and parses it; refuses AUTH before TLS and a wrong password", async () => {
    const [host, port] = r.smarthost.split(":");
    const c = await SmtpClient.open(host!, Number(port));
    try {
      const greeting = c.reply();
      expect(await greeting).toMatch(/^220/);
      expect(await c.cmd("EHLO test")).toMatch(/^250/);
      const plain = (u: string, p: string) => Buffer.from(`\0${u}\0${p}`).toString("base64");
      expect(await c.cmd(`AUTH PLAIN ${plain("alertmanager", "pw")}`)).toMatch(/^538|^530/);
      await c.startTls(ca);
      expect(await c.cmd("EHLO test")).toMatch(/^250/);
      expect(await c.cmd(`AUTH PLAIN ${plain("alertmanager", "wrong")}`)).toMatch(/^535/);
      expect(await c.cmd(`AUTH PLAIN ${plain("alertmanager", "pw")}`)).toMatch(/^235/);
      expect(await c.cmd("MAIL FROM:<alertmanager-dev@acme.example>")).toMatch(/^250/);
      expect(await c.cmd("RCPT TO:<oncall-digest+dev@acme.example>")).toMatch(/^250/);
      expect(await c.cmd("DATA")).toMatch(/^354/);
      const body = [
        "From: alertmanager-dev@acme.example",
        "To: oncall-digest+dev@acme.example",
        "Subject: [dev] Daily alert summary: 1 warning alert(s) firing",
        "Content-Type: text/plain",
        "",
        "Runbook: https://github.com/acme/product-platform/blob/main/runbooks/nodehighcpu.md",
        ".",
      ].join("\r\n");
      expect(await c.cmd(body)).toMatch(/^250/);
      await c.cmd("QUIT");
    } finally {
      c.close();
    }
    expect(r.emails.at(-1)).toMatchObject({
      subject: "[dev] Daily alert summary: 1 warning alert(s) firing",
      to: ["oncall-digest+dev@acme.example"],
      user: "alertmanager",
      runbookLinks: ["https://github.com/acme/product-platform/blob/main/runbooks/nodehighcpu.md"],
    });
  });
});

describe("what arrived", () => {
  it("is listed on the HTML page and in the JSON endpoint", async () => {
    const html = await (await fetch(r.url)).text();
    expect(html).toContain("PagerDuty incidents");
    expect(html).toContain("apihigherrorrate.md");
    expect(html).toContain("Daily alert summary");
    const json = (await (await fetch(`${r.url}/api/received`)).json()) as { incidents: unknown[]; slack: unknown[]; emails: unknown[]; heartbeats: unknown[]; rejected: unknown[] };
    expect(json.incidents.length).toBeGreaterThanOrEqual(2);
    expect(json.slack).toHaveLength(1);
    expect(json.emails).toHaveLength(1);
    expect(json.heartbeats).toHaveLength(1);
    expect(json.rejected.length).toBeGreaterThan(5);
  });
});
