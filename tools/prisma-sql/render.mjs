#!/usr/bin/env node
/**
 * Renders SQL with Prisma 6.19's WASM schema engine (engine: "js"), fully offline.
 *
 *   node tools/prisma-sql/render.mjs                    # schema.prisma as SQL, from an empty database
 *   node tools/prisma-sql/render.mjs --from OLD.prisma  # the SQL that turns OLD.prisma into schema.prisma
 *
 * Why this exists: Prisma 7's CLI downloads a native schema engine for `migrate diff`/`migrate dev`,
 * which cannot run on our build machines. The schema is translated into a Prisma-6-compatible copy
 * (same models, a prisma-client-js generator with engineType "client" and an env() url), in a
 * scratch directory, and diffed there. Output goes to stdout.
 *
 * Live databases are never diffed: this engine's introspection of a live PostgreSQL 15 database fails
 * ("Column type 'name' could not be deserialized"), so `--from-migrations` is not available; datamodels are diffed instead. The
 * drift test (tests/db/drift.test.ts) instead applies this SQL and the committed migrations to two
 * scratch databases and compares their pg_dump schemas.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const work = join(root, "node_modules", ".cache", "prisma-sql");
mkdirSync(work, { recursive: true });

function toPrisma6Schema(schema) {
  const generator = /generator\s+\w+\s*\{[^}]*\}/m;
  const datasource = /datasource\s+db\s*\{[^}]*\}/m;
  if (!generator.test(schema) || !datasource.test(schema)) throw new Error("schema.prisma needs a generator and a `db` datasource");
  return schema
    .replace(generator, 'generator client {\n  provider   = "prisma-client-js"\n  engineType = "client"\n}')
    .replace(datasource, 'datasource db {\n  provider = "postgresql"\n  url      = env("PRISMA_SQL_URL")\n}');
}

const schemaPath = join(root, "prisma", "schema.prisma");
writeFileSync(join(work, "schema.prisma"), toPrisma6Schema(readFileSync(schemaPath, "utf8")));
const fromIndex = process.argv.indexOf("--from");
const from = ["--from-empty"];
if (fromIndex > 0) {
  const oldPath = process.argv[fromIndex + 1];
  if (!oldPath) throw new Error("--from needs a schema file");
  writeFileSync(join(work, "old.prisma"), toPrisma6Schema(readFileSync(resolve(oldPath), "utf8")));
  from.splice(0, 1, "--from-schema-datamodel", "old.prisma");
}
// The JS schema engine wants a driver adapter; `--from-empty` never connects through it.
const url = process.env.PRISMA_SQL_URL ?? process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
const adapterPath = join(here, "node_modules", "@prisma", "adapter-pg", "dist", "index.mjs");
writeFileSync(
  join(work, "prisma.config.mjs"),
  `import { PrismaPg } from ${JSON.stringify(adapterPath)};
export default {
  experimental: { adapter: true },
  engine: "js",
  schema: "schema.prisma",
  adapter: async () => new PrismaPg({ connectionString: ${JSON.stringify(url)}, allowExitOnIdle: true, idleTimeoutMillis: 100 }),
};
`,
);
const cli = join(here, "node_modules", "prisma", "build", "index.js");
const result = spawnSync(process.execPath, [cli, "migrate", "diff", ...from, "--to-schema-datamodel", "schema.prisma", "--script"], {
  cwd: work,
  encoding: "utf8",
  env: {
    ...process.env,
    PRISMA_SQL_URL: url,
    CHECKPOINT_DISABLE: "1",
    PRISMA_HIDE_UPDATE_MESSAGE: "1",
    // Never used on this path, but their absence makes the CLI try to download them.
    PRISMA_SCHEMA_ENGINE_BINARY: process.execPath,
    PRISMA_QUERY_ENGINE_LIBRARY: process.execPath,
  },
});
if (result.status !== 0) {
  process.stderr.write(result.stderr || result.stdout || `prisma migrate diff exited ${result.status}\n`);
  process.exit(result.status ?? 1);
}
process.stdout.write(result.stdout);
