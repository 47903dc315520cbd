import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { pgExecutor, pgliteExecutor } from "../../services/db/executors.js";
import { applyMigrations, loadMigrations, MIGRATIONS_DIR, MigrationError } from "../../services/db/migrations.js";
import { createEmptyDatabase, type TestDatabase } from "../helpers/db.js";


describe("the migration runner", () => {
  let scratch: TestDatabase | undefined;
  let client: pg.Client | undefined;
  afterEach(async () => {
    await client?.end();
    await scratch?.drop();
    client = undefined;
    scratch = undefined;
  });

  async function connect(): Promise<pg.Client> {
    scratch = await createEmptyDatabase("migr");
    client = new pg.Client({ connectionString: scratch.url });
    await client.connect();
    return client;
  }

  it("applies every migration once and records it the way prisma migrate deploy does", async () => {
    const c = await connect();
    const migrations = await loadMigrations();
    expect(migrations.length).toBeGreaterThan(0);
    const first = await applyMigrations(pgExecutor(c));
    expect(first.applied).toEqual(migrations.map((m) => m.name));
    const second = await applyMigrations(pgExecutor(c));
    expect(second.applied).toEqual([]);
    expect(second.alreadyApplied).toEqual(migrations.map((m) => m.name));

    const rows = (await c.query(`SELECT migration_name, checksum, finished_at, applied_steps_count FROM "_prisma_migrations" ORDER BY migration_name`)).rows;
    expect(rows).toHaveLength(migrations.length);
    for (const [i, row] of rows.entries()) {
      const file = await readFile(join(MIGRATIONS_DIR, row.migration_name, "migration.sql"));
      expect(row.checksum).toBe(createHash("sha256").update(file).digest("hex"));
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.applied_steps_count).toBe(1);
      expect(row.migration_name).toBe(migrations[i]?.name);
    }
    const tables = (await c.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`)).rows.map((r) => r.table_name);
    expect(tables).toEqual(expect.arrayContaining(["jobs", "archived_jobs", "products", "_prisma_migrations"]));
  });

  it("rolls a failing migration back and refuses to continue past it", async () => {
    const c = await connect();
    const broken = [{ name: "20990101000000_broken", sql: "CREATE TABLE ok_table (id int);\nSELECT no_such_column FROM ok_table;", checksum: "x" }];
    await expect(applyMigrations(pgExecutor(c), broken)).rejects.toBeInstanceOf(MigrationError);
    const leftovers = await c.query(`SELECT to_regclass('ok_table') AS t`);
    expect(leftovers.rows[0].t).toBeNull();
  });

  it("reports an applied migration whose file changed", async () => {
    const c = await connect();
    const migrations = await loadMigrations();
    await applyMigrations(pgExecutor(c), migrations);
    const edited = migrations.map((m, i) => (i === 0 ? { ...m, checksum: "0".repeat(64) } : m));
    const result = await applyMigrations(pgExecutor(c), edited);
    expect(result.modified).toEqual([migrations[0]?.name]);
  });

  it("builds the same tables in embedded PGlite", async () => {
    const db = new PGlite();
    try {
      const result = await applyMigrations(pgliteExecutor(db));
      expect(result.applied.length).toBeGreaterThan(0);
      const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name IN ('jobs', 'products')`);
      expect(rows[0]?.n).toBe(2);
    } finally {
      await db.close();
    }
  });
});
