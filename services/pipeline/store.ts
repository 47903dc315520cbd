/**
 * The store (shop) the approved products are pushed to, behind a small interface. The HTTP
 * client sends an Idempotency-Key: the same key always yields the same store product, so a
 * retried or repeated push never creates a second one.
 */
import { FetchError, isTransientStatus, safeFetch, type FetchLimits } from "./http.js";
import { ProviderError } from "./provider-error.js";

export interface StoreProductInput {
  readonly externalId: string;
  readonly sourceUrl: string;
  readonly title: string;
  readonly description: string;
  readonly price: string | null;
  readonly currency: string | null;
  readonly translations: Record<string, { title: string; description: string }>;
  readonly images: readonly { position: number; variants: unknown }[];
}

export interface StorePushResult {
  readonly storeProductId: string;
  /** False when the store replayed an earlier response for this idempotency key. */
  readonly created: boolean;
}

export interface StoreClient {
  pushProduct(product: StoreProductInput, idempotencyKey: string, signal?: AbortSignal): Promise<StorePushResult>;
}

export interface HttpStoreOptions {
  readonly baseUrl: string;
  readonly apiToken?: string;
  readonly limits: FetchLimits;
}

export class HttpStoreClient implements StoreClient {
  constructor(private readonly opts: HttpStoreOptions) {}

  async pushProduct(product: StoreProductInput, idempotencyKey: string, signal?: AbortSignal): Promise<StorePushResult> {
    const url = new URL("products", this.opts.baseUrl.endsWith("/") ? this.opts.baseUrl : `${this.opts.baseUrl}/`).toString();
    let res;
    try {
      res = await safeFetch(url, { ...this.opts.limits, blockPrivate: false }, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json",
          "idempotency-key": idempotencyKey,
          ...(this.opts.apiToken ? { authorization: `Bearer ${this.opts.apiToken}` } : {}),
        },
        body: JSON.stringify(product),
        signal,
      });
    } catch (err) {
      if (err instanceof FetchError) throw new ProviderError(`store: ${err.message}`, err.transient);
      throw err;
    }
    if (res.status !== 200 && res.status !== 201) {
      // 409: the store is still processing the first request with this key; retry later.
      const transient = isTransientStatus(res.status) || res.status === 409;
      throw new ProviderError(`store answered ${res.status}: ${res.text().slice(0, 300)}`, transient, res.status);
    }
    let id: unknown;
    try {
      id = res.json<{ id?: unknown }>().id;
    } catch {
      throw new ProviderError("store returned invalid JSON", true, res.status);
    }
    if (typeof id !== "string" && typeof id !== "number") throw new ProviderError("store response has no product id", true, res.status);
    const replayed = res.headers.get("idempotent-replayed") === "true";
    return { storeProductId: String(id), created: res.status === 201 && !replayed };
  }
}
