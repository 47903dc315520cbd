/**
 * Job state in Postgres, written in batches (one statement per batch, arrays through unnest)
 * so the engine can group-commit. The `jobs` table is the source of truth for a job's status,
 * attempts and history; the broker only carries the work.
 */
import type { SqlExecutor } from "../db/migrations.js";
import type { JobStatus, JobType } from "./types.js";

export interface NewJob {
  id: string;
  type: JobType;
  payload: unknown;
  /** The payload as JSON, when the caller already serialized it (for the message body). */
  body?: string;
  maxAttempts: number;
  requestId?: string | null;
}

/** One attempt (or event) in Job.history. */
export interface HistoryEntry {
  attempt?: number;
  event?: string;
  outcome?: "completed" | "failed" | "dead" | "released" | "stuck";
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  error?: string;
  stack?: string;
  at?: string;
  [key: string]: unknown;
}

export interface Claim {
  id: string;
  attempts: number;
  maxAttempts: number;
}

/** A delivery asking to start its attempt. */
export interface ClaimRequest {
  id: string;
  /** The attempt its message is for (x-attempt + 1, the first without one); null when the header is not a count. */
  attempt: number | null;
  /** The broker handed this message out before (a worker or channel died with it). */
  redelivered: boolean;
  /**
   * The attempt's started_at, set by the first write of the claim (claim() stamps it): a write
   * retried after its first try committed but lost its answer (a dropped connection) sends the
   * same time and finds its own claim by it.
   */
  at?: Date;
}

export interface Finish {
  id: string;
  attempt: number;
  /**
   * The attempt was never claimed (it finished within the group-commit window, so its claim
   * was folded into this write): it starts and ends here, attempts goes from attempt-1 to attempt.
   */
  direct?: boolean;
  startedAt?: Date;
  status: Extract<JobStatus, "completed" | "failed" | "dead">;
  finishedAt: Date;
  durationMs: number;
  error?: string;
  stack?: string;
  /** The history entry; completed attempts get theirs from the timing columns. */
  entry?: HistoryEntry;
  runAt?: Date;
}

/** A publish intent's outcome: every message confirmed, or some not (those go back to the outbox). */
export interface IntentSettlement {
  id: string;
  /** The row version the intent's insert wrote (its `now`). */
  version: Date;
  unconfirmed: string[];
}

export interface PublishedMark {
  id: string;
  status: JobStatus;
  attempts: number;
  /** The row's updated_at when it was published: the mark applies to that row version only. */
  version: Date;
}

export interface OutboxRow {
  id: string;
  type: JobType;
  payload: unknown;
  attempts: number;
  requestId: string | null;
  status: JobStatus;
  /** updated_at as read (millisecond precision): the version a publish of this row confirms. */
  version: Date;
}

const iso = (d: Date) => d.toISOString();

/** The columns an outbox row is read from (loadForPublish, outbox), and the row they make. */
const OUTBOX_COLUMNS = "id, type, payload, attempts, request_id, status, updated_at";
interface OutboxRecord {
  id: string;
  type: JobType;
  payload: unknown;
  attempts: number;
  request_id: string | null;
  status: JobStatus;
  updated_at: Date;
}
const toOutboxRow = (x: OutboxRecord): OutboxRow => ({
  id: x.id, type: x.type, payload: x.payload, attempts: x.attempts, requestId: x.request_id, status: x.status, version: new Date(x.updated_at),
});

/**
 * A Postgres array literal of values that never need quoting (uuids, numbers, booleans, ISO
 * timestamps, plain words): the hot statements bind these instead of letting the driver
 * escape every element of every batch.
 */
function plainArray(values: readonly (string | number | boolean | null)[]): string {
  // join makes one flat string (building it with += leaves a tree of pieces for pg to walk).
  return `{${values.includes(null) ? values.map((v) => (v === null ? "NULL" : v)).join(",") : values.join(",")}}`;
}

