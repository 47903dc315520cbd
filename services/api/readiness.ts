/**
 * Readiness of a process's dependencies (Postgres, RabbitMQ): every check is time-bounded,
 * callers that ask while a run is in flight share it, and a change of outcome is logged with
 * the failing checks' errors. The application port answers only ready / not ready; the details,
 * which name hosts and addresses, go to the metrics listener and to the logs.
 */
import type { Logger } from "../logger.js";

export type ReadinessCheck = () => Promise<void>;

export interface ReadinessReport {
  readonly ready: boolean;
  /** Per check: "ok" or "down: <error>". */
  readonly checks: Readonly<Record<string, string>>;
}

export interface ReadinessOptions {
  /** A check that has not answered after this long counts as down. */
  readonly timeoutMs?: number;
  readonly logger?: Logger;
  readonly now?: () => number;
}

export class Readiness {
  private inFlight: Promise<ReadinessReport> | undefined;
  private last: { at: number; report: ReadinessReport } | undefined;
  private logged: string | undefined;

  constructor(
    private readonly checks: Readonly<Record<string, ReadinessCheck>>,
    private readonly opts: ReadinessOptions = {},
  ) {}

  /** A shared Readiness as it is, or one over the named checks. */
  static of(r: Readiness | Readonly<Record<string, ReadinessCheck>>, opts: ReadinessOptions = {}): Readiness {
    return r instanceof Readiness ? r : new Readiness(r, opts);
  }

  /** The check names, for gauges that report each one. */
  get names(): string[] {
    return Object.keys(this.checks);
  }

  /**
   * A report no older than maxAgeMs. 0 asks for a run of its own, or joins the one in flight;
   * the internet-facing /readyz passes a short age so that no rate of requests turns into more
   * than one database ping per interval.
   */
  report(maxAgeMs = 0): Promise<ReadinessReport> {
    const now = this.opts.now ?? Date.now;
    if (maxAgeMs > 0 && this.last && now() - this.last.at <= maxAgeMs) return Promise.resolve(this.last.report);
    this.inFlight ??= this.run().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async run(): Promise<ReadinessReport> {
    const timeoutMs = this.opts.timeoutMs ?? 2000;
    const entries = await Promise.all(Object.entries(this.checks).map(async ([name, check]) => [name, await bounded(check, timeoutMs)] as const));
    const checks = Object.fromEntries(entries);
    const report = { ready: entries.every(([, r]) => r === "ok"), checks };
    this.last = { at: (this.opts.now ?? Date.now)(), report };
    this.logChange(report);
    return report;
  }

  /** One line when the outcome changes, not one per probe. */
  private logChange(report: ReadinessReport): void {
    const key = JSON.stringify(report.checks);
    if (key === this.logged || (this.logged === undefined && report.ready)) {
      this.logged = key;
      return;
    }
    this.logged = key;
    if (report.ready) this.opts.logger?.info({ checks: report.checks }, "ready: every dependency check passes again");
    else this.opts.logger?.warn({ checks: report.checks }, "not ready: a dependency check failed");
  }
}

async function bounded(check: ReadinessCheck, timeoutMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return "ok";
  } catch (err) {
    return `down: ${(err as Error).message}`;
  } finally {
    clearTimeout(timer);
  }
}
