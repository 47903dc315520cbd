/**
 * schema.prisma is the source of truth; the committed migrations must build exactly the schema it
 * describes. Prisma renders the schema as SQL (offline, tools/prisma-sql); that SQL and the
 * committed migrations are applied to two scratch databases on the real Postgres, and their
 * pg_dump schemas must be identical. Storage parameters, which schema.prisma cannot express, come
 * from services/db/storage-parameters.ts and are applied to the schema-built database.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyMigrations } from "../../services/db/migrations.js";
import { withPgClient } from "../../services/db/pg-session.js";
import { createEmptyDatabase, type TestDatabase } from "../helpers/db.js";
import { pgExecutor } from "../../services/db/executors.js";
import { storageParametersSql } from "../../services/db/storage-parameters.js";

const run = promisify(execFile);

async function schemaDump(url: string): Promise<string> {
  const { stdout } = await run("pg_dump", ["--schema-only", "--no-owner", "--no-privileges", "--exclude-table=_prisma_migrations", url], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout
    .split("\n")
    .filter((l) => l.trim() !== "" && !l.startsWith("--") && !l.startsWith("SET ") && !l.startsWith("SELECT pg_catalog.set_config") && !l.startsWith("\\"))
    .join("\n");
}

describe("schema.prisma and prisma/migrations", () => {
  let fromSchema: TestDatabase;
  let fromMigrations: TestDatabase;

  beforeAll(async () => {
    fromSchema = await createEmptyDatabase("drift_schema");
    fromMigrations = await createEmptyDatabase("drift_migr");
  });
  afterAll(async () => {
    await fromSchema?.drop();
    await fromMigrations?.drop();
  });

  it("build identical database schemas", async () => {
    const { stdout: schemaSql } = await run(process.execPath, ["tools/prisma-sql/render.mjs"], { maxBuffer: 16 * 1024 * 1024 });
    expect(schemaSql).toContain("CREATE TABLE");
    await withPgClient(fromSchema.url, (c) => c.query(`${schemaSql}\n${storageParametersSql()}`));
    await withPgClient(fromMigrations.url, (c) => applyMigrations(pgExecutor(c)));
    const [expected, actual] = await Promise.all([schemaDump(fromSchema.url), schemaDump(fromMigrations.url)]);
    expect(expected.length).toBeGreaterThan(1000);
    // On failure: write a new migration for the difference (see README, "Database migrations").
    expect(actual).toEqual(expected);
  }, 120_000);
});