/**
 * A text column of the insert: the driver's array (it escapes each element), or null when
 * every element is null (the usual request_id: ROWS FROM pads a missing column with nulls).
 */
function textColumn(values: readonly (string | null)[]): (string | null)[] | null {
  return values.every((v) => v === null) ? null : values as (string | null)[];
}

// Batch statements look rows up by primary key (`id = ANY(...)`) and compare status as text:
// with an indexable status condition the planner may scan every pending row through the
// (status, type) index (its estimate for a fresh backlog is far too low) instead of fetching
// the few rows of the batch. The statements that join the batch (unnest) to the table are
// planned for each batch, never prepared: a generic plan does not know the batch size and
// may rescan the unnest for every row (a 150-row outcome batch took 37 ms instead of 1.5 ms
// on a 1M-row table). The insert has no such join and is prepared.
// markPublished joins by id alone: its extra `id = ANY` scan was estimated at one row on a
// 1M-row table (all published), so the planner put the unnest inside a nested loop and
// rescanned it for every row (795 ms for 2,000 rows, 6.7 ms driven from the batch).

/**
 * Which rows an outcome may finish: the attempt this worker recorded as processing, or, for a
 * "direct" outcome (a short job whose processing write was folded into it), the attempt before.
 * A stale or duplicate outcome matches nothing and leaves the row alone.
 */
const FINISH_GUARD = `WHERE j.id = v.id AND j.id = ANY($1::uuid[]) AND (
         (NOT v.direct AND j.status::text = 'processing' AND j.attempts = v.attempt)
         OR (v.direct AND j.status::text IN ('pending', 'failed') AND j.attempts = v.attempt - 1))`;

/**
 * Which rows a delivery may claim. A waiting row (pending, or failed with its retry due) is
 * claimed by the message for its next attempt: attempts = message attempt - 1. A processing
 * row, whose attempt started and whose worker may have died, only by a redelivery (the
 * broker's flag) of that attempt's message or an earlier one: the attempt that died is
 * counted. A fresh copy of a message while its attempt runs, or a copy of a message whose
 * attempt was already recorded (a publish repeated after a lost confirmation, an ack lost in a
 * broker outage), matches nothing. A message that names no attempt claims as it always did.
 * A claim written again after its first write committed and its answer was lost (the
 * connection dropped) finds its own row (OWN_CLAIM: processing since this claim's time) and
 * takes it as it is, without counting the attempt twice.
 */
const OWN_CLAIM = `(j.status::text = 'processing' AND j.started_at = v.at)`;
const CLAIM_GUARD = `WHERE j.id = v.id AND j.id = ANY($1::uuid[]) AND (
         (j.status::text IN ('pending', 'failed') AND (v.attempt IS NULL OR j.attempts = v.attempt - 1))
         OR (j.status::text = 'processing' AND (v.attempt IS NULL OR (v.redelivered AND j.attempts >= v.attempt)))
         OR ${OWN_CLAIM})`;

/**
 * A job still as an intent's insert wrote it (published, pending, not started, the insert's
 * row version), so that putting it back into the outbox hides no later state.
 */
const AS_INSERTED = (version: string) =>
  `j.published AND j.status::text = 'pending' AND j.attempts = 0 AND date_trunc('milliseconds', j.updated_at) = ${version}`;

/** The insert's parameters $1-$6: the batch's columns, zipped by position (BATCH_ROWS), and the commit time. */
function insertParams(jobs: NewJob[], now: Date): unknown[] {
  return [
    plainArray(jobs.map((j) => j.id)),
    plainArray(jobs.map((j) => j.type)),
    `[${jobs.map((j) => j.body ?? JSON.stringify(j.payload ?? null)).join(",")}]`,
    plainArray(jobs.map((j) => j.maxAttempts)),
    textColumn(jobs.map((j) => j.requestId ?? null)),
    iso(now),
  ];
}

/**
 * The batch's rows, from insertParams. The type travels as text[]: embedded PGlite cannot bind
 * an enum array parameter. The payloads travel as one JSON array (no per-element array escaping).
 */
