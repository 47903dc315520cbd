/**
 * The local receiver: where Alertmanager's notifications land on one machine. It speaks the real
 * protocols, and refuses what the real services would refuse:
 *   POST /v2/enqueue              PagerDuty Events API v2 (routing key, event_action, dedup_key,
 *                                 payload.summary/source/severity, links); 202 or 400 with errors
 *   POST /services/<T>/<B>/<key>  a Slack incoming webhook (text, blocks or attachments);
 *                                 200 "ok", 400 "invalid_payload" / "no_text", 404 "no_service"
 *   POST /heartbeat               the Watchdog's dead man's switch (bearer token)
 *   SMTP (smtp-server)            STARTTLS with the certificate it is given, AUTH PLAIN/LOGIN,
 *                                 messages parsed with mailparser
 * What arrived is shown on GET / (pages grouped into incidents by dedup_key, Slack messages and
 * emails with their runbook links) and as JSON on GET /api/received, which the tests read.
 * Used by `npm run platform:local` (scripts/local/platform.ts) and the e2e suite.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { z } from "zod";

export const PAGERDUTY_SEVERITIES = ["critical", "error", "warning", "info"] as const;

/** A PagerDuty Events API v2 event, validated as PagerDuty documents it. */
const pagerdutyEvent = z
  .object({
    routing_key: z.string().min(1, "routing_key is required"),
    event_action: z.enum(["trigger", "acknowledge", "resolve"], { message: "event_action must be trigger, acknowledge or resolve" }),
    dedup_key: z.string().min(1).max(255).optional(),
    client: z.string().optional(),
    client_url: z.string().optional(),
    payload: z
      .object({
        summary: z.string().min(1, "payload.summary is required").max(1024),
        source: z.string().min(1, "payload.source is required"),
        severity: z.enum(PAGERDUTY_SEVERITIES, { message: "payload.severity must be critical, error, warning or info" }),
        timestamp: z.string().optional(),
        component: z.string().optional(),
        group: z.string().optional(),
        class: z.string().optional(),
        custom_details: z.unknown().optional(),
      })
      .optional(),
    links: z.array(z.object({ href: z.string().min(1, "links[].href is required"), text: z.string().optional() })).optional(),
    images: z.array(z.object({ src: z.string().min(1) }).passthrough()).optional(),
  })
  .superRefine((e, ctx) => {
    if (e.event_action === "trigger" && !e.payload) ctx.addIssue({ code: "custom", message: "payload is required for trigger events" });
    if (e.event_action !== "trigger" && !e.dedup_key) ctx.addIssue({ code: "custom", message: `dedup_key is required for ${e.event_action} events` });
  });
export type PagerDutyEvent = z.infer<typeof pagerdutyEvent>;

const slackMessage = z
  .object({
    text: z.string().optional(),
    channel: z.string().optional(),
    username: z.string().optional(),
    blocks: z.array(z.unknown()).optional(),
    attachments: z.array(z.object({ title: z.string().optional(), title_link: z.string().optional(), text: z.string().optional(), fallback: z.string().optional() }).passthrough()).optional(),
  })
  .passthrough();
export type SlackMessage = z.infer<typeof slackMessage>;

export interface Received<T> {
  readonly at: number;
  readonly body: T;
}
export interface ReceivedPage extends Received<PagerDutyEvent> {
  readonly dedupKey: string;
}
export interface ReceivedSlack extends Received<SlackMessage> {
  readonly channel: string;
  readonly runbookLinks: string[];
}
export interface ReceivedEmail {
  readonly at: number;
  readonly from: string;
  readonly to: string[];
  readonly subject: string;
  readonly text: string;
  readonly runbookLinks: string[];
  readonly user: string;
}
export interface ReceivedHeartbeat {
  readonly at: number;
  readonly status: string;
  readonly alertnames: string[];
}
export interface Rejected {
  readonly at: number;
  readonly endpoint: string;
  readonly status: number;
  readonly reason: string;
}
/** The pages of one dedup key, as PagerDuty would show one incident. */
export interface Incident {
  readonly dedupKey: string;
  readonly summary: string;
  readonly severity: string;
  readonly links: { href: string; text?: string }[];
  readonly triggeredAt: number;
  readonly resolvedAt?: number;
  readonly events: number;
  readonly open: boolean;
}

