/**
 * The RabbitMQ connection. rabbitmq-client reconnects forever with backoff once connected;
 * at start-up we wait a bounded time so a missing broker is a clear message, not a hang.
 */
import { Connection } from "rabbitmq-client";
import type { Logger } from "./logger.js";

export class BrokerUnreachableError extends Error {
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    super(
      `RabbitMQ is not reachable at ${redact(url)} (${(cause as Error)?.message ?? String(cause)}). ` +
        "Start it (for example `rabbitmq-server -detached`, or `systemctl start rabbitmq-server`) or point AMQP_URL at a running broker.",
    );
    this.name = "BrokerUnreachableError";
  }
}

export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(invalid AMQP_URL)";
  }
}

export interface BrokerOptions {
  readonly url: string;
  readonly connectTimeoutMs: number;
  readonly logger: Logger;
  readonly connectionName?: string;
}

/** Every broker connection of the platform disables Nagle's algorithm (see connectBroker). */
export const BROKER_NO_DELAY = true;

/** Connects, or throws BrokerUnreachableError after connectTimeoutMs. */
export async function connectBroker(opts: BrokerOptions): Promise<Connection> {
  const conn = new Connection({
    url: opts.url,
    connectionName: opts.connectionName ?? "product-platform",
    retryLow: 500,
    retryHigh: 15_000,
    connectionTimeout: Math.min(opts.connectTimeoutMs, 10_000),
    // TCP_NODELAY. rabbitmq-client leaves Nagle's algorithm on unless told: a small frame (an
    // ack, a publish) then waits for the broker's delayed ACK of the previous one, and every
    // publish-to-delivery hop took 20-50 ms instead of about 1 ms (npm run bench:jobs, latency).
    noDelay: BROKER_NO_DELAY,
  });
  let lastError: unknown;
  const onError = (err: unknown) => {
    lastError = err;
  };
  conn.on("error", onError);
  try {
    await conn.onConnect(opts.connectTimeoutMs);
  } catch (err) {
    throw new BrokerUnreachableError(opts.url, lastError ?? err);
  } finally {
    conn.off("error", onError);
  }
  conn.on("error", (err) => opts.logger.error({ err }, "rabbitmq connection error; reconnecting"));
  conn.on("connection", () => opts.logger.info("rabbitmq connection (re)established"));
  return conn;
}
