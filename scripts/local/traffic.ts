/**
 * Steady client traffic against the local API: `rate` GET /v1/products per second, spread evenly,
 * each with the traffic token; bounded (at most `maxInFlight` requests outstanding, so a slow or
 * dead API never piles up requests) and counted by status. Stops by itself after `maxDurationMs`.
 */
export interface TrafficStats {
  readonly sent: number;
  readonly byStatus: Readonly<Record<string, number>>;
}

export interface TrafficOptions {
  readonly baseUrl: string;
  /** Bearer token every request carries (issue 17 will require one on every /v1 route). */
  readonly token: string;
  readonly rate: number;
  readonly path?: string;
  readonly maxInFlight?: number;
  /** Safety bound: the generator stops by itself after this long (default 2 h). */
  readonly maxDurationMs?: number;
}

export class TrafficGenerator {
  private rate: number;
  private timer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  private sent = 0;
  private readonly byStatus: Record<string, number> = {};
  private due = 0;
  private last = 0;
  private readonly stopAt: number;

  constructor(private readonly opts: TrafficOptions) {
    this.rate = opts.rate;
    this.stopAt = Date.now() + (opts.maxDurationMs ?? 2 * 3_600_000);
  }

  get requestsPerSecond(): number {
    return this.rate;
  }

  start(): void {
    if (this.timer) return;
    this.last = Date.now();
    this.timer = setInterval(() => this.tick(), 50);
    this.timer.unref();
  }

  setRate(rate: number): void {
    this.rate = rate;
    this.due = 0;
  }

  stats(): TrafficStats {
    return { sent: this.sent, byStatus: { ...this.byStatus } };
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    const now = Date.now();
    if (now > this.stopAt) return this.stop();
    this.due += ((now - this.last) / 1000) * this.rate;
    this.last = now;
    while (this.due >= 1) {
      this.due -= 1;
      if (this.inFlight >= (this.opts.maxInFlight ?? 20)) continue;
      void this.send();
    }
  }

  private async send(): Promise<void> {
    this.inFlight++;
    this.sent++;
    let key: string;
    try {
      const res = await fetch(this.opts.baseUrl + (this.opts.path ?? "/v1/products?limit=10"), {
        headers: { authorization: `Bearer ${this.opts.token}` },
        signal: AbortSignal.timeout(5000),
      });
      await res.arrayBuffer();
      key = String(res.status);
    } catch {
      key = "error";
    }
    this.byStatus[key] = (this.byStatus[key] ?? 0) + 1;
    this.inFlight--;
  }
}