export interface ReceivedSnapshot {
  readonly pages: ReceivedPage[];
  readonly incidents: Incident[];
  readonly slack: ReceivedSlack[];
  readonly emails: ReceivedEmail[];
  readonly heartbeats: ReceivedHeartbeat[];
  readonly rejected: Rejected[];
}

export interface ReceiverOptions {
  /** The PagerDuty integration (routing) key Alertmanager must send. */
  readonly routingKey: string;
  /** Bearer token the heartbeat endpoint requires. */
  readonly heartbeatToken: string;
  readonly smtp: { readonly username: string; readonly password: string; readonly key: string | Buffer; readonly cert: string | Buffer };
  readonly host?: string;
  readonly port?: number;
  readonly smtpPort?: number;
}

const RUNBOOK_LINK = /https?:\/\/[^\s"'<>|)]+\/runbooks\/[^\s"'<>|)]+\.md/g;
const runbookLinks = (text: string): string[] => [...new Set(text.match(RUNBOOK_LINK) ?? [])];

async function readBody(req: IncomingMessage, max = 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    n += (c as Buffer).length;
    if (n > max) throw new Error("request body too large");
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function send(res: ServerResponse, status: number, body: unknown, type = "application/json"): void {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(text) });
  res.end(text);
}

export class LocalReceiver {
  readonly pages: ReceivedPage[] = [];
  readonly slack: ReceivedSlack[] = [];
  readonly emails: ReceivedEmail[] = [];
  readonly heartbeats: ReceivedHeartbeat[] = [];
  readonly rejected: Rejected[] = [];
  /** The path of the one Slack webhook this receiver accepts (a secret, as Slack's are). */
  readonly slackPath = `/services/T0LOCAL/B0LOCAL/${randomBytes(12).toString("hex")}`;
  private http!: Server;
  private smtpServer!: SMTPServer;
  private baseUrl = "";
  private smtpAddress = { host: "", port: 0 };

  private constructor(private readonly opts: ReceiverOptions) {}

  static async start(opts: ReceiverOptions): Promise<LocalReceiver> {
    const r = new LocalReceiver(opts);
    const host = opts.host ?? "127.0.0.1";
    r.http = createServer((req, res) => {
      r.handle(req, res).catch((err: unknown) => send(res, 500, { error: (err as Error).message }));
    });
    await new Promise<void>((resolve, reject) => {
      r.http.once("error", reject);
      r.http.listen(opts.port ?? 0, host, () => resolve());
    });
    r.baseUrl = `http://${host}:${(r.http.address() as AddressInfo).port}`;
    r.smtpServer = r.createSmtp();
    await new Promise<void>((resolve, reject) => {
      r.smtpServer.once("error", reject);
      r.smtpServer.listen(opts.smtpPort ?? 0, host, () => resolve());
    });
    r.smtpServer.on("error", () => undefined);
    r.smtpAddress = { host, port: (r.smtpServer.server.address() as AddressInfo).port };
    return r;
  }

  get url(): string {
    return this.baseUrl;
  }
  get pagerdutyUrl(): string {
    return `${this.baseUrl}/v2/enqueue`;
  }
  get slackWebhookUrl(): string {
    return this.baseUrl + this.slackPath;
  }
  get heartbeatUrl(): string {
    return `${this.baseUrl}/heartbeat`;
  }
  /** host:port, as Alertmanager's smtp_smarthost wants it. */
  get smarthost(): string {
    return `${this.smtpAddress.host}:${this.smtpAddress.port}`;
  }