const BATCH_ROWS = `ROWS FROM (unnest($1::uuid[]), unnest($2::text[]), jsonb_array_elements($3::jsonb), unnest($4::int[]), unnest($5::text[]))
       AS v(id, type, payload, max_attempts, request_id)`;

/** Each batch row `v` as a new job: pending, no attempt yet, written at the commit time ($6). */
const INSERT_JOBS = (published: boolean) => `INSERT INTO jobs (id, type, status, payload, attempts, max_attempts, request_id, published, created_at, updated_at)
       SELECT v.id, v.type::"JobType", 'pending', v.payload, 0, v.max_attempts, v.request_id, ${published}, $6, $6`;

/**
 * The insert: the batch into jobs, returning the ids that already existed. With an intent ($7),
 * the rows are written published and the intent row listing them is inserted by the same
 * statement.
 */
function insertSql(intent: boolean): string {
  return `WITH v AS (
       SELECT * FROM ${BATCH_ROWS}
     ), inserted AS (
       ${INSERT_JOBS(intent)} FROM v
       ON CONFLICT (id) DO NOTHING
       RETURNING id
     )${intent ? `, intent AS (
       INSERT INTO job_publish_intents (id, job_ids, created_at) SELECT $7, array_agg(id), $6 FROM inserted HAVING count(*) > 0
     )` : ""}
     SELECT v.id FROM v WHERE NOT EXISTS (SELECT 1 FROM inserted i WHERE i.id = v.id)`;
}

/**
 * The insert of ids this process has just generated (uuidv7: 48 bits of milliseconds and 74
 * random bits), which no row can hold yet: no conflict check and nothing returned. Postgres
 * spends about 7 instead of 10 µs of backend CPU per row on it in batches of 500 (6 Dec 2026):
 * the insert above reads its batch CTE twice and anti-joins it with the rows written. Were an
 * id ever to collide, the unique violation fails the whole statement, the intent row with it:
 * nothing is written and the callers get the error.
 */
function insertGeneratedSql(intent: boolean): string {
  const intentRow = intent ? `WITH intent AS (INSERT INTO job_publish_intents (id, job_ids, created_at) VALUES ($7, $1::uuid[], $6)) ` : "";
  return `${intentRow}${INSERT_JOBS(intent)} FROM ${BATCH_ROWS}`;
}

export class JobStore {
  constructor(private readonly sql: SqlExecutor) {}

  /**
   * Multi-row insert; returns the ids that were new (an existing id, a caller's job id enqueued
   * before, is left alone). The statement returns only the existing ones, normally none,
   * instead of every new id: parsing 500 returned ids per batch was a visible share of an
   * enqueue's CPU. With `intentId` the new rows are written published, and the same statement
   * records them as one publish intent (job_publish_intents) that the caller settles once the
   * broker has answered (settleIntents); without it they wait unpublished for their mark.
   */
  async insert(jobs: NewJob[], now: Date, intentId?: string): Promise<Set<string>> {
    if (jobs.length === 0) return new Set();
    const params = insertParams(jobs, now);
    const r = intentId
      ? await this.sql.query<{ id: string }>(insertSql(true), [...params, intentId], "jobs_insert_intent")
      : await this.sql.query<{ id: string }>(insertSql(false), params, "jobs_insert");
    const ids = new Set(jobs.map((j) => j.id));
    for (const x of r.rows) ids.delete(x.id);
    return ids;
  }

  /**
   * Inserts jobs whose ids were generated here and now (uuidv7), so none can exist: every row
   * is new, or (an id collision, which the random bits make as good as impossible) the
   * statement fails and writes nothing. With `intentId`, as insert.
   */
  async insertGenerated(jobs: NewJob[], now: Date, intentId?: string): Promise<void> {
    if (jobs.length === 0) return;
    const params = insertParams(jobs, now);
    if (intentId) await this.sql.query(insertGeneratedSql(true), [...params, intentId], "jobs_insert_generated_intent");
    else await this.sql.query(insertGeneratedSql(false), params, "jobs_insert_generated");
  }

