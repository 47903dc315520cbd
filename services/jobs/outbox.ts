/**
 * The way in: how a job gets from its row to its queue.
 *
 * 1. enqueue writes the row (`pending`, `published = false`: the row is its own outbox entry).
 *    Single enqueue calls that arrive within the commit window share one INSERT.
 * 2. Only after that commit is the message published, with publisher confirms. The payload is
 *    serialized once, for the INSERT and the message body alike.
 * 3. The confirmation is bookkeeping: `published = true` is written in large, late batches
 *    (a quarter of the outbox grace, at most a second). A job that has already been claimed
 *    or finished by then is marked published by that write, and its late mark changes nothing
 *    (the UPDATE finds `published` already true and writes no row version).
 * 4. Whatever was not confirmed (broker down, publish timed out, the process died between
 *    commit and confirm) is still `published = false`; the relay publishes those rows once
 *    they are older than the grace, and failed attempts whose retry is due.
 */
import { randomUUID } from "node:crypto";
import type { Connection, Publisher } from "rabbitmq-client";
import type { Logger } from "../logger.js";
import { Batcher } from "./batcher.js";
import type { JobStore, NewJob, OutboxRow, PublishedMark } from "./job-store.js";
import { HEADERS, retryQueue, workQueue } from "./topology.js";
import type { JobType } from "./types.js";

export interface EnqueueOptions {
  requestId?: string;
  /** Caller-chosen id (a UUID) makes enqueue idempotent: an existing job is left alone. */
  jobId?: string;
}

export interface EnqueueItem extends EnqueueOptions {
  type: JobType;
  payload: unknown;
}

export interface OutboxDeps {
  store: JobStore;
  broker: Connection;
  logger: Logger;
  clock: () => Date;
  namespace: string;
  maxAttempts: number;
  lingerMs: number;
  maxBatch: number;
  graceMs: number;
  publishTimeoutMs: number;
  /** True once the engine is stopping: nothing new is published. */
  stopping: () => boolean;
}

/** A message to publish: the payload already serialized. */
interface Outgoing {
  id: string;
  type: JobType;
  body: string;
  attempts: number;
  requestId: string | null;
  status: OutboxRow["status"];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isJobId(id: string | undefined): id is string {
  return id !== undefined && UUID.test(id);
}

export class Outbox {
  /** Single enqueue calls, group-committed; fails fast when the database is down. */
  readonly enqueues: Batcher<EnqueueItem, string>;
  /** Publish confirmations, written late and in bulk. */
  readonly marks: Batcher<PublishedMark, undefined>;
  private publisher: Publisher | undefined;
  private readonly inFlight = new Set<Promise<unknown>>();
  private relayRunning = false;

  constructor(private readonly d: OutboxDeps) {
    this.enqueues = new Batcher({ lingerMs: d.lingerMs, maxSize: d.maxBatch, retry: false, flush: (items) => this.enqueueNow(items) });
    this.marks = new Batcher({
      // Late enough that most jobs are claimed or finished first (then the mark is free), and
      // well inside the grace, so no other process's relay publishes a confirmed job again.
      lingerMs: Math.max(d.lingerMs, Math.min(1000, Math.floor(d.graceMs / 4))),
      maxSize: 5000,
      onError: (err, attempt) => d.logger.warn({ err, attempt }, "marking jobs published failed; retrying (is the database down?)"),
      flush: async (rows) => {
        await d.store.markPublished(rows);
        return rows.map(() => undefined);
      },
    });
  }

  start(): void {
    this.publisher = this.d.broker.createPublisher({ confirm: true, maxAttempts: 2 });
    this.publisher.on("retry", (err: unknown) => this.d.logger.warn({ err }, "publish failed once; retrying"));
  }

  /** Inserts the rows (one statement), then publishes the new ones with confirms. */
  async enqueueNow(items: EnqueueItem[]): Promise<string[]> {
    const max = this.d.maxAttempts;
    const jobs: (NewJob & { body: string })[] = new Array(items.length);
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!;
      const id = it.jobId ?? randomUUID();
      if (it.jobId !== undefined && !UUID.test(id)) throw new Error(`jobId must be a UUID, got ${id}`);
      const body = JSON.stringify(it.payload ?? null);
      jobs[i] = { id, type: it.type, payload: it.payload, body, maxAttempts: max, requestId: it.requestId };
    }
    const inserted = await this.d.store.insert(jobs, this.d.clock());
    if (this.publisher && !this.d.stopping()) {
      const fresh: Outgoing[] = [];
      for (const j of jobs) {
        if (inserted.has(j.id)) fresh.push({ id: j.id, type: j.type, body: j.body, attempts: 0, requestId: j.requestId ?? null, status: "pending" });
      }
      await this.publishAll(fresh);
    }
    return jobs.map((j) => j.id);
  }

