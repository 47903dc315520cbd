/**
 * Duplicate messages (at-least-once delivery): a publish repeated after a lost confirmation, or
 * a redelivery after a lost channel while the first run still goes on. A duplicate never starts
 * an attempt of its own, and never runs beside its twin in the same worker. Before this, each
 * copy of a retry message started one more attempt, without the retry's backoff: in the chaos
 * run, attempts 3 and 4 of a push job started before their retries were due, and a job out of
 * attempts went dead while a twin pushed its product.
 */
import { expect, it } from "vitest";
import { uuidv7 } from "../../services/ids.js";
import { JobStore, type ClaimRequest, type HistoryEntry } from "../../services/jobs/job-store.js";
import { HEADERS, workQueue } from "../../services/jobs/topology.js";
import { useHarness, jobRow, waitFor } from "./helpers.js";

const h = useHarness("duplicates");

/** Publishes a copy of a job's message for attempt `attempt` straight to its work queue. */
async function publishCopy(jobId: string, payload: unknown, attempt: number): Promise<void> {
  const ch = await h.broker.acquire();
  try {
    await ch.confirmSelect();
    await ch.basicPublish(
      { routingKey: workQueue("import", h.namespace), messageId: jobId, durable: true, contentType: "application/json", headers: { [HEADERS.attempt]: attempt - 1 } },
      JSON.stringify(payload),
    );
  } finally {
    await ch.close();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it("a second copy of a retry message is acknowledged without starting an attempt: attempts and history count one run per attempt", async () => {
  // The real retry waits a minute in its delay queue; only the copies below run.
  const engine = h.newEngine({ types: ["import"], retry: { baseMs: 60_000, maxMs: 60_000, maxRetries: 5 } });
  const runs: number[] = [];
  engine.register("import", async (_p, ctx) => {
    runs.push(ctx.attempt);
    // Longer than the claim's group-commit window, so each copy's claim is written.
    await sleep(150);
    throw new Error("store answered 503");
  });
  await engine.start();
  engine.startWorkers();
  const payload = { n: 1 };
  const { jobId } = await engine.enqueue("import", payload);
  await waitFor("attempt 1 failed", async () => ((await jobRow(h.db, jobId)).attempts === 1 && runs.length === 1 ? true : undefined));

  // The retry message, published twice (its first confirmation was lost): one after the other.
  await publishCopy(jobId, payload, 2);
  await waitFor("attempt 2 recorded", async () => ((await jobRow(h.db, jobId)).attempts === 2 && (await jobRow(h.db, jobId)).status === "failed" ? true : undefined));
  await publishCopy(jobId, payload, 2);
  await waitFor("the second copy handled", async () => (runs.length === 3 ? true : undefined));
  await engine.flushWrites();
  await sleep(200);

  const row = await jobRow(h.db, jobId);
  expect(row.status).toBe("failed");
  expect(row.attempts).toBe(2);
  const history = row.history as HistoryEntry[];
  expect(history.map((e) => [e.attempt, e.outcome])).toEqual([
    [1, "failed"],
    [2, "failed"],
  ]);
  await engine.stop(1000);
});

it("two copies of one message delivered together run once: the second waits for the first, then finds the job completed", async () => {
  const engine = h.newEngine({ types: ["import"] });
  const running = new Map<string, number>();
  let maxConcurrent = 0;
  const runs: string[] = [];
  engine.register("import", async (_p, ctx) => {
    const n = (running.get(ctx.jobId) ?? 0) + 1;
    running.set(ctx.jobId, n);
    maxConcurrent = Math.max(maxConcurrent, n);
    runs.push(ctx.jobId);
    await sleep(300);
    running.set(ctx.jobId, n - 1);
  });
  await engine.start();
  engine.startWorkers();
  const payload = { n: 2 };
  const { jobId } = await engine.enqueue("import", payload);
  await publishCopy(jobId, payload, 1);
  await waitFor("job completed", async () => ((await jobRow(h.db, jobId)).status === "completed" ? true : undefined));
  // The copy's turn comes after the first run is recorded.
  await sleep(500);
  await engine.flushWrites();

  expect(maxConcurrent).toBe(1);
  expect(runs).toEqual([jobId]);
  const row = await jobRow(h.db, jobId);
  expect(row.attempts).toBe(1);
  expect((row.history as HistoryEntry[]).map((e) => [e.attempt, e.outcome])).toEqual([[1, "completed"]]);
  await engine.stop(1000);
});

it("a copy that arrives while its attempt runs in another worker does not claim it: the attempt stays the running one's", async () => {
  // A prefetch of 1: the first worker holds its one message, so the broker hands the copy to the second.
  const first = h.newEngine({ types: ["import"], prefetch: 1 });
  const second = h.newEngine({ types: ["import"] });
  const runs: string[] = [];
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  first.register("import", async () => {
    runs.push("first");
    await released;
  });
  await first.start();
  first.startWorkers();
  const payload = { n: 3 };
  const { jobId } = await first.enqueue("import", payload);
  await waitFor("the first run claimed", async () => ((await jobRow(h.db, jobId)).status === "processing" ? true : undefined));

  second.register("import", async () => {
    runs.push("second");
    await sleep(150);
  });
  await second.start();
  second.startWorkers();
  await publishCopy(jobId, payload, 1);
  await waitFor("the copy ran in the second worker", async () => (runs.includes("second") ? true : undefined));
  await second.flushWrites();
  await sleep(200);
  // The copy's claim matched nothing: the row is still the first run's attempt 1.
  const during = await jobRow(h.db, jobId);
  expect(during.status).toBe("processing");
  expect(during.attempts).toBe(1);

  release();
  await waitFor("job completed", async () => ((await jobRow(h.db, jobId)).status === "completed" ? true : undefined));
  const row = await jobRow(h.db, jobId);
  expect(row.attempts).toBe(1);
  expect((row.history as HistoryEntry[]).map((e) => [e.attempt, e.outcome])).toEqual([[1, "completed"]]);
  await second.stop(1000);
  await first.stop(1000);
});

it("a claim written again after its answer was lost (a dropped connection) takes its own row, without counting the attempt twice", async () => {
  const store = new JobStore(h.db.sql);
  const id = uuidv7();
  await store.insert([{ id, type: "import", payload: {}, maxAttempts: 6 }], new Date());
  const request: ClaimRequest = { id, attempt: 1, redelivered: false };
  const claimedAt = new Date();
  const first = await store.claim([request], claimedAt);
  // The batcher retries the same request, later: the first write had committed.
  const again = await store.claim([request], new Date(claimedAt.getTime() + 50));
  expect(again.get(id)).toEqual(first.get(id));
  expect(first.get(id)?.attempts).toBe(1);
  // Another copy of the message, asking later, is a duplicate.
  expect((await store.claim([{ id, attempt: 1, redelivered: false }], new Date(claimedAt.getTime() + 100))).size).toBe(0);
  expect((await jobRow(h.db, id)).attempts).toBe(1);
});
