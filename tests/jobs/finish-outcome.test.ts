/**
 * A batch of completed outcomes is one statement (job-store.ts, finishCompleted), and its answer
 * says which outcomes were written: the worker counts, reports and acknowledges by it. A stale
 * or duplicate outcome (the job is already completed, or another attempt holds it) must come
 * back as not written, in a batch beside outcomes that were, and an id is answered as the
 * caller gave it (a caller-chosen uuid in upper case comes back from Postgres lowercased).
 */
import { expect, it } from "vitest";
import { uuidv7 } from "../../services/ids.js";
import type { Finish } from "../../services/jobs/job-store.js";
import { useJobStore } from "./helpers.js";

const t = useJobStore();

const completed = (id: string, attempt: number, at: Date, direct = true): Finish => ({ id, attempt, direct, startedAt: at, status: "completed", finishedAt: at, durationMs: 1 });
const row = async (id: string) =>
  (await t.db.sql.query<{ status: string; attempts: number; history: unknown[] }>("SELECT status::text AS status, attempts, history FROM jobs WHERE id = $1", [id])).rows[0]!;

it("answers which completed outcomes of one batch were written", async () => {
  const at = new Date();
  const fresh = uuidv7();
  const done = uuidv7();
  const upper = uuidv7().toUpperCase();
  const wrongAttempt = uuidv7();
  await t.store.insert([fresh, done, upper, wrongAttempt].map((id) => ({ id, type: "import" as const, payload: {}, maxAttempts: 6 })), at);
  expect([...(await t.store.finish([completed(done, 1, at)]))]).toEqual([done]);

  const written = await t.store.finish([
    completed(fresh, 1, at),
    completed(done, 1, at), // a duplicate: the job is completed already
    completed(upper, 1, at),
    completed(wrongAttempt, 3, at), // an outcome for an attempt the row is not at
  ]);
  expect([...written].sort()).toEqual([fresh, upper].sort());
  expect(await row(fresh)).toMatchObject({ status: "completed", attempts: 1 });
  expect((await row(done)).history).toHaveLength(1); // the duplicate left it alone
  expect(await row(wrongAttempt)).toMatchObject({ status: "pending", attempts: 0 });
});

it("answers an empty batch and a batch where nothing was written", async () => {
  expect([...(await t.store.finish([]))]).toEqual([]);
  const id = uuidv7();
  expect([...(await t.store.finish([completed(id, 1, new Date())]))]).toEqual([]); // no such job
});
