/**
 * A publish confirmation is written late and in bulk (outbox.ts, the `marks` batch). It must only
 * mark the row version it published. An operator's dead-job retry puts a row back into the same
 * (pending, attempt 0) state it was published in; a confirmation of the first publish that was
 * still queued then marked the retried row published, so nothing ever published it again and the
 * retried job stayed pending for good (seen as `published: 0` from POST /v1/admin/dead-jobs/retry).
 */
import { expect, it } from "vitest";
import { uuidv7 } from "../../services/ids.js";
import { retryDeadJobs } from "../../services/jobs/job-queries.js";
import { useJobStore } from "./helpers.js";

const t = useJobStore();

const published = async (id: string) =>
  (await t.db.sql.query<{ published: boolean; status: string }>("SELECT published, status::text AS status FROM jobs WHERE id = $1", [id])).rows[0]!;

it("marks the row version it published", async () => {
  const id = uuidv7();
  const enqueuedAt = new Date(Date.now() - 1000);
  await t.store.insert([{ id, type: "import", payload: {}, maxAttempts: 6 }], enqueuedAt);
  await t.store.markPublished([{ id, status: "pending", attempts: 0, version: enqueuedAt }]);
  expect(await published(id)).toEqual({ published: true, status: "pending" });
});

it("leaves a dead job that an operator retried unpublished when the first publish's confirmation arrives late", async () => {
  const id = uuidv7();
  const enqueuedAt = new Date(Date.now() - 1000);
  await t.store.insert([{ id, type: "import", payload: {}, maxAttempts: 6 }], enqueuedAt);
  // Its first attempt failed for good before the confirmation's mark was written.
  const diedAt = new Date(enqueuedAt.getTime() + 100);
  const [dead] = [...(await t.store.finish([{ id, attempt: 1, direct: true, startedAt: diedAt, status: "dead", finishedAt: diedAt, durationMs: 1, error: "bad input" }]))];
  expect(dead).toBe(id);
  const { retried } = await retryDeadJobs(t.db, { ids: [id], actor: "test", limit: 10 }, new Date());
  expect(retried).toEqual([id]);
  // The late mark of the first publish: same status and attempts as the retried row.
  await t.store.markPublished([{ id, status: "pending", attempts: 0, version: enqueuedAt }]);
  expect(await published(id)).toEqual({ published: false, status: "pending" });
  // So the retry's own publish, or the outbox relay, still finds it.
  expect((await t.store.loadForPublish([id])).map((r) => r.id)).toEqual([id]);
});