  /** Publishes rows to their work queue with confirms; returns the confirmed ones. */
  async publishRows(rows: OutboxRow[]): Promise<OutboxRow[]> {
    const out = rows.map((r) => ({ id: r.id, type: r.type, body: JSON.stringify(r.payload ?? null), attempts: r.attempts, requestId: r.requestId, status: r.status }));
    const ok = new Set((await this.publishAll(out)).map((o) => o.id));
    return rows.filter((r) => ok.has(r.id));
  }

  private async publishAll(rows: Outgoing[]): Promise<Outgoing[]> {
    const results = await Promise.all(rows.map((row) => this.publishOne(workQueue(row.type, this.d.namespace), row)));
    return rows.filter((_, i) => results[i]);
  }

  private async publishOne(queue: string, row: Outgoing): Promise<boolean> {
    try {
      await this.send(queue, row);
      this.mark({ id: row.id, status: row.status, attempts: row.attempts });
      return true;
    } catch (err) {
      this.d.logger.warn({ err, jobId: row.id }, "publish failed; the job stays in the outbox");
      return false;
    }
  }

  /** A failed attempt's retry, to its backoff level's delay queue; the relay covers a failure. */
  publishRetry(type: JobType, id: string, attempts: number, delayMs: number, payload: unknown, requestId: string | null): void {
    const row: Outgoing = { id, type, body: JSON.stringify(payload ?? null), attempts, requestId, status: "failed" };
    this.send(retryQueue(type, delayMs, this.d.namespace), row).then(
      () => this.mark({ id, status: "failed", attempts }),
      (err: unknown) => this.d.logger.warn({ err, jobId: id }, "retry publish failed; the outbox relay will publish it when due"),
    );
  }

  private mark(m: PublishedMark): void {
    this.marks.add(m).catch((err: unknown) => this.d.logger.warn({ err, jobId: m.id }, "could not mark a job published; the relay may publish it again"));
  }

  private async send(queue: string, row: Outgoing): Promise<void> {
    if (!this.publisher) throw new Error("the engine is not started");
    // The job id travels as the AMQP message-id and the type is the queue; the only header
    // every message needs is the attempt count.
    const headers: Record<string, unknown> = { [HEADERS.attempt]: row.attempts };
    if (row.requestId) headers[HEADERS.requestId] = row.requestId;
    // A Buffer keeps the content type (a string would go out as text/plain).
    const send = this.publisher.send({ routingKey: queue, durable: true, messageId: row.id, contentType: "application/json", headers }, Buffer.from(row.body));
    const tracked = send.catch(() => undefined);
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
    await raceTimeout(send, this.d.publishTimeoutMs);
  }

  /** Publishes jobs an operator set back to pending (dead-job retry); the relay covers failures. */
  async publishPending(ids: string[]): Promise<number> {
    const rows = await this.d.store.loadForPublish(ids);
    return (await this.publishRows(rows)).length;
  }

  /** One pass of the relay: publishes unpublished rows older than the grace period. */
  async relay(graceMs: number, ready: boolean): Promise<number> {
    if (this.relayRunning || this.d.stopping() || !ready || !this.publisher) return 0;
    this.relayRunning = true;
    let total = 0;
    try {
      for (;;) {
        const rows = await this.d.store.outbox(this.d.clock(), graceMs, 500);
        if (rows.length === 0) break;
        const ok = await this.publishRows(rows);
        await this.marks.flushNow(); // the next page must not return these rows again
        total += ok.length;
        if (ok.length < rows.length || rows.length < 500) break;
      }
      if (total > 0) this.d.logger.info({ published: total }, "outbox relay published jobs");
    } catch (err) {
      this.d.logger.warn({ err }, "outbox relay pass failed");
    } finally {
      this.relayRunning = false;
    }
    return total;
  }

  /** Waits for publishes in flight (bounded), writes the last marks, closes the publisher. */
  async close(deadlineMs: number): Promise<void> {
    await this.enqueues.close().catch(() => undefined);
    await raceTimeout(Promise.allSettled([...this.inFlight]), Math.max(1000, deadlineMs)).catch(() => undefined);
    await this.marks.close();
    await this.publisher?.close();
  }
}

export async function raceTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
