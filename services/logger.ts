import { pino, type DestinationStream, type Logger, type LoggerOptions } from "pino";

export type { Logger };

/**
 * Structured JSON logs to stdout (or `destination`, for tests that read the lines); the one
 * logger factory every process uses.
 */
export function createLogger(opts: { level?: string; name?: string; destination?: DestinationStream } = {}): Logger {
  const options: LoggerOptions = {
    level: opts.level ?? process.env.LOG_LEVEL ?? "info",
    base: { service: opts.name ?? "product-platform" },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ["req.headers.authorization", "headers.authorization"], censor: "[redacted]" },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

/** A logger that drops everything, for tests and benchmarks. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}

/** What identifies a job in its log lines. */
export interface JobLogFields {
  readonly jobId: string;
  readonly type: string;
  readonly attempt?: number;
  /** The x-request-id of the API request that started the job (or its chain of jobs). */
  readonly requestId?: string;
}

/**
 * The child logger for one job's lines: jobId, type, attempt and requestId bound once. pino
 * writes bindings and call fields side by side without merging them, so a line that passes one
 * of these keys again carries it twice; callers of a job logger never repeat them.
 */
export function jobLogger(base: Logger, f: JobLogFields): Logger {
  const bindings: Record<string, unknown> = { jobId: f.jobId, type: f.type };
  if (f.attempt !== undefined) bindings.attempt = f.attempt;
  if (f.requestId !== undefined) bindings.requestId = f.requestId;
  return base.child(bindings);
}
