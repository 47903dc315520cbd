/**
 * Group commit: callers add one item each and await its result; items that arrive within a
 * short window (or until the batch is full) are written with one statement. A failed write
 * (database outage) is retried with backoff while the batcher is open; callers just wait.
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
}

interface Pending<T, R> {
  item: T;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
  /** Taken into a batch being written: too late to cancel. */
  taken?: boolean;
  cancelled?: boolean;
}

export class BatcherClosedError extends Error {
  constructor() {
    super("batcher is closed");
    this.name = "BatcherClosedError";
  }
}

export class Batcher<T, R> {
  private queue: Pending<T, R>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;
  private abandoned = false;
  /** Writes done and items written, for tuning and tests. */
  readonly stats = { flushes: 0, items: 0, flushMs: 0 };

  constructor(private readonly opts: BatcherOptions<T, R>) {}

  add(item: T): Promise<R> {
    return this.addCancellable(item).result;
  }

  /**
   * Like add(), but the caller may take the item back while it still waits for its batch:
   * cancel() returns true when the item was removed and will never be written.
   */
  addCancellable(item: T): { result: Promise<R>; cancel(): boolean } {
    if (this.closed) return { result: Promise.reject(new BatcherClosedError()), cancel: () => false };
    let entry!: Pending<T, R>;
    const result = new Promise<R>((resolve, reject) => {
      entry = { item, resolve, reject };
      this.queue.push(entry);
      if (this.queue.length >= this.opts.maxSize) this.kick();
      else this.timer ??= setTimeout(() => this.kick(), this.opts.lingerMs);
    });
    const cancel = () => {
      if (entry.taken) return false;
      entry.cancelled = true;
      return true;
    };
    return { result, cancel };
  }

  /** Writes whatever is queued now. */
  kick(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.opts.maxSize).filter((p) => !p.cancelled);
      for (const p of batch) p.taken = true;
      if (batch.length === 0) continue;
      const p = this.write(batch).finally(() => this.inFlight.delete(p));
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

  private async write(batch: Pending<T, R>[]): Promise<void> {
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
