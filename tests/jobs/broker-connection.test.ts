/**
 * The services' RabbitMQ connection (services/broker.ts), against the real broker: Nagle's
 * algorithm off (rabbitmq-client leaves it on unless told, and each publish-to-delivery hop then
 * waited 20-50 ms for the broker's delayed ACK), and a clear error when no broker listens.
 */
import { createServer } from "node:net";
import { expect, it } from "vitest";
import { BROKER_NO_DELAY, BrokerUnreachableError, connectBroker } from "../../services/broker.js";
import { silentLogger } from "../../services/logger.js";

const AMQP_URL = process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";

it("opens its socket with TCP_NODELAY", async () => {
  expect(BROKER_NO_DELAY).toBe(true);
  const conn = await connectBroker({ url: AMQP_URL, connectTimeoutMs: 5000, logger: silentLogger(), connectionName: "broker-connection-test" });
  try {
    // rabbitmq-client 5.0 (pinned) calls socket.setNoDelay(!!opt.noDelay) on every (re)connect.
    expect((conn as unknown as { _opt: { noDelay?: boolean } })._opt.noDelay).toBe(true);
    expect(conn.ready).toBe(true);
  } finally {
    await conn.close();
  }
});

it("names the broker it could not reach, with the password masked", async () => {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r())); // nothing listens there now
  const err = await connectBroker({ url: `amqp://guest:secret@127.0.0.1:${port}`, connectTimeoutMs: 1500, logger: silentLogger() }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(BrokerUnreachableError);
  expect((err as Error).message).toContain(`127.0.0.1:${port}`);
  expect((err as Error).message).not.toContain("secret");
});
