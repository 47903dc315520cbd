/**
 * Publish intents (outbox.ts, step 1 and 3): jobs the engine publishes itself are written
 * published, under one job_publish_intents row per batch, instead of being marked one UPDATE per
 * job after the confirmation. The intent is deleted once the broker has confirmed the batch; if
 * the process dies first, another process's relay finds the intent older than the grace and puts
 * the batch's still-pending jobs back into the outbox, so nothing is lost.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { uuidv7 } from "../../services/ids.js";
import { JobStore, type NewJob } from "../../services/jobs/job-store.js";
import { harness, jobRow, waitFor, type Harness } from "./helpers.js";

let h: Harness;
let store: JobStore;
beforeAll(async () => {
  h = await harness("intent");
  store = new JobStore(h.db.sql);
});
afterAll(async () => {
  await h?.close();
});

const intents = async () => (await h.db.sql.query<{ id: string; job_ids: string[] }>("SELECT id, job_ids FROM job_publish_intents ORDER BY created_at")).rows;
const published = async (ids: string[]) =>
  (await h.db.sql.query<{ id: string; published: boolean; status: string }>("SELECT id, published, status::text FROM jobs WHERE id = ANY($1::uuid[]) ORDER BY id", [ids])).rows;
const newJobs = (n: number, tag: string): NewJob[] => Array.from({ length: n }, (_, i) => ({ id: uuidv7(), type: "import", payload: { tag, i }, maxAttempts: 6 }));

it("jobs enqueued with the broker up are written published; the confirmation deletes their intent, and no job gets a mark of its own", async () => {
  const engine = h.newEngine({ types: ["import"] });
  await engine.start();
  const marksBefore = engine.batchStats.marks.items;
  const { jobIds } = await engine.enqueueMany(Array.from({ length: 50 }, (_, i) => ({ type: "import" as const, payload: { i } })));
  const { jobId } = await engine.enqueue("import", { single: true });
  await engine.flushWrites();
  const rows = await published([...jobIds, jobId]);
  expect(rows).toHaveLength(51);
  expect(rows.every((r) => r.published && r.status === "pending")).toBe(true);
  expect(await intents()).toEqual([]);
  expect(engine.batchStats.marks.items).toBe(marksBefore);
  expect(engine.batchStats.intents.items).toBeGreaterThanOrEqual(2);
  await engine.stop(1000);
  await h.db.sql.query("DELETE FROM jobs WHERE id = ANY($1::uuid[])", [[...jobIds, jobId]]);
});

it("a busy producer's batches all go under intents: one committed while the last batch's publishes are still being written is no exception", async () => {
  // Single enqueues with 1,000 in flight, as a busy API does: a batch often commits in the same
  // turn as the publishes of the one before, while the connection's socket is corked to send
  // those in one write. rabbitmq-client's `ready` is false on a corked socket, and a readiness
  // check on it alone sent such batches down the per-row mark path.
  const engine = h.newEngine({ types: ["import"] });
  await engine.start();
  const marksBefore = engine.batchStats.marks.items;
  const batchesBefore = engine.batchStats.enqueues.flushes;
  const ids: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 1000 }, async () => {
      while (next < 6000) {
        next++;
        ids.push((await engine.enqueue("import", { busy: next })).jobId);
      }
    }),
  );
  await engine.flushWrites();
  expect(engine.batchStats.enqueues.flushes - batchesBefore).toBeGreaterThanOrEqual(6);
  expect(engine.batchStats.marks.items - marksBefore).toBe(0);
  const rows = await published(ids);
  expect(rows.filter((r) => !r.published)).toEqual([]);
  expect(await intents()).toEqual([]);
  await engine.stop(1000);
  await h.db.sql.query("DELETE FROM jobs WHERE id = ANY($1::uuid[])", [ids]);
});

it("a process that died between commit and confirm: another process's relay recovers its intent, and every job runs once", async () => {
  // As the dead process left it: the rows written published, the intent still there, no message sent.
  const jobs = newJobs(20, "crashed");
  const ids = jobs.map((j) => j.id);
  const intentId = uuidv7();
  const committedAt = new Date(Date.now() - 10_000);
  expect((await store.insert(jobs, committedAt, intentId)).size).toBe(20);
  expect(await intents()).toEqual([{ id: intentId, job_ids: ids }]);
  expect(await store.outboxSize()).toBe(20);

  const engine = h.newEngine({ types: ["import"], outboxIntervalMs: 100, outboxGraceMs: 1000 });
  const runs: string[] = [];
  engine.register("import", async (_p, ctx) => void runs.push(ctx.jobId));
  await engine.start();
  engine.startWorkers();
  await waitFor("every job completed", async () => ((await published(ids)).every((r) => r.status === "completed") ? true : undefined), 20_000);
  await new Promise((r) => setTimeout(r, 300)); // a duplicate, if any, would show up by now
  // (The first test's messages, whose rows it deleted, may run here too: only these 20 count.)
  expect(runs.filter((id) => ids.includes(id)).sort()).toEqual([...ids].sort());
  expect(await intents()).toEqual([]);
  await engine.stop(1000);
});

it("recovery puts back only the jobs still pending as inserted; a settled intent with unconfirmed messages puts back just those", async () => {
  const jobs = newJobs(3, "partial");
  const [done, waiting, other] = jobs.map((j) => j.id) as [string, string, string];
  const committedAt = new Date(Date.now() - 10_000);
  await store.insert(jobs, committedAt, uuidv7());
  // One job ran to completion meanwhile (its message did reach the broker).
  const finishedAt = new Date();
  expect(await store.finish([{ id: done, attempt: 1, direct: true, startedAt: finishedAt, status: "completed", finishedAt, durationMs: 1 }])).toEqual(new Set([done]));
  // This process's own open intents are left alone; anything else older than the cutoff is recovered.
  const [open] = await intents();
  expect(await store.recoverIntents(new Date(), [open!.id])).toBe(0);
  expect(await store.recoverIntents(new Date(Date.now() - 20_000), [])).toBe(0);
  expect(await store.recoverIntents(new Date(), [])).toBe(2);
  expect(await intents()).toEqual([]);
  expect(Object.fromEntries((await published(jobs.map((j) => j.id))).map((r) => [r.id, [r.status, r.published]]))).toEqual({
    [done]: ["completed", true],
    [waiting]: ["pending", false],
    [other]: ["pending", false],
  });

  // A live publish that timed out for one message: only that job goes back to the outbox.
  const batch = newJobs(2, "settle");
  const intentId = uuidv7();
  const at = new Date(Date.now() - 1000);
  await store.insert(batch, at, intentId);
  await store.settleIntents([{ id: intentId, version: at, unconfirmed: [batch[1]!.id] }]);
  expect(await intents()).toEqual([]);
  expect((await jobRow(h.db, batch[0]!.id)).published).toBe(true);
  expect((await jobRow(h.db, batch[1]!.id)).published).toBe(false);
});
