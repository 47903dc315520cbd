/**
 * ops/db-backup.ts: the streaming digest (whole object and S3-style parts), and the command against
 * the real PostgreSQL with the local-directory sink: a verified dump that pg_restore reads, its
 * checksum file and manifest; pg_dump failing after it sent bytes, a store keeping other bytes than
 * were sent, and a store failing mid-write all fail the backup and leave nothing behind.
 *
 * The S3 sink (ops/backup/s3-sink.ts) is not exercised here: there is no S3 on this machine.
 */
import { createHash, randomBytes } from "node:crypto";
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dumpInto, dumpStamp, stampTime } from "../../ops/backup/backup.js";
import { DigestStream, s3Sha256Checksum } from "../../ops/backup/digest-stream.js";
import { parseManifest } from "../../ops/backup/manifest.js";
import { runTool } from "../../ops/backup/pg-tools.js";
import { DumpVerificationError, LocalDirSink } from "../../ops/backup/sink.js";
import { databaseTableStates } from "../../ops/drill/restore.js";
import { seedDatabase } from "../../ops/drill/seed.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { lastJsonLine, runOps } from "./helpers.js";

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest();

async function digestOf(data: Buffer, chunkSizes: number[], partSize?: number) {
  const chunks: Buffer[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = chunkSizes[i % chunkSizes.length]!;
    chunks.push(data.subarray(at, at + n));
    at += n;
  }
  const stream = new DigestStream(async () => undefined, partSize);
  await pipeline(Readable.from(chunks), stream, new Writable({ write: (_c, _e, cb) => cb() }));
  return stream.digest();
}

describe("the streaming digest", () => {
  const data = randomBytes(10_500);

  it("hashes the whole stream and each part at the part size, whatever the chunking", async () => {
    for (const chunking of [[1], [7, 1000, 3], [4096], [10_500]]) {
      const d = await digestOf(data, chunking, 1000);
      expect(d.bytes).toBe(10_500);
      expect(d.sha256).toBe(sha256(data).toString("hex"));
      expect(d.partSha256.length).toBe(11);
      for (let i = 0; i < 11; i++) expect(d.partSha256[i]!.equals(sha256(data.subarray(i * 1000, (i + 1) * 1000))), `part ${i}`).toBe(true);
    }
  });

  it("ends on a full part when the size is an exact multiple, and has one part for a small or empty dump", async () => {
    expect((await digestOf(data.subarray(0, 3000), [512], 1000)).partSha256.length).toBe(3);
    expect((await digestOf(data.subarray(0, 999), [512], 1000)).partSha256.length).toBe(1);
    const empty = await digestOf(Buffer.alloc(0), [1], 1000);
    expect(empty.partSha256).toEqual([sha256(Buffer.alloc(0))]);
  });

  it("gives S3's checksum: the object's digest for one part, the composite of the part digests otherwise", async () => {
    const one = await digestOf(data.subarray(0, 900), [100], 1000);
    expect(s3Sha256Checksum(one)).toBe(sha256(data.subarray(0, 900)).toString("base64"));
    const three = await digestOf(data.subarray(0, 2500), [100], 1000);
    const parts = [0, 1, 2].map((i) => sha256(data.subarray(i * 1000, Math.min(2500, (i + 1) * 1000))));
    expect(s3Sha256Checksum(three)).toBe(`${sha256(Buffer.concat(parts)).toString("base64")}-3`);
  });

  it("errors instead of ending when the producer failed", async () => {
    const stream = new DigestStream(async () => {
      throw new Error("pg_dump exited with 1");
    });
    await expect(pipeline(Readable.from([Buffer.from("partial")]), stream, new Writable({ write: (_c, _e, cb) => cb() }))).rejects.toThrow("pg_dump exited with 1");
    expect(() => stream.digest()).toThrow();
  });

  it("names dumps by their UTC stamp and reads it back", () => {
    const at = new Date("2026-01-31T23:59:58.765Z");
    expect(dumpStamp(at)).toBe("20260131T235958Z");
    expect(stampTime(`postgres/${dumpStamp(at)}.dump`)?.toISOString()).toBe("2026-01-31T23:59:58.000Z");
  });
});