  /** PagerDuty's view: one incident per dedup key, opened by a trigger and closed by a resolve. */
  incidents(): Incident[] {
    const byKey = new Map<string, Incident>();
    for (const p of this.pages) {
      const prev = byKey.get(p.dedupKey);
      const e = p.body;
      if (e.event_action === "trigger") {
        if (!prev || !prev.open) {
          byKey.set(p.dedupKey, { dedupKey: p.dedupKey, summary: e.payload!.summary, severity: e.payload!.severity, links: e.links ?? [], triggeredAt: p.at, events: (prev?.events ?? 0) + 1, open: true });
        } else {
          byKey.set(p.dedupKey, { ...prev, events: prev.events + 1 });
        }
      } else if (e.event_action === "resolve" && prev) {
        byKey.set(p.dedupKey, { ...prev, resolvedAt: p.at, events: prev.events + 1, open: false });
      } else if (prev) {
        byKey.set(p.dedupKey, { ...prev, events: prev.events + 1 });
      }
    }
    return [...byKey.values()];
  }

  snapshot(): ReceivedSnapshot {
    return { pages: this.pages, incidents: this.incidents(), slack: this.slack, emails: this.emails, heartbeats: this.heartbeats, rejected: this.rejected };
  }

  async close(): Promise<void> {
    this.http.closeAllConnections();
    await Promise.all([new Promise<void>((r) => this.http.close(() => r())), new Promise<void>((r) => this.smtpServer.close(() => r()))]);
  }

