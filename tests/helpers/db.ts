/**
 * Real Postgres for tests: each caller gets a fresh database cloned from a template that has
 * the committed migrations applied (migrated once per migration set, under an advisory lock,
 * so parallel test files do not race).
 */
import { createHash, randomBytes } from "node:crypto";
import pg from "pg";
import { openDatabase, type Database } from "../../services/db/client.js";
import { applyMigrations, loadMigrations } from "../../services/db/migrations.js";
import type { MetricsRegistry } from "../../services/metrics-registry.js";
import { pgExecutor } from "../../services/db/executors.js";
import { withPgClient } from "../../services/db/pg-session.js";

export const PG_ADMIN_URL = process.env.TEST_PG_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

/** The URL of database `name` on the server of `adminUrl` (the shared test server by default). */
export function databaseUrl(name: string, adminUrl = PG_ADMIN_URL): string {
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

/** The migrated template of each server (a benchmark may use a private server besides the shared one). */
const templates = new Map<string, Promise<string>>();

async function migratedTemplate(adminUrl: string): Promise<string> {
  const migrations = await loadMigrations();
  const hash = createHash("sha256").update(migrations.map((m) => m.name + m.checksum).join()).digest("hex").slice(0, 12);
  const name = `tpl_platform_${hash}`;
  await withPgClient(adminUrl, async (admin) => {
    await admin.query("SELECT pg_advisory_lock(4242)");
    try {
      const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
      if (exists.rowCount) return;
      const building = `${name}_build`;
      await admin.query(`DROP DATABASE IF EXISTS "${building}"`);
      await admin.query(`CREATE DATABASE "${building}"`);
      const c = new pg.Client({ connectionString: databaseUrl(building, adminUrl) });
      await c.connect();
      try {
        await applyMigrations(pgExecutor(c), migrations);
      } finally {
        await c.end();
      }
      await admin.query(`ALTER DATABASE "${building}" RENAME TO "${name}"`);
    } finally {
      await admin.query("SELECT pg_advisory_unlock(4242)");
    }
  });
  return name;
}

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

/** An empty database with every migration applied, on the shared test server or the one of `adminUrl`. */
export async function createTestDatabase(prefix = "t", adminUrl = PG_ADMIN_URL): Promise<TestDatabase> {
  let template = templates.get(adminUrl);
  if (!template) templates.set(adminUrl, (template = migratedTemplate(adminUrl)));
  const from = await template;
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString("hex")}`;
  await withPgClient(adminUrl, (admin) => admin.query(`CREATE DATABASE "${name}" TEMPLATE "${from}"`));
  return { name, url: databaseUrl(name, adminUrl), drop: () => dropDatabase(name, adminUrl) };
}

/** An empty database with nothing applied. */
export async function createEmptyDatabase(prefix = "e"): Promise<TestDatabase> {
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString("hex")}`;
  await withPgClient(PG_ADMIN_URL, (admin) => admin.query(`CREATE DATABASE "${name}"`));
  return { name, url: databaseUrl(name), drop: () => dropDatabase(name) };
}

export async function dropDatabase(name: string, adminUrl = PG_ADMIN_URL): Promise<void> {
  await withPgClient(adminUrl, (admin) => admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

/** A migrated test database opened through the application's own client. */
export async function openTestDatabase(opts: { metrics?: MetricsRegistry; poolMax?: number } = {}): Promise<{
  db: Database;
  testDb: TestDatabase;
  close(): Promise<void>;
}> {
  const testDb = await createTestDatabase();
  const db = await openDatabase({ databaseUrl: testDb.url, metrics: opts.metrics, poolMax: opts.poolMax });
  return {
    db,
    testDb,
    close: async () => {
      await db.close();
      await testDb.drop();
    },
  };
}
