/** A counting semaphore for handler slots; `close()` makes every waiter give up. */
export class Slots {
  private used = 0;
  private waiters: ((ok: boolean) => void)[] = [];
  private closed = false;

  constructor(private readonly size: number) {}

  /** Slots taken now (handlers running). */
  get inUse(): number {
    return this.used;
  }

  /** Takes a free slot now, without waiting; false when none is free or the pool is closed. */
  tryAcquire(): boolean {
    if (this.closed || this.used >= this.size) return false;
    this.used++;
    return true;
  }

  /** Resolves true with a slot, or false once the pool is closed. */
  acquire(): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    if (this.used < this.size) {
      this.used++;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.closed ? undefined : this.waiters.shift();
    if (next) next(true);
    else this.used--;
  }

  close(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w(false);
  }
}
