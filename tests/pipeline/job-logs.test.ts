/**
 * The x-request-id of an API request reaches every log line of the jobs it started (import,
 * translation, image; push for the push request), and each line names jobId, type and
 * requestId once. The platform logs through the production logger factory into a stream this
 * test owns; duplicate keys are read from the raw text (JSON.parse keeps the last one silently).
 */
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../services/logger.js";
import { duplicateKeys } from "../helpers/json-keys.js";
import { startHarness, waitFor, type PipelineHarness } from "./harness.js";

let h: PipelineHarness;
const lines: string[] = [];

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split("\n")) if (l.trim()) lines.push(l);
      cb();
    },
  });
  h = await startHarness({}, { logger: createLogger({ level: "debug", destination: sink }) });
});
afterAll(async () => {
  await h?.close();
});

describe("duplicateKeys", () => {
  it("finds repeated keys at any depth, and none in clean JSON", () => {
    expect(duplicateKeys('{"a":1,"b":{"c":2,"c":3},"a":"x"}')).toEqual(["b.c", "a"]);
    expect(duplicateKeys('{"err":{"type":"Error"},"type":"image","list":[{"k":1},{"k":2}]}')).toEqual([]);
    expect(() => duplicateKeys('{"a":1')).toThrow(/not JSON/);
  });
});

describe("job log lines", () => {
  it("every line of every job names its request id, and jobId, type and requestId once", async () => {
    const good = h.site.setProduct("logged", { title: "Logged", description: "Watch my lines.", price: "3.00", currency: "EUR", images: ["green.jpg"], format: "json" });
    const bad = h.site.setProduct("logged-corrupt", { title: "Corrupt", description: "", price: "1.00", currency: "EUR", images: ["corrupt.jpg"], format: "json" });
    const res = await h.api("POST", "/v1/imports", { sourceUrls: [good, bad] }, { "x-request-id": "req-logs-import" });
    expect(res.status).toBe(202);
    const productId = async (url: string) => waitFor("product", async () => (await h.db.prisma.product.findUnique({ where: { sourceUrl: url } }))?.id);
    const goodId = await productId(good);
    const badId = await productId(bad);
    await h.waitForStatus(goodId, "in_review");
    await h.waitForStatus(badId, "failed"); // the corrupt image's job is dead-lettered

    expect((await h.api("POST", `/v1/products/${goodId}/review`, { decision: "approve", reviewer: "lena" })).status).toBe(200);
    h.store.faults.fail(503, 1); // one failed push attempt: a retry line
    const push = await h.api("POST", `/v1/products/${goodId}/push`, undefined, { "x-request-id": "req-logs-push" });
    expect(push.status).toBe(202);
    await h.waitForStatus(goodId, "pushed");
    await waitFor("push job completed", async () => (await h.db.prisma.job.findUnique({ where: { id: push.body.jobId } }))?.status === "completed");
    await waitFor("corrupt image job dead", async () => (await h.db.prisma.job.count({ where: { type: "image", status: "dead" } })) === 1);

    const jobs = new Map((await h.db.prisma.job.findMany()).map((j) => [j.id, j]));
    const requestOf = (type: string) => (type === "push" ? "req-logs-push" : "req-logs-import");
    for (const j of jobs.values()) expect(j.requestId, `${j.type} job ${j.id}`).toBe(requestOf(j.type));
    expect(new Set([...jobs.values()].map((j) => j.type))).toEqual(new Set(["import", "translation", "image", "push"]));

    const jobLines = lines
      .map((raw) => ({ raw, line: JSON.parse(raw) as Record<string, unknown> }))
      .filter(({ line }) => typeof line.jobId === "string" && jobs.has(line.jobId));
    for (const { raw, line } of jobLines) {
      const job = jobs.get(line.jobId as string)!;
      expect(duplicateKeys(raw), raw).toEqual([]);
      expect(line.requestId, raw).toBe(job.requestId);
      expect(line.type, raw).toBe(job.type);
    }
    // Every job type logged, on the happy path and the unhappy ones.
    expect(new Set(jobLines.map(({ line }) => line.type))).toEqual(new Set(["import", "translation", "image", "push"]));
    const messages = jobLines.map(({ line }) => `${line.type}: ${line.msg}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        "import: source imported",
        "translation: product translated",
        "image: images processed; product is in review",
        "image: job dead-lettered",
        "push: job attempt failed; retry scheduled",
        "push: product pushed to the store",
      ]),
    );
    // No line that names one of these jobs lacks the job id binding (e.g. a stray { jobId } field elsewhere).
    const mentioning = lines.filter((raw) => [...jobs.keys()].some((id) => raw.includes(id)));
    for (const raw of mentioning) expect(duplicateKeys(raw), raw).toEqual([]);
  });
});
