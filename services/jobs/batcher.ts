/**
 * Group commit: callers add one item each and await its result; items that arrive within a
 * short window (or until the batch is full) are written with one statement. A failed write
 * (database outage) is retried with backoff while the batcher is open; callers just wait.
 *
 * Two ways to form a batch: with `lingerMs` the first item waits that long for company (the
 * claim batch relies on it: a claim taken back within the window costs nothing); with
 * `maxInFlight` a batch is written as soon as fewer writes than that are in progress (at the
 * end of the current turn of the event loop, so items added together go together), and
 * otherwise when one of them finishes: no waiting when the database is idle, big batches
 * when it is busy.
 */
export interface BatcherOptions<T, R> {
  /** Writes a batch; returns one result per item, in order. */
  readonly flush: (items: T[]) => Promise<R[]>;
  readonly maxSize: number;
  /** How long the first item of a batch waits for company, in ms. */
  readonly lingerMs: number;
  /** Called when a flush fails and will be retried. */
  readonly onError?: (err: unknown, attempt: number) => void;
  readonly retryLowMs?: number;
  readonly retryHighMs?: number;
  /** false: a failed write fails its callers at once (they can report the error). */
  readonly retry?: boolean;
  /** Write when fewer writes than this are in progress, instead of lingering. */
  readonly maxInFlight?: number;
}

/**
 * One item's place in a batch. No promise is made unless someone waits: the engine queues a
 * claim for every delivery and, for short jobs, takes it back before anyone waits for it.
 */
export class Ticket<T, R> {
  /** Taken into a batch being written: too late to cancel. */
  taken = false;
  cancelled = false;
  private state: "pending" | "ok" | "failed" = "pending";
  private value: R | undefined;
  private error: unknown;
  private promise: Promise<R> | undefined;
  private resolveFn: ((r: R) => void) | undefined;
  private rejectFn: ((e: unknown) => void) | undefined;

  constructor(readonly item: T) {}

  /** Takes the item back if its batch has not been written yet. */
  cancel(): boolean {
    if (this.taken) return false;
    this.cancelled = true;
    return true;
  }

  wait(): Promise<R> {
    if (!this.promise) {
      if (this.state === "ok") this.promise = Promise.resolve(this.value as R);
      else if (this.state === "failed") this.promise = Promise.reject(this.error);
      else
        this.promise = new Promise<R>((resolve, reject) => {
          this.resolveFn = resolve;
          this.rejectFn = reject;
        });
    }
    return this.promise;
  }

  resolve(r: R): void {
    this.state = "ok";
    this.value = r;
    this.resolveFn?.(r);
  }

  reject(e: unknown): void {
    this.state = "failed";
    this.error = e;
    this.rejectFn?.(e);
  }
}

export class BatcherClosedError extends Error {
  constructor() {
    super("batcher is closed");
    this.name = "BatcherClosedError";
  }
}

export class Batcher<T, R> {
  private queue: Ticket<T, R>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;
  private abandoned = false;
  /** Writes done and items written, for tuning and tests. */
  readonly stats = { flushes: 0, items: 0, flushMs: 0 };

  constructor(private readonly opts: BatcherOptions<T, R>) {}

  add(item: T): Promise<R> {
    return this.ticket(item).wait();
  }

  /** Queues an item; the ticket can wait for its result or take it back (cancel). */
  ticket(item: T): Ticket<T, R> {
    const t = new Ticket<T, R>(item);
    if (this.closed) {
      t.reject(new BatcherClosedError());
      return t;
    }
    this.queue.push(t);
    if (this.queue.length >= this.opts.maxSize) this.kick();
    else if (this.opts.maxInFlight === undefined) this.timer ??= setTimeout(this.onTimer, this.opts.lingerMs);
    else if (this.inFlight.size < this.opts.maxInFlight) this.soon();
    return t;
  }

  private readonly onTimer = (): void => this.kick();

  /** Writes at the end of this turn of the event loop. */
  private soon(): void {
    this.immediate ??= setImmediate(this.onImmediate);
  }

  private readonly onImmediate = (): void => {
    this.immediate = undefined;
    this.kick();
  };

  /** Writes whatever is queued now. */
  kick(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = undefined;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.opts.maxSize).filter((p) => !p.cancelled);
      for (const p of batch) p.taken = true;
      if (batch.length === 0) continue;
      const p = this.write(batch).finally(() => {
        this.inFlight.delete(p);
        if (this.opts.maxInFlight !== undefined && this.queue.length > 0) this.soon();
      });
      this.inFlight.add(p);
    }
  }

  /** Writes whatever is queued now and waits for every write in progress. */
  async flushNow(): Promise<void> {
    this.kick();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Refuses new items and waits until everything queued has been written. */
  async close(): Promise<void> {
    this.closed = true;
    this.kick();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Stops retrying failed writes: their callers get the error. */
  abandon(): void {
    this.abandoned = true;
  }

  private async write(batch: Ticket<T, R>[]): Promise<void> {
    let delay = this.opts.retryLowMs ?? 100;
    for (let attempt = 1; ; attempt++) {
      try {
        const t0 = performance.now();
        const results = await this.opts.flush(batch.map((p) => p.item));
        this.stats.flushes++;
        this.stats.items += batch.length;
        this.stats.flushMs += performance.now() - t0;
        batch.forEach((p, i) => p.resolve(results[i] as R));
        return;
      } catch (err) {
        if (this.abandoned || this.opts.retry === false) {
          batch.forEach((p) => p.reject(err));
          return;
        }
        this.opts.onError?.(err, attempt);
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, this.opts.retryHighMs ?? 5000);
      }
    }
  }
}
