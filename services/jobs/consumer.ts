/**
 * A work-queue consumer with a cheap ack path. Every delivery is handed to the engine at once
 * (the prefetch window bounds how many are in memory); the engine settles each one after its
 * outcome is committed. Acks are not sent one frame per message: settlements made in the same
 * turn of the event loop are flushed together, and the run of acked deliveries at the front of
 * the channel's unacked window goes out as one `basic.ack multiple=true` (one frame, and one
 * settle command in the quorum queue's log, for a whole group commit). Deliveries acked behind
 * one that is still running (a long job) are acked one by one, so a slow job never holds the
 * prefetch window. Requeues and drops are `basic.nack` frames sent at once.
 *
 * Lifecycle as in rabbitmq-client's Consumer: the channel is re-acquired with backoff when it
 * closes (connection lost, queue deleted), and deliveries of a closed channel settle as no-ops
 * (the broker redelivers them). close() cancels the subscription, waits until every delivery
 * in hand is settled, flushes the acks and closes the channel.
 */
import { EventEmitter } from "node:events";
import { ConsumerStatus, type AsyncMessage, type Channel, type Connection } from "rabbitmq-client";

export interface JobConsumerOptions {
  queue: string;
  /** Declare arguments of the queue (declared before consuming, as the engine's topology says). */
  arguments: Record<string, unknown>;
  prefetch: number;
}

/** One delivery's handle: settle it once, when its outcome is durable (or it must be requeued). */
export class Delivery {
  private settled = false;

  constructor(
    private readonly consumer: JobConsumer,
    private readonly session: Session,
    readonly tag: number,
  ) {}

  settle(status: ConsumerStatus): void {
    if (this.settled) return;
    this.settled = true;
    this.consumer.settle(this.session, this.tag, status);
  }
}

/** One channel's subscription: delivery tags are only meaningful on the channel that issued them. */
interface Session {
  readonly ch: Channel;
  /** Delivery tags handed out and not yet acked or nacked, in delivery (ascending) order. */
  readonly outstanding: Set<number>;
  /** Acks waiting for the next flush. */
  readonly acks: Set<number>;
  open: boolean;
}

const enum State {
  Connecting,
  Open,
  Closing,
  Closed,
}

export class JobConsumer extends EventEmitter {
  private state = State.Connecting;
  private session: Session | undefined;
  private consumerTag = "";
  private retryCount = 1;
  private retryTimer: NodeJS.Timeout | undefined;
  private setup: Promise<void> | undefined;
  private flushScheduled: Session | undefined;
  private idle: (() => void) | undefined;
  /** Acks sent, and how many deliveries they settled; for tuning and tests. */
  readonly stats = { ackFrames: 0, acked: 0, nacked: 0 };

  constructor(
    private readonly conn: Connection,
    private readonly opts: JobConsumerOptions,
    private readonly onDelivery: (msg: AsyncMessage, delivery: Delivery) => void,
  ) {
    super();
    this.connect();
  }

  /** Called by Delivery.settle. */
  settle(session: Session, tag: number, status: ConsumerStatus): void {
    if (!session.open) return; // the channel is gone; the broker redelivers what was unacked
    if (status === ConsumerStatus.ACK) {
      session.acks.add(tag);
      if (this.flushScheduled !== session) {
        this.flushScheduled = session;
        setImmediate(this.flushAcks);
      }
      return;
    }
    session.outstanding.delete(tag);
    this.stats.nacked++;
    try {
      session.ch.basicNack({ deliveryTag: tag, requeue: status === ConsumerStatus.REQUEUE });
    } catch (err) {
      this.emit("error", err);
    }
    this.checkIdle(session);
  }

  private readonly flushAcks = (): void => {
    const s = this.flushScheduled;
    this.flushScheduled = undefined;
    if (s) this.flush(s);
  };

