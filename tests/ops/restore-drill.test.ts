/**
 * ops/restore-drill.ts against the real PostgreSQL and RabbitMQ: the whole drill as the CronJob runs
 * it (seeded source, dump on an exported snapshot, restore into a scratch database, table-by-table
 * comparison, the API started on the copy and smoke-tested, the report, the scratch database
 * dropped); a copy changed before the comparison fails the drill; a dump it is pointed at is
 * compared with the manifest stored beside it, and a manifest that disagrees fails the command.
 *
 * RESTORE_MODE=rds-pitr (ops/drill/rds-pitr.ts) is not exercised: there is no RDS on this machine.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backupDatabase } from "../../ops/backup/backup.js";
import { compareTables, parseManifest } from "../../ops/backup/manifest.js";
import { LocalDirSink } from "../../ops/backup/sink.js";
import { runDrill } from "../../ops/drill/drill.js";
import { createScratchDatabase, databaseTableStates, restoreDump } from "../../ops/drill/restore.js";
import { seedDatabase } from "../../ops/drill/seed.js";
import { createEmptyDatabase, createTestDatabase, PG_ADMIN_URL, type TestDatabase } from "../helpers/db.js";
import { lastJsonLine, runOps } from "./helpers.js";

const AMQP_URL = process.env.TEST_AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";

async function databaseExists(name: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    return Boolean((await c.query("SELECT 1 FROM pg_database WHERE datname = $1", [name])).rowCount);
  } finally {
    await c.end();
  }
}

async function sql(url: string, text: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

interface DrillJson {
  ok: boolean;
  rtoSeconds: number;
  restoreSeconds: number;
  rpoSeconds: number;
  dumpBytes: number;
  rows: Record<string, number>;
  mismatches: string[];
  problems: string[];
}

describe("the restore drill command", () => {
  let source: TestDatabase;
  beforeAll(async () => {
    source = await createEmptyDatabase("drill_src");
  });
  afterAll(async () => source?.drop());

  it("seeds an empty source, restores its dump, matches every table, smoke-tests the API and drops the scratch database", async () => {
    const res = await runOps("restoreDrill", ["--seed"], { DATABASE_URL: source.url, AMQP_URL, SEED_PRODUCTS: "300" });
    expect(res.code, res.stdout + res.stderr).toBe(0);
    const out = res.stdout;
    expect(out).toContain("300 products seeded");
    expect(out).toContain("restore drill: OK");
    expect(out).toMatch(/RPO\s+\d+\.\d s: the dump's age/);
    expect(out).toMatch(/RTO\s+\d+\.\d s: restore \d+\.\d s \+ API ready \d+\.\d s, for \d+\.\d\d MiB \/ \d+ rows/);
    for (const s of ["GET /healthz -> 200", "GET /readyz -> 200", "GET /v1/products?limit=1 -> 200"]) expect(out).toContain(`ok   ${s}`);
    expect(out).toMatch(/ok {3}GET \/v1\/products\/[0-9a-f-]{36} -> 200/);
    const json = lastJsonLine<DrillJson>(out);
    expect(json.ok).toBe(true);
    expect(json.mismatches).toEqual([]);
    // Every table, with the seeded counts (2 events... per product, 5 jobs per product, 1 archived per 20).
    expect(json.rows).toMatchObject({ products: 300, product_events: 900, source_checks: 600, jobs: 1500, import_items: 300, archived_jobs: 15, _prisma_migrations: expect.any(Number) });
    expect(Object.keys(json.rows).sort()).toEqual(["_prisma_migrations", "archived_jobs", "import_items", "imports", "job_publish_intents", "jobs", "product_events", "product_images", "products", "source_checks", "translations"]);
    for (const [table, rows] of Object.entries(json.rows)) expect(out).toMatch(new RegExp(`${table}\\s+${rows}\\s+${rows}\\s+rows and checksum match`));
    expect(json.rtoSeconds).toBeGreaterThan(json.restoreSeconds);
    const scratch = /scratch\s+(restore_drill_\w+) \(dropped\)/.exec(out)?.[1];
    expect(scratch).toBeTruthy();
    expect(await databaseExists(scratch!)).toBe(false);
  }, 120_000);

  it("takes the newest dump in a directory with its manifest, and fails (exit 1) when the manifest disagrees with the restored copy", async () => {
    const dir = await mkdtemp(join(tmpdir(), "drill-dumps-"));
    try {
      await seedDatabase(source.url, 300);
      const backup = await runOps("dbBackup", ["--out", dir, "--manifest"], { DATABASE_URL: source.url });
      expect(backup.code, backup.stderr).toBe(0);
      const { location } = lastJsonLine<{ location: string }>(backup.stdout);
      // An older dump without a manifest beside it: the newest one is taken.
      await writeFile(join(dir, "20000101T000000Z.dump"), "not a dump");

      // The scratch database made through another database of the server (SCRATCH_SERVER_URL).
      const ok = await runOps("restoreDrill", ["--dump", dir], { DATABASE_URL: source.url, AMQP_URL, SCRATCH_SERVER_URL: PG_ADMIN_URL });
      expect(ok.code, ok.stdout + ok.stderr).toBe(0);
      expect(ok.stdout).toContain(location);

      const manifestFile = `${location}.manifest.json`;
      const manifest = parseManifest(await readFile(manifestFile, "utf8"), manifestFile);
      const tampered = { ...manifest, tables: manifest.tables.map((t) => (t.table === "translations" ? { ...t, rows: t.rows + 1 } : t)) };
      await writeFile(manifestFile, JSON.stringify(tampered));
      const bad = await runOps("restoreDrill", ["--dump", location], { DATABASE_URL: source.url, AMQP_URL });
      expect(bad.code, bad.stdout + bad.stderr).toBe(1);
      expect(bad.stdout).toContain("restore drill: FAILED");
      expect(bad.stdout).toMatch(/translations\s+\d+\s+\d+\s+MISMATCH: \d+ rows restored, \d+ in the source/);
      expect(lastJsonLine<DrillJson>(bad.stdout).mismatches).toEqual(["translations"]);

      await rm(manifestFile);
      const none = await runOps("restoreDrill", ["--dump", location], { DATABASE_URL: source.url, AMQP_URL });
      expect(none.code).toBe(1);
      expect(none.stderr).toContain("manifest.json not found");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);
});

describe("the drill's comparison", () => {
  let source: TestDatabase;
  beforeAll(async () => {
    source = await createTestDatabase("drill_cmp");
    await seedDatabase(source.url, 200);
  });
  afterAll(async () => source?.drop());

  it("fails on a row changed in the restored copy, names the table, and still drops the scratch database", async () => {
    let scratchUrl = "";
    const report = await runDrill({
      databaseUrl: source.url,
      amqpUrl: AMQP_URL,
      beforeCompare: async (url) => {
        scratchUrl = url;
        await sql(url, "UPDATE products SET title = title || ' (tampered)' WHERE id = (SELECT id FROM products ORDER BY id LIMIT 1)");
      },
    });
    expect(report.ok).toBe(false);
    const mismatched = report.tables.filter((t) => t.problem);
    expect(mismatched.map((t) => t.table)).toEqual(["products"]);
    expect(mismatched[0]!.problem).toMatch(/^content differs \(checksum -?\d+ restored, -?\d+ in the source\)$/);
    expect(mismatched[0]!.restored?.rows).toBe(200);
    expect(report.problems).toContain(`products: ${mismatched[0]!.problem}`);
    expect(report.scratchDropped).toBe(true);
    expect(await databaseExists(new URL(scratchUrl).pathname.slice(1))).toBe(false);
  }, 120_000);

  it("fails on a row deleted from, or added to, the restored copy", async () => {
    const dir = await mkdtemp(join(tmpdir(), "drill-cmp-"));
    try {
      const b = await backupDatabase(source.url, () => new LocalDirSink(dir, "cmp.dump"), { manifest: true });
      const scratch = await createScratchDatabase(source.url);
      try {
        await restoreDump(b.location, scratch.url);
        expect(compareTables(b.manifest!.tables, await databaseTableStates(scratch.url)).filter((t) => t.problem)).toEqual([]);
        await sql(scratch.url, "DELETE FROM source_checks WHERE id = (SELECT max(id) FROM source_checks); INSERT INTO product_events (product_id, to_status, actor) SELECT id, 'imported', 'intruder' FROM products LIMIT 1");
        const problems = compareTables(b.manifest!.tables, await databaseTableStates(scratch.url)).filter((t) => t.problem);
        expect(problems.map((t) => [t.table, t.problem])).toEqual([
          ["product_events", "601 rows restored, 600 in the source"],
          ["source_checks", "399 rows restored, 400 in the source"],
        ]);
      } finally {
        await scratch.drop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it("records the source at the dump's snapshot even while writes go on during the dump", async () => {
    const dir = await mkdtemp(join(tmpdir(), "drill-snap-"));
    const writer = new pg.Client({ connectionString: source.url });
    await writer.connect();
    let writing = true;
    let written = 0;
    const writes = (async () => {
      while (writing) {
        await writer.query("INSERT INTO product_events (product_id, to_status, actor) SELECT id, 'in_review', 'concurrent' FROM products ORDER BY id LIMIT 5");
        written += 5;
      }
    })();
    try {
      // Let the writer get going, so the snapshot falls in the middle of the writes.
      while (written < 50) await new Promise((r) => setTimeout(r, 5));
      const b = await backupDatabase(source.url, () => new LocalDirSink(dir, "snap.dump"), { manifest: true });
      const during = written;
      while (written < during + 50) await new Promise((r) => setTimeout(r, 5));
      writing = false;
      await writes;
      const live = (await databaseTableStates(source.url)).find((t) => t.table === "product_events")!;
      const atSnapshot = b.manifest!.tables.find((t) => t.table === "product_events")!;
      // The source moved on after the snapshot...
      expect(live.rows).toBeGreaterThan(atSnapshot.rows);
      // ...and the dump holds exactly what the manifest recorded at its snapshot.
      const scratch = await createScratchDatabase(source.url);
      try {
        await restoreDump(b.location, scratch.url);
        expect(compareTables(b.manifest!.tables, await databaseTableStates(scratch.url)).filter((t) => t.problem)).toEqual([]);
      } finally {
        await scratch.drop();
      }
    } finally {
      writing = false;
      await writes.catch(() => undefined);
      await writer.end();
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