  private reject(res: ServerResponse, endpoint: string, status: number, reason: string, body: unknown, type?: string): void {
    this.rejected.push({ at: Date.now(), endpoint, status, reason });
    send(res, status, body, type);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.baseUrl);
    if (req.method === "GET" && url.pathname === "/") return send(res, 200, this.page(), "text/html; charset=utf-8");
    if (req.method === "GET" && url.pathname === "/api/received") return send(res, 200, this.snapshot());
    if (req.method === "POST" && url.pathname === "/v2/enqueue") return this.pagerduty(req, res);
    if (req.method === "POST" && url.pathname.startsWith("/services/")) return this.slackWebhook(req, res, url.pathname);
    if (req.method === "POST" && url.pathname === "/heartbeat") return this.heartbeat(req, res);
    send(res, 404, { error: "not found" });
  }

  private async pagerduty(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const invalid = (errors: string[]) => this.reject(res, "pagerduty", 400, errors.join("; "), { status: "invalid event", message: "Event object is invalid", errors });
    let json: unknown;
    try {
      json = JSON.parse(await readBody(req));
    } catch {
      return invalid(["Malformed JSON"]);
    }
    const parsed = pagerdutyEvent.safeParse(json);
    if (!parsed.success) return invalid(parsed.error.issues.map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message)));
    if (parsed.data.routing_key !== this.opts.routingKey) return invalid(["Invalid routing key"]);
    // PagerDuty generates a dedup key when a trigger has none.
    const dedupKey = parsed.data.dedup_key ?? randomBytes(16).toString("hex");
    this.pages.push({ at: Date.now(), body: parsed.data, dedupKey });
    send(res, 202, { status: "success", message: "Event processed", dedup_key: dedupKey });
  }

  private async slackWebhook(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (path !== this.slackPath) return this.reject(res, "slack", 404, "no_service", "no_service", "text/plain");
    let json: unknown;
    try {
      json = JSON.parse(await readBody(req));
    } catch {
      return this.reject(res, "slack", 400, "invalid_payload", "invalid_payload", "text/plain");
    }
    const parsed = slackMessage.safeParse(json);
    if (!parsed.success) return this.reject(res, "slack", 400, "invalid_payload", "invalid_payload", "text/plain");
    const m = parsed.data;
    if (!m.text && !(m.blocks?.length) && !(m.attachments?.length)) return this.reject(res, "slack", 400, "no_text", "no_text", "text/plain");
    this.slack.push({ at: Date.now(), body: m, channel: m.channel ?? "", runbookLinks: runbookLinks(JSON.stringify(m)) });
    send(res, 200, "ok", "text/plain");
  }

  private async heartbeat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.headers.authorization !== `Bearer ${this.opts.heartbeatToken}`) return this.reject(res, "heartbeat", 401, "bad or missing bearer token", { error: "unauthorized" });
    let body: { status?: string; alerts?: { labels?: Record<string, string> }[] };
    try {
      body = JSON.parse(await readBody(req)) as typeof body;
    } catch {
      return this.reject(res, "heartbeat", 400, "malformed JSON", { error: "malformed JSON" });
    }
    this.heartbeats.push({ at: Date.now(), status: body.status ?? "", alertnames: (body.alerts ?? []).map((a) => a.labels?.alertname ?? "") });
    send(res, 200, { ok: true });
  }

  private createSmtp(): SMTPServer {
    const { username, password, key, cert } = this.opts.smtp;
    return new SMTPServer({
      key,
      cert,
      secure: false, // plain connection, upgraded with STARTTLS, as port 587 does
      authMethods: ["PLAIN", "LOGIN"],
      allowInsecureAuth: false,
      banner: "local receiver",
      logger: false,
      size: 5 * 1024 * 1024,
      onAuth: (auth, _session, cb) => {
        if (auth.username === username && auth.password === password) return cb(null, { user: auth.username });
        this.rejected.push({ at: Date.now(), endpoint: "smtp", status: 535, reason: `authentication failed for ${auth.username}` });
        cb(new Error("Invalid username or password"));
      },
      onData: (stream, session, cb) => {
        simpleParser(stream)
          .then((mail) => {
            const to = (Array.isArray(mail.to) ? mail.to : mail.to ? [mail.to] : []).flatMap((a) => a.value.map((v) => v.address ?? ""));
            const text = mail.text ?? "";
            this.emails.push({
              at: Date.now(),
              from: mail.from?.value[0]?.address ?? "",
              to,
              subject: mail.subject ?? "",
              text,
              runbookLinks: runbookLinks(`${text} ${typeof mail.html === "string" ? mail.html : ""}`),
              user: String(session.user ?? ""),
            });
            cb();
          })
          .catch((err: Error) => cb(err));
      },
    });
  }

  private page(): string {
    const esc = (s: unknown) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
    const time = (ms?: number) => (ms ? new Date(ms).toISOString().slice(11, 23) : "");
    const links = (ls: readonly string[]) => ls.map((l) => `<a href="${esc(l)}">${esc(l.split("/").pop())}</a>`).join(" ");
    const incidents = this.incidents()
      .reverse()
      .map((i) => `<tr><td>${i.open ? "<b>open</b>" : "resolved"}</td><td>${esc(i.summary)}</td><td>${esc(i.severity)}</td><td>${time(i.triggeredAt)}</td><td>${time(i.resolvedAt)}</td><td>${links(i.links.map((l) => l.href))}</td><td><code>${esc(i.dedupKey.slice(0, 12))}</code></td><td>${i.events}</td></tr>`)
      .join("");
    const slack = [...this.slack]
      .reverse()
      .map((s) => `<tr><td>${time(s.at)}</td><td>${esc(s.channel)}</td><td>${esc(s.body.attachments?.[0]?.title ?? s.body.text ?? "")}</td><td>${links(s.runbookLinks)}</td></tr>`)
      .join("");
    const emails = [...this.emails]
      .reverse()
      .map((e) => `<tr><td>${time(e.at)}</td><td>${esc(e.to.join(", "))}</td><td>${esc(e.subject)}</td><td>${links(e.runbookLinks)}</td></tr>`)
      .join("");
    const last = this.heartbeats.at(-1);
    return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="3"><title>Local receiver</title>
<style>body{font:14px system-ui,sans-serif;margin:1.5em}table{border-collapse:collapse;margin-bottom:1.5em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}th{background:#eee}</style></head><body>
<h1>Local receiver</h1>
<p>Heartbeats (Watchdog): ${this.heartbeats.length}${last ? `, last at ${time(last.at)}` : ""}. Rejected requests: ${this.rejected.length}. JSON: <a href="/api/received">/api/received</a>. Times are UTC.</p>
<h2>PagerDuty incidents (by dedup key)</h2><table><tr><th>state</th><th>summary</th><th>severity</th><th>triggered</th><th>resolved</th><th>links</th><th>dedup key</th><th>events</th></tr>${incidents}</table>
<h2>Slack messages</h2><table><tr><th>at</th><th>channel</th><th>title</th><th>runbook</th></tr>${slack}</table>
<h2>Emails</h2><table><tr><th>at</th><th>to</th><th>subject</th><th>runbook</th></tr>${emails}</table>
</body></html>`;
  }
}
