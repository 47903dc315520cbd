/**
 * Translation behind a small interface. The production provider speaks LibreTranslate's HTTP
 * API: POST /translate {q, source, target, format, api_key} -> {translatedText}.
 */
import { FetchError, isTransientStatus, safeFetch, type FetchLimits } from "./http.js";
import { ProviderError } from "./provider-error.js";

export interface TranslationProvider {
  readonly name: string;
  /** Translates every text from `source` to `target`, in order. */
  translate(texts: readonly string[], source: string, target: string, signal?: AbortSignal): Promise<string[]>;
}

export interface LibreTranslateOptions {
  readonly baseUrl: string;
  readonly apiKey?: string;
  readonly limits: FetchLimits;
}

export class LibreTranslateProvider implements TranslationProvider {
  readonly name = "libretranslate";
  constructor(private readonly opts: LibreTranslateOptions) {}

  async translate(texts: readonly string[], source: string, target: string, signal?: AbortSignal): Promise<string[]> {
    if (texts.length === 0) return [];
    const url = new URL("translate", this.opts.baseUrl.endsWith("/") ? this.opts.baseUrl : `${this.opts.baseUrl}/`).toString();
    const body = JSON.stringify({ q: texts, source, target, format: "text", ...(this.opts.apiKey ? { api_key: this.opts.apiKey } : {}) });
    let res;
    try {
      res = await safeFetch(url, { ...this.opts.limits, blockPrivate: false }, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body,
        signal,
      });
    } catch (err) {
      if (err instanceof FetchError) throw new ProviderError(`translation service: ${err.message}`, err.transient);
      throw err;
    }
    if (res.status !== 200) {
      let reason: string;
      try {
        reason = String(res.json<{ error?: unknown }>().error ?? "");
      } catch {
        reason = res.text().slice(0, 200);
      }
      throw new ProviderError(`translation service answered ${res.status}${reason ? `: ${reason}` : ""}`, isTransientStatus(res.status), res.status);
    }
    let parsed: { translatedText?: unknown };
    try {
      parsed = res.json();
    } catch {
      throw new ProviderError("translation service returned invalid JSON", true, res.status);
    }
    const out = parsed.translatedText;
    const list = Array.isArray(out) ? out : [out];
    if (list.length !== texts.length || !list.every((t): t is string => typeof t === "string")) {
      throw new ProviderError("translation service returned an unexpected shape (translatedText)", true, res.status);
    }
    return list;
  }
}
