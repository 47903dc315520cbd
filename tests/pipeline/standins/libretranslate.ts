/**
 * A LibreTranslate-compatible server: POST /translate with q (string or array), source,
 * target, format, api_key; answers {translatedText}. Errors look like LibreTranslate's:
 * {"error": "..."} with 400 (bad language), 403 (bad api key) and 429 (rate limit).
 * The "translation" is deterministic: "[<target>] <text>".
 */
import { Faults, listen, readBody, sendJson, sleep, type Listening } from "./http-util.js";

const LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "pl", "pt"];

export class LibreTranslateStandin {
  readonly faults = new Faults();
  /** Every accepted /translate call: {source, target, q}. */
  readonly calls: { source: string; target: string; q: string[]; status: number }[] = [];
  private listening!: Listening;

  constructor(private readonly apiKey?: string) {}

  static async start(opts: { apiKey?: string; port?: number } = {}): Promise<LibreTranslateStandin> {
    const s = new LibreTranslateStandin(opts.apiKey);
    s.listening = await listen(async (req, res, url) => {
      if (req.method === "GET" && url.pathname === "/languages") {
        return sendJson(res, 200, LANGUAGES.map((code) => ({ code, name: code, targets: LANGUAGES })));
      }
      if (req.method !== "POST" || url.pathname !== "/translate") return sendJson(res, 404, { error: "Not Found" });
      const raw = (await readBody(req)).toString("utf8");
      const ct = req.headers["content-type"] ?? "";
      let body: Record<string, unknown>;
      try {
        body = ct.includes("application/json") ? (JSON.parse(raw) as Record<string, unknown>) : Object.fromEntries(new URLSearchParams(raw));
      } catch {
        return sendJson(res, 400, { error: "Invalid request: malformed JSON" });
      }
      const q = Array.isArray(body.q) ? body.q : typeof body.q === "string" ? [body.q] : undefined;
      const source = String(body.source ?? "");
      const target = String(body.target ?? "");
      const record = (status: number) => s.calls.push({ source, target, q: (q ?? []).map(String), status });
      const fault = s.faults.take();
      if (fault?.delayMs) await sleep(fault.delayMs);
      if (fault?.status) {
        record(fault.status);
        return sendJson(res, fault.status, fault.body ?? { error: fault.status === 429 ? "Too many request limits violations" : "Internal Server Error" });
      }
      if (!q || !q.every((x) => typeof x === "string")) return record(400), sendJson(res, 400, { error: "Invalid request: missing q parameter" });
      if (s.apiKey && body.api_key !== s.apiKey) return record(403), sendJson(res, 403, { error: "Invalid API key" });
      if (source !== "auto" && !LANGUAGES.includes(source)) return record(400), sendJson(res, 400, { error: `${source} is not supported` });
      if (!LANGUAGES.includes(target)) return record(400), sendJson(res, 400, { error: `${target} is not supported` });
      record(200);
      const out = q.map((t) => (t ? `[${target}] ${t}` : t));
      return sendJson(res, 200, { translatedText: Array.isArray(body.q) ? out : out[0] });
    }, opts.port);
    return s;
  }

  get url(): string {
    return this.listening.url;
  }
  close(): Promise<void> {
    return this.listening.close();
  }
}
