#!/usr/bin/env node
/**
 * npm run db:new-migration -- <name> [--base REV]
 * Writes prisma/migrations/<timestamp>_<name>/migration.sql with the SQL that turns the schema at
 * REV (default HEAD) into the working copy of prisma/schema.prisma, rendered by Prisma offline.
 * Review the SQL (data migrations, renames), then run the drift test: npx vitest run tests/db
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const name = args.find((a) => !a.startsWith("--") && args[args.indexOf(a) - 1] !== "--base");
const baseIndex = args.indexOf("--base");
const base = baseIndex >= 0 ? args[baseIndex + 1] : "HEAD";
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error("usage: npm run db:new-migration -- <snake_case_name> [--base REV]");
  process.exit(2);
}
const old = execFileSync("git", ["show", `${base}:prisma/schema.prisma`], { cwd: root, encoding: "utf8" });
const oldFile = join(mkdtempSync(join(tmpdir(), "schema-")), "old.prisma");
writeFileSync(oldFile, old);
const sql = execFileSync(process.execPath, [join(root, "tools/prisma-sql/render.mjs"), "--from", oldFile], { cwd: root, encoding: "utf8" });
if (!sql.trim() || /^-- This is an empty migration/m.test(sql)) {
  console.error(`schema.prisma has no changes since ${base}`);
  process.exit(1);
}
const stamp = new Date().toISOString().replace(/[-:T]/g, "").slice(0, 14);
const dir = join(root, "prisma", "migrations", `${stamp}_${name}`);
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, "migration.sql"), sql);
console.log(`wrote ${join("prisma", "migrations", `${stamp}_${name}`, "migration.sql")}`);