describe("db-backup against the real PostgreSQL", () => {
  let db: TestDatabase;
  let dir: string;

  beforeAll(async () => {
    db = await createTestDatabase("bk");
    await seedDatabase(db.url, 200);
    dir = await mkdtemp(join(tmpdir(), "db-backup-test-"));
  });
  afterAll(async () => {
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("writes a verified custom-format dump, its checksum file and the manifest of its snapshot, and prints one JSON line", async () => {
    const out = join(dir, "ok");
    const res = await runOps("dbBackup", ["--out", out, "--manifest"], { DATABASE_URL: db.url });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout.trim().split("\n")).toHaveLength(1);
    const line = lastJsonLine<{ location: string; key: string; bytes: number; sha256: string; seconds: number; snapshotAt: string; tables: number }>(res.stdout);
    expect(line.location).toMatch(/\/\d{8}T\d{6}Z\.dump$/);
    const file = await readFile(line.location);
    expect(line.bytes).toBe(file.length);
    expect(line.sha256).toBe(sha256(file).toString("hex"));
    expect(line.seconds).toBeGreaterThan(0);
    expect((await readFile(`${line.location}.sha256`, "utf8")).trim()).toBe(`${line.sha256}  ${line.location.split("/").pop()}`);
    // pg_restore reads it: a valid custom-format archive with the tables' data.
    const toc = await runTool("pg_restore", ["--list", line.location], process.env);
    expect(toc).toMatch(/TABLE DATA public products/);
    const manifest = parseManifest(await readFile(`${line.location}.manifest.json`, "utf8"), "manifest");
    expect(manifest.snapshotAt).toBe(line.snapshotAt);
    expect(manifest.tables).toEqual(await databaseTableStates(db.url));
    expect(manifest.tables.find((t) => t.table === "products")?.rows).toBe(200);
    expect((await readdir(out)).sort()).toEqual([`${line.location.split("/").pop()}`, `${line.location.split("/").pop()}.manifest.json`, `${line.location.split("/").pop()}.sha256`]);
  });

  it("fails and leaves nothing when pg_dump exits non-zero after it sent bytes", async () => {
    const wrapper = join(dir, "pg_dump_then_fail.sh");
    await writeFile(wrapper, '#!/bin/sh\npg_dump "$@"\necho "simulated: connection lost" >&2\nexit 3\n');
    await chmod(wrapper, 0o755);
    const out = join(dir, "failing");
    const res = await runOps("dbBackup", ["--out", out], { DATABASE_URL: db.url, PG_DUMP: wrapper });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("exited with 3");
    expect(res.stderr).toContain("simulated: connection lost");
    expect(res.stdout).toBe("");
    expect(await readdir(out)).toEqual([]);
  });

  it("fails and removes the dump when the store kept other bytes than were sent", async () => {
    class CorruptingSink extends LocalDirSink {
      override async write(body: Readable): Promise<void> {
        await super.write(body);
        const bytes = await readFile(this.location);
        bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
        await writeFile(this.location, bytes);
      }
    }
    const out = join(dir, "corrupt");
    const sink = new CorruptingSink(out, "x.dump");
    const err = await dumpInto(sink, db.url).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DumpVerificationError);
    expect((err as Error).message).toMatch(/SHA-256 [0-9a-f]{64} stored, [0-9a-f]{64} sent/);
    expect(await readdir(out)).toEqual([]);
  });

  it("fails, stops pg_dump and removes what was written when the store fails mid-write", async () => {
    class FailingSink extends LocalDirSink {
      override async write(body: Readable): Promise<void> {
        for await (const _chunk of body) throw new Error("simulated: no space left on device");
      }
    }
    const out = join(dir, "full");
    let discarded = false;
    const sink = new FailingSink(out, "y.dump");
    const discard = sink.discard.bind(sink);
    sink.discard = async () => {
      discarded = true;
      await discard();
    };
    await expect(dumpInto(sink, db.url)).rejects.toThrow("no space left on device");
    expect(discarded).toBe(true);
  });

  it("refuses to run without a destination, naming the setting", async () => {
    const res = await runOps("dbBackup", [], { DATABASE_URL: db.url });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("DUMP_BUCKET");
  });
});
