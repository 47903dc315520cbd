/**
 * Applies the committed Prisma migrations (prisma/migrations/<name>/migration.sql) and records
 * them in `_prisma_migrations` exactly as `prisma migrate deploy` does (same table, same
 * sha256 checksums, same advisory lock), so a database migrated here is one production's
 * `prisma migrate deploy` considers up to date, and vice versa.
 *
 * Why not the Prisma CLI: Prisma 7's `migrate deploy` needs a native schema engine that is
 * downloaded at run time; our build and test machines cannot download it. Production's
 * migration Job runs the real `prisma migrate deploy` (see infra/workloads.ts).
 */
import { createHash, randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";

export const MIGRATIONS_DIR = resolve(import.meta.dirname, "../../prisma/migrations");
/** The advisory lock key Prisma's schema engine takes while migrating. */
const PRISMA_MIGRATE_LOCK = 72707369;

export interface Migration {
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

/** The minimal SQL surface both node-postgres and PGlite provide. */
export interface SqlExecutor {
  /**
   * `name` makes it a prepared statement on Postgres (parsed and planned once per connection;
   * for the engine's hot statements); drivers without them ignore it.
   */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[], name?: string): Promise<{ rows: T[] }>;
  /** Runs a script of several statements (simple query protocol). */
  exec(sql: string): Promise<void>;
}

export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(join(dir, name, "migration.sql"), "utf8");
      return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    }),
  );
}

const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

export interface MigrateResult {
  readonly applied: readonly string[];
  readonly alreadyApplied: readonly string[];
  /** Applied migrations whose file changed since; Prisma warns about these too. */
  readonly modified: readonly string[];
}

export class MigrationError extends Error {
  constructor(
    message: string,
    readonly migration: string,
  ) {
    super(message);
    this.name = "MigrationError";
  }
}

/** Applies every pending migration, each in its own transaction, under Prisma's advisory lock. */
export async function applyMigrations(db: SqlExecutor, migrations?: readonly Migration[]): Promise<MigrateResult> {
  const all = migrations ?? (await loadMigrations());
  await db.query("SELECT pg_advisory_lock($1)", [PRISMA_MIGRATE_LOCK]);
  try {
    await db.exec(CREATE_MIGRATIONS_TABLE);
    const { rows } = await db.query<AppliedRow>(
      `SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations"`,
    );
    const failed = rows.find((r) => r.finished_at === null && r.rolled_back_at === null);
    if (failed) {
      throw new MigrationError(
        `migration ${failed.migration_name} failed earlier and was not rolled back; fix the database, then mark it with \`prisma migrate resolve\``,
        failed.migration_name,
      );
    }
    const done = new Map(rows.filter((r) => r.finished_at !== null && r.rolled_back_at === null).map((r) => [r.migration_name, r]));
    const applied: string[] = [];
    const alreadyApplied: string[] = [];
    const modified: string[] = [];
    for (const m of all) {
      const row = done.get(m.name);
      if (row) {
        alreadyApplied.push(m.name);
        if (row.checksum !== m.checksum) modified.push(m.name);
        continue;
      }
      const id = randomUUID();
      await db.exec("BEGIN");
      try {
        await db.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES ($1, $2, $3, now(), 0)`,
          [id, m.checksum, m.name],
        );
        await db.exec(m.sql);
        await db.query(`UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1`, [id]);
        await db.exec("COMMIT");
      } catch (err) {
        await db.exec("ROLLBACK");
        throw new MigrationError(`migration ${m.name} failed and was rolled back: ${(err as Error).message}`, m.name);
      }
      applied.push(m.name);
    }
    return { applied, alreadyApplied, modified };
  } finally {
    await db.query("SELECT pg_advisory_unlock($1)", [PRISMA_MIGRATE_LOCK]);
  }
}