  /**
   * The broker confirmed these publishes. Guarded by status, attempts and the row version
   * (updated_at) that was published, so a confirmation that arrives late never hides a newer,
   * unpublished state from the outbox: not even one that looks the same, such as a dead job an
   * operator retried (pending, attempt 0 again) before the first publish's mark was written.
   */
  async markPublished(rows: PublishedMark[]): Promise<void> {
    if (rows.length === 0) return;
    await this.sql.query(
      `UPDATE jobs AS j SET published = true
       FROM unnest($1::uuid[], $2::text[], $3::int[], $4::timestamptz[]) AS v(id, status, attempts, version)
       WHERE j.id = v.id AND j.published = false AND j.status::text = v.status AND j.attempts = v.attempts
         AND date_trunc('milliseconds', j.updated_at) = v.version`,
      [plainArray(rows.map((r) => r.id)), plainArray(rows.map((r) => r.status)), plainArray(rows.map((r) => r.attempts)), plainArray(rows.map((r) => iso(r.version)))],
    );
  }

  /**
   * Settles publish intents: a confirmed batch's intent is deleted (its jobs were written
   * published); a batch with unconfirmed messages also puts those jobs back into the outbox
   * (unpublished), as long as they are still the row version it inserted.
   */
  async settleIntents(settled: IntentSettlement[]): Promise<void> {
    if (settled.length === 0) return;
    const unconfirmed = settled.flatMap((s) => s.unconfirmed.map((id) => ({ id, version: s.version })));
    await this.sql.query(
      `WITH gone AS (DELETE FROM job_publish_intents WHERE id = ANY($1::uuid[]))
       UPDATE jobs AS j SET published = false
       FROM unnest($2::uuid[], $3::timestamptz[]) AS v(id, version)
       WHERE j.id = v.id AND ${AS_INSERTED("v.version")}`,
      [plainArray(settled.map((s) => s.id)), plainArray(unconfirmed.map((u) => u.id)), plainArray(unconfirmed.map((u) => iso(u.version)))],
    );
  }

  /**
   * Intents older than `cutoff` that no live publish holds (`exclude` are this process's own in
   * flight): their process died before the broker answered. Each is deleted and its jobs that
   * are still pending as inserted are put back into the outbox (unpublished), in one statement,
   * so the relay publishes them; returns how many jobs went back.
   */
  async recoverIntents(cutoff: Date, exclude: readonly string[], limit = 100): Promise<number> {
    const r = await this.sql.query<{ id: string }>(
      `WITH gone AS (
         DELETE FROM job_publish_intents WHERE id IN (
           SELECT id FROM job_publish_intents WHERE created_at <= $1 AND NOT (id = ANY($2::uuid[]))
           ORDER BY created_at LIMIT $3 FOR UPDATE SKIP LOCKED)
         RETURNING job_ids, created_at)
       UPDATE jobs AS j SET published = false
       FROM (SELECT unnest(job_ids) AS id, created_at FROM gone) AS g
       WHERE j.id = g.id AND ${AS_INSERTED("g.created_at")}
       RETURNING j.id`,
      [iso(cutoff), plainArray(exclude), limit],
    );
    return r.rows.length;
  }

  /** Rows to publish right now (an operator retried them). */
  async loadForPublish(ids: string[]): Promise<OutboxRow[]> {
    if (ids.length === 0) return [];
    const r = await this.sql.query<OutboxRecord>(
      `SELECT ${OUTBOX_COLUMNS} FROM jobs WHERE id = ANY($1::uuid[]) AND published = false AND status = 'pending'`,
      [ids],
    );
    return r.rows.map(toOutboxRow);
  }

