/** The periodic source-check schedule: every tick queues the checks that are due. */
import type { Logger } from "../logger.js";
import type { PipelineService } from "./service.js";

export class SourceCheckScheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly service: PipelineService,
    private readonly intervalMs: number,
    private readonly logger: Logger,
    /** How often to look for due checks; at most a minute, at most the interval. */
    private readonly tickMs = Math.max(1000, Math.min(60_000, intervalMs)),
  ) {}

  start(): void {
    if (this.timer || this.intervalMs <= 0) return;
    this.timer = setInterval(() => void this.tick(), this.tickMs);
    this.timer.unref();
  }

  async tick(): Promise<number> {
    if (this.running) return 0;
    const p = this.service.scheduleDueSourceChecks(this.intervalMs).catch((err: unknown) => {
      this.logger.warn({ err }, "source check scheduling failed; will try again next tick");
      return 0;
    });
    this.running = p;
    try {
      return await p;
    } finally {
      this.running = undefined;
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
