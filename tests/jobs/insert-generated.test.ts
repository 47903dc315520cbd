/**
 * The insert of ids the engine generated itself (job-store.ts, insertGenerated): no conflict
 * check and nothing returned, because a fresh uuidv7 cannot be in the table. It must still
 * write every row and its publish intent, and an id that does collide must fail the whole
 * statement instead of leaving a batch half written or an intent naming a job it did not
 * write. A batch with a caller's id in it must not take this path (outbox.ts, insert): a
 * caller's id may be enqueued already, and the existing job is left alone.
 */
import { expect, it } from "vitest";
import { uuidv7 } from "../../services/ids.js";
import { JobStore, type NewJob } from "../../services/jobs/job-store.js";
import { useHarness } from "./helpers.js";

const h = useHarness("insgen");
const store = () => new JobStore(h.db.sql);

const jobs = (ids: string[], tag: string): NewJob[] => ids.map((id, i) => ({ id, type: "import", payload: { tag, i }, maxAttempts: 6 }));
const rows = async (ids: string[]) =>
  (
    await h.db.sql.query<{ id: string; status: string; published: boolean; payload: unknown; attempts: number }>(
      "SELECT id, status::text AS status, published, payload, attempts FROM jobs WHERE id = ANY($1::uuid[]) ORDER BY id",
      [ids],
    )
  ).rows;
const intent = async (id: string) => (await h.db.sql.query<{ job_ids: string[] }>("SELECT job_ids FROM job_publish_intents WHERE id = $1", [id])).rows[0];

it("writes every row of a generated batch, with its intent listing them all", async () => {
  const ids = Array.from({ length: 300 }, () => uuidv7());
  const intentId = uuidv7();
  await store().insertGenerated(jobs(ids, "a"), new Date(), intentId);
  const written = await rows(ids);
  expect(written).toHaveLength(300);
  expect(written.every((r) => r.status === "pending" && r.published && r.attempts === 0)).toBe(true);
  expect(written.find((r) => r.id === ids[7])!.payload).toEqual({ tag: "a", i: 7 });
  expect([...(await intent(intentId))!.job_ids].sort()).toEqual([...ids].sort());

  // Without an intent (a caller's transaction, or the broker down): unpublished, for the relay.
  const later = [uuidv7(), uuidv7()];
  await store().insertGenerated(jobs(later, "b"), new Date());
  expect((await rows(later)).map((r) => r.published)).toEqual([false, false]);
});

it("fails the whole statement on a colliding id: no row of the batch and no intent are written, the existing job is untouched", async () => {
  const existing = uuidv7();
  await store().insertGenerated(jobs([existing], "first"), new Date());
  const others = [uuidv7(), uuidv7(), uuidv7()];
  const intentId = uuidv7();
  await expect(store().insertGenerated(jobs([others[0]!, existing, others[1]!, others[2]!], "second"), new Date(), intentId)).rejects.toThrow(/duplicate key/);
  expect(await rows(others)).toEqual([]);
  expect(await intent(intentId)).toBeUndefined();
  expect((await rows([existing]))[0]).toMatchObject({ payload: { tag: "first", i: 0 }, published: false });
});

it("a group commit with a caller's existing id beside generated ones leaves that job alone and writes the rest", async () => {
  const engine = h.newEngine({ types: ["import"] });
  await engine.start();
  try {
    const { jobId: kept } = await engine.enqueue("import", { n: "original" }, { jobId: uuidv7() });
    // Enqueued in one turn: one batch holding the repeated caller id and three generated ones.
    const results = await Promise.all([
      engine.enqueue("import", { n: 1 }),
      engine.enqueue("import", { n: "again" }, { jobId: kept }),
      engine.enqueue("import", { n: 2 }),
      engine.enqueue("import", { n: 3 }),
    ]);
    expect(results[1]!.jobId).toBe(kept);
    await engine.flushWrites();
    const fresh = [results[0]!.jobId, results[2]!.jobId, results[3]!.jobId];
    const all = await h.db.sql.query<{ id: string; payload: { n: unknown } }>("SELECT id, payload FROM jobs WHERE id = ANY($1::uuid[])", [[kept, ...fresh]]);
    const payloadOf = new Map(all.rows.map((r) => [r.id, r.payload.n]));
    expect(payloadOf.get(kept)).toBe("original");
    expect(fresh.map((id) => payloadOf.get(id))).toEqual([1, 2, 3]);
    expect(engine.batchStats.enqueues.flushes).toBe(2);
  } finally {
    await engine.stop(1000);
  }
});