  /**
   * Starts an attempt for each delivered job: status processing, attempts + 1, when the message
   * is the one the row waits for (CLAIM_GUARD). Jobs already completed or dead, and copies of a
   * message whose attempt has already been recorded or is running, are not returned: the
   * caller acknowledges them as duplicates, so a duplicate never starts an attempt of its own
   * (it would run ahead of the retry's backoff and use up the job's attempts).
   */
  async claim(rows: ClaimRequest[], now: Date): Promise<Map<string, Claim>> {
    for (const x of rows) x.at ??= now;
    const r = await this.sql.query<{ id: string; attempts: number; max_attempts: number }>(
      `UPDATE jobs AS j SET status = 'processing',
         attempts = CASE WHEN ${OWN_CLAIM} THEN j.attempts ELSE j.attempts + 1 END,
         started_at = v.at, published = true, updated_at = v.at
       FROM unnest($1::uuid[], $2::int[], $3::bool[], $4::timestamptz[]) AS v(id, attempt, redelivered, at)
       ${CLAIM_GUARD}
       RETURNING j.id, j.attempts, j.max_attempts`,
      [plainArray(rows.map((x) => x.id)), plainArray(rows.map((x) => x.attempt)), plainArray(rows.map((x) => x.redelivered)), plainArray(rows.map((x) => iso(x.at!)))],
    );
    return new Map(r.rows.map((x) => [x.id, { id: x.id, attempts: x.attempts, maxAttempts: x.max_attempts }]));
  }

  /**
   * Records the outcome of attempts. Only the attempt that owns the row may write it: a
   * claimed attempt while the row is still processing with the same attempt number, a direct
   * (unclaimed) attempt while the row still waits with the attempt before. Returns the ids
   * that were written; a duplicate delivery writes nothing.
   */
  async finish(rows: Finish[]): Promise<Set<string>> {
    const completed = rows.filter((r) => r.status === "completed");
    const others = rows.filter((r) => r.status !== "completed");
    const [a, b] = await Promise.all([this.finishCompleted(completed), this.finishOthers(others)]);
    for (const id of b) a.add(id);
    return a;
  }