  private flush(s: Session): void {
    if (!s.open || s.acks.size === 0) return;
    try {
      // The run of acked deliveries at the front of the window: one frame.
      let last = -1;
      for (const tag of s.outstanding) {
        if (!s.acks.has(tag)) break;
        s.outstanding.delete(tag);
        s.acks.delete(tag);
        last = tag;
        this.stats.acked++;
      }
      if (last >= 0) {
        s.ch.basicAck({ deliveryTag: last, multiple: true });
        this.stats.ackFrames++;
      }
      // Behind a delivery still in progress: one by one.
      for (const tag of s.acks) {
        s.outstanding.delete(tag);
        s.ch.basicAck({ deliveryTag: tag });
        this.stats.ackFrames++;
        this.stats.acked++;
      }
      s.acks.clear();
    } catch (err) {
      this.emit("error", err);
    }
    this.checkIdle(s);
  }

  private checkIdle(s: Session): void {
    if (this.idle && s.outstanding.size === 0) this.idle();
  }

  private connect(): void {
    this.retryTimer = undefined;
    const setup = this.subscribe().then(
      () => {
        this.setup = undefined;
      },
      (err: unknown) => {
        this.setup = undefined;
        if (this.state >= State.Closing) return;
        this.state = State.Connecting;
        if (this.retryCount <= 1) this.emit("error", new Error(`consumer setup failed; ${(err as Error).message}`, { cause: err }));
        this.reconnect();
      },
    );
    this.setup = setup;
  }

  private reconnect(): void {
    this.consumerTag = "";
    if (this.state >= State.Closing || this.retryTimer || this.setup) return;
    // The connection's own retry bounds (rabbitmq-client's Consumer reads them the same way).
    const { retryLow = 1000, retryHigh = 30_000 } = (this.conn as unknown as { _opt?: { retryLow?: number; retryHigh?: number } })._opt ?? {};
    const max = Math.min(retryHigh, retryLow * 2 ** Math.min(this.retryCount++, 16));
    const delay = retryLow + Math.random() * Math.max(0, max - retryLow);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  private async subscribe(): Promise<void> {
    const ch = await this.conn.acquire({ emitErrorsFromChannel: true });
    const session: Session = { ch, outstanding: new Set(), acks: new Set(), open: true };
    ch.on("error", (err: unknown) => this.emit("error", err));
    ch.once("close", () => {
      session.open = false;
      session.outstanding.clear();
      session.acks.clear();
      this.checkIdle(session);
      if (this.session === session) this.session = undefined;
      if (this.state >= State.Closing) return;
      this.state = State.Connecting;
      this.reconnect();
    });
    if (this.state >= State.Closing) {
      await ch.close();
      return;
    }
    this.session = session;
    await ch.queueDeclare({ queue: this.opts.queue, durable: true, arguments: this.opts.arguments });
    await ch.basicQos({ prefetchCount: this.opts.prefetch });
    const { consumerTag } = await ch.basicConsume({ queue: this.opts.queue }, (msg) => {
      session.outstanding.add(msg.deliveryTag);
      this.onDelivery(msg, new Delivery(this, session, msg.deliveryTag));
    });
    this.consumerTag = consumerTag;
    ch.once("basic.cancel", () => {
      // The queue was deleted (or the broker cancelled us): start over on a new channel.
      if (this.state < State.Closing) void ch.close().catch(() => undefined);
    });
    this.retryCount = 1;
    if (this.state === State.Connecting) this.state = State.Open;
    process.nextTick(() => this.emit("ready"));
  }

  /** Deliveries in hand (handed out, not yet settled). */
  get inHand(): number {
    return this.session?.outstanding.size ?? 0;
  }

  /**
   * Stops consuming: cancels the subscription, waits until every delivery in hand is settled,
   * sends the last acks and closes the channel.
   */
  async close(): Promise<void> {
    if (this.state === State.Closed) return;
    this.state = State.Closing;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.setup;
    const s = this.session;
    if (s?.open && this.consumerTag) {
      const tag = this.consumerTag;
      this.consumerTag = "";
      await s.ch.basicCancel({ consumerTag: tag }).catch(() => undefined);
    }
    // Deliveries still in hand settle when their handlers finish (or are released at the
    // shutdown deadline); the last settlement resolves this.
    if (s?.open && s.outstanding.size > 0) await new Promise<void>((resolve) => (this.idle = resolve));
    this.idle = undefined;
    if (s) this.flush(s);
    await s?.ch.close().catch(() => undefined);
    this.state = State.Closed;
  }
}