  /**
   * The common case, lean: the history entry is built in SQL from the timing columns, the
   * columns are built in one pass, and the statement returns the positions it did not write (a
   * stale or duplicate outcome; normally none) instead of every id of the batch.
   */
  private async finishCompleted(rows: Finish[]): Promise<Set<string>> {
    if (rows.length === 0) return new Set();
    const n = rows.length;
    const ids = new Array<string>(n);
    const attempts = new Array<number>(n);
    const direct = new Array<boolean>(n);
    const started = new Array<string>(n);
    const finished = new Array<string>(n);
    const durations = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const x = rows[i]!;
      ids[i] = x.id;
      attempts[i] = x.attempt;
      direct[i] = x.direct ?? false;
      finished[i] = iso(x.finishedAt);
      started[i] = x.startedAt ? iso(x.startedAt) : finished[i]!;
      durations[i] = x.durationMs;
    }
    const r = await this.sql.query<{ n: string }>(
      `WITH done AS (
         UPDATE jobs AS j SET
           status = 'completed',
           attempts = v.attempt,
           started_at = CASE WHEN v.direct THEN v.started_at ELSE j.started_at END,
           finished_at = v.finished_at,
           duration_ms = v.duration_ms,
           history = j.history || jsonb_build_array(jsonb_build_object(
             'attempt', v.attempt, 'outcome', 'completed', 'startedAt', v.started_at, 'finishedAt', v.finished_at, 'durationMs', v.duration_ms)),
           run_at = NULL,
           dead_at = NULL,
           published = true,
           updated_at = v.finished_at
         FROM unnest($1::uuid[], $2::int[], $3::bool[], $4::timestamptz[], $5::timestamptz[], $6::int[])
           AS v(id, attempt, direct, started_at, finished_at, duration_ms)
         ${FINISH_GUARD}
         RETURNING j.id
       )
       SELECT b.n FROM unnest($1::uuid[]) WITH ORDINALITY AS b(id, n) WHERE NOT EXISTS (SELECT 1 FROM done d WHERE d.id = b.id)`,
      [plainArray(ids), plainArray(attempts), plainArray(direct), plainArray(started), plainArray(finished), plainArray(durations)],
    );
    const written = new Set(ids);
    // By position: the caller's id as it was given (a uuid comes back lowercased).
    for (const x of r.rows) written.delete(ids[Number(x.n) - 1]!);
    return written;
  }

  private async finishOthers(rows: Finish[]): Promise<Set<string>> {
    if (rows.length === 0) return new Set();
    const r = await this.sql.query<{ id: string }>(
      `UPDATE jobs AS j SET
         status = v.status::"JobStatus",
         attempts = v.attempt,
         started_at = CASE WHEN v.direct THEN v.started_at ELSE j.started_at END,
         finished_at = v.finished_at,
         duration_ms = v.duration_ms,
         last_error = COALESCE(v.error, j.last_error),
         last_error_stack = CASE WHEN v.error IS NULL THEN j.last_error_stack ELSE v.stack END,
         history = j.history || jsonb_build_array(v.entry),
         run_at = v.run_at,
         dead_at = CASE WHEN v.status = 'dead' THEN v.finished_at ELSE NULL END,
         published = v.status <> 'failed',
         updated_at = v.finished_at
       FROM unnest($1::uuid[], $2::int[], $3::text[], $4::timestamptz[], $5::int[], $6::text[], $7::text[], $8::jsonb[], $9::timestamptz[],
                   $10::bool[], $11::timestamptz[])
         AS v(id, attempt, status, finished_at, duration_ms, error, stack, entry, run_at, direct, started_at)
       ${FINISH_GUARD}
       RETURNING j.id`,
      [
        rows.map((x) => x.id),
        rows.map((x) => x.attempt),
        rows.map((x) => x.status),
        rows.map((x) => iso(x.finishedAt)),
        rows.map((x) => x.durationMs),
        rows.map((x) => x.error ?? null),
        rows.map((x) => x.stack ?? null),
        rows.map((x) => JSON.stringify(x.entry ?? { attempt: x.attempt, outcome: x.status, finishedAt: iso(x.finishedAt) })),
        rows.map((x) => (x.runAt ? iso(x.runAt) : null)),
        rows.map((x) => x.direct ?? false),
        rows.map((x) => (x.startedAt ? iso(x.startedAt) : null)),
      ],
    );
    return new Set(r.rows.map((x) => x.id));
  }

  /** Gives attempts back (graceful shutdown): the job is pending again and its message requeued. */
  async release(rows: { id: string; attempt: number }[], now: Date): Promise<void> {
    if (rows.length === 0) return;
    await this.sql.query(
      `UPDATE jobs AS j SET status = 'pending', attempts = j.attempts - 1, started_at = NULL, published = true, updated_at = $3,
         history = j.history || jsonb_build_array(jsonb_build_object('event', 'released', 'attempt', v.attempt, 'at', $3::timestamptz))
       FROM unnest($1::uuid[], $2::int[]) AS v(id, attempt)
       WHERE j.id = v.id AND j.id = ANY($1::uuid[]) AND j.status::text = 'processing' AND j.attempts = v.attempt`,
      [plainArray(rows.map((x) => x.id)), plainArray(rows.map((x) => x.attempt)), iso(now)],
    );
  }

  /** Jobs whose publish was not confirmed: pending ones, and failed ones whose retry is due. */
  async outbox(now: Date, graceMs: number, limit: number): Promise<OutboxRow[]> {
    const cutoff = iso(new Date(now.getTime() - graceMs));
    const r = await this.sql.query<OutboxRecord>(
      `SELECT ${OUTBOX_COLUMNS} FROM jobs
       WHERE published = false AND ((status = 'pending' AND updated_at <= $1) OR (status = 'failed' AND run_at <= $1))
       ORDER BY updated_at LIMIT $2`,
      [cutoff, limit],
    );
    return r.rows.map(toOutboxRow);
  }

  async outboxSize(): Promise<number> {
    // Jobs whose publish is not confirmed: unpublished rows, and the jobs of open publish intents.
    const r = await this.sql.query<{ n: string }>(
      `SELECT (SELECT count(*) FROM jobs WHERE published = false AND status IN ('pending', 'failed'))
            + (SELECT coalesce(sum(cardinality(job_ids)), 0) FROM job_publish_intents) AS n`,
    );
    return Number(r.rows[0]?.n ?? 0);
  }

  async deadCounts(): Promise<Map<JobType, number>> {
    const r = await this.sql.query<{ type: JobType; n: string }>(`SELECT type, count(*) AS n FROM jobs WHERE status = 'dead' GROUP BY type`);
    return new Map(r.rows.map((x) => [x.type, Number(x.n)]));
  }

  /**
   * Per job type, how long the oldest waiting job has waited at `now`, in seconds: a pending job
   * since its last state change (its insert, a release or a stuck-job requeue), a failed job since
   * its retry became due (`run_at`); types with nothing waiting are absent. Each branch selects by
   * status first, so it reads the (status, type) index and the few waiting rows, never the
   * completed ones that make up the table.
   */
  async oldestWaitingSeconds(now: Date): Promise<Map<JobType, number>> {
    const r = await this.sql.query<{ type: JobType; age: number }>(OLDEST_WAITING_SQL, [iso(now)]);
    return new Map(r.rows.map((x) => [x.type, Math.max(0, Number(x.age))]));
  }

  /**
   * Jobs processing longer than `olderThanMs`: requeued (pending, unpublished, for the outbox)
   * or dead when out of attempts.
   */
  async recoverStuck(type: JobType, olderThanMs: number, now: Date): Promise<{ id: string; status: "pending" | "dead"; attempts: number }[]> {
    const r = await this.sql.query<{ id: string; status: "pending" | "dead"; attempts: number }>(
      `UPDATE jobs SET
         status = CASE WHEN attempts >= max_attempts THEN 'dead'::"JobStatus" ELSE 'pending'::"JobStatus" END,
         dead_at = CASE WHEN attempts >= max_attempts THEN $3::timestamptz ELSE NULL END,
         published = false,
         last_error = $4,
         last_error_stack = NULL,
         history = history || jsonb_build_array(jsonb_build_object('attempt', attempts, 'outcome', 'stuck', 'startedAt', started_at, 'at', $3::timestamptz, 'error', $4::text)),
         updated_at = $3
       WHERE type = $1 AND status = 'processing' AND started_at < $2
       RETURNING id, status, attempts`,
      [type, iso(new Date(now.getTime() - olderThanMs)), iso(now), `stuck: processing for more than ${olderThanMs} ms`],
    );
    return r.rows;
  }

  /** Moves dead jobs that died before `cutoff` to archived_jobs, in batches; returns how many. */
  async archiveDeadBefore(cutoff: Date, now: Date, batch = 1000): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.archive(`status = 'dead' AND dead_at < $1`, [iso(cutoff)], now, batch);
      total += n;
      if (n < batch) return total;
    }
  }

  /** Moves the given dead jobs to archived_jobs now (an operator discarded them). */
  async archiveIds(ids: string[], now: Date): Promise<string[]> {
    if (ids.length === 0) return [];
    const r = await this.sql.query<{ id: string }>(
      `${this.archiveSql(`status = 'dead' AND id = ANY($1::uuid[])`, 2, 3)} RETURNING id`,
      [ids, iso(now), ids.length],
    );
    return r.rows.map((x) => x.id);
  }

  private async archive(where: string, params: unknown[], now: Date, batch: number): Promise<number> {
    const n = params.length;
    const r = await this.sql.query<{ id: string }>(`${this.archiveSql(where, n + 1, n + 2)} RETURNING id`, [...params, iso(now), batch]);
    return r.rows.length;
  }

  private archiveSql(where: string, nowParam: number, limitParam: number): string {
    return `WITH moved AS (
        DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE ${where} ORDER BY dead_at LIMIT $${limitParam} FOR UPDATE SKIP LOCKED)
        RETURNING *
      )
      INSERT INTO archived_jobs (id, type, status, payload, attempts, max_attempts, request_id, last_error, last_error_stack, history, dead_at, created_at, archived_at)
      SELECT id, type, status, payload, attempts, max_attempts, request_id, last_error, last_error_stack, history, dead_at, created_at, $${nowParam}::timestamptz FROM moved
      ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, payload = EXCLUDED.payload, attempts = EXCLUDED.attempts,
        last_error = EXCLUDED.last_error, last_error_stack = EXCLUDED.last_error_stack, history = EXCLUDED.history,
        dead_at = EXCLUDED.dead_at, archived_at = EXCLUDED.archived_at`;
  }

  /**
   * Removes up to `limit` completed jobs of `type` created and finished before `cutoff`: one
   * short statement (row locks on those rows only; rows another remover holds are skipped).
   * The (status, type, created_at, id) index hands them over oldest first. Never touches
   * any other status: dead jobs are archived, failed ones are still retrying.
   */
  async deleteCompleted(type: JobType, cutoff: Date, limit: number): Promise<number> {
    const r = await this.sql.query<{ n: string }>(
      `WITH gone AS (
         DELETE FROM jobs WHERE id IN (
           SELECT id FROM jobs WHERE status = 'completed' AND type = $1::"JobType" AND created_at < $2 AND finished_at < $2
           ORDER BY created_at LIMIT $3 FOR UPDATE SKIP LOCKED)
         RETURNING 1)
       SELECT count(*) AS n FROM gone`,
      [type, iso(cutoff), limit],
    );
    return Number(r.rows[0]?.n ?? 0);
  }

  /** When the oldest completed job of each type was created (first entry of the status index). */
  async oldestCompleted(types: readonly JobType[]): Promise<Map<JobType, Date>> {
    const r = await this.sql.query<{ type: JobType; at: Date | string | null }>(
      `SELECT t.type, (SELECT min(created_at) FROM jobs WHERE status = 'completed' AND type = t.type::"JobType") AS at
       FROM unnest($1::text[]) AS t(type)`,
      [types],
    );
    return new Map(r.rows.filter((x) => x.at !== null).map((x) => [x.type, new Date(x.at!)]));
  }

  /** Bytes of the jobs table with its indexes and TOAST. */
  async tableBytes(): Promise<number> {
    const r = await this.sql.query<{ n: string }>(`SELECT pg_total_relation_size('jobs') AS n`);
    return Number(r.rows[0]?.n ?? 0);
  }

  /** Marks the broker's dead letters (delivery-limit backstop) dead in the table. */
  async markDead(id: string, reason: string, now: Date): Promise<boolean> {
    const r = await this.sql.query<{ id: string }>(
      `UPDATE jobs SET status = 'dead', dead_at = $2, last_error = $3, last_error_stack = NULL, published = true, updated_at = $2,
         history = history || jsonb_build_array(jsonb_build_object('attempt', attempts, 'outcome', 'dead', 'at', $2::timestamptz, 'error', $3::text))
       WHERE id = $1 AND status NOT IN ('completed', 'dead') RETURNING id`,
      [id, iso(now), reason],
    );
    return r.rows.length > 0;
  }
}

/** Age of the oldest waiting job per type at $1 (JobStore.oldestWaitingSeconds; exported for its plan test). */
export const OLDEST_WAITING_SQL = `SELECT type, extract(epoch FROM ($1::timestamptz - min(since)))::float8 AS age FROM (
    SELECT type, updated_at AS since FROM jobs WHERE status = 'pending'
    UNION ALL
    SELECT type, run_at AS since FROM jobs WHERE status = 'failed' AND run_at <= $1::timestamptz
  ) AS waiting GROUP BY type`;
