#!/usr/bin/env node
/**
 * `prisma generate` (Prisma 7) without any download. Generation itself runs on WASM; the CLI
 * only insists that a schema engine binary exists, so we point it at the node binary, which is
 * never executed for `generate`.
 *
 * Skips the work when the generated client is up to date: a stamp file beside the client holds
 * the sha256 of schema.prisma and the Prisma versions it was generated with (a content hash,
 * not mtimes: a checkout or a copy changes mtimes without changing the schema, and a fresh
 * clone has no client at all). `npm start`, `npm test` and vitest's global setup
 * (tests/global-setup.ts) all run this, so `npx vitest run <file>` works right after `npm ci`.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const schema = join(root, "prisma", "schema.prisma");
const generated = join(root, "services", "db", "generated");
const marker = join(generated, "client.ts");
const stamp = join(generated, ".schema.sha256");

const version = (pkg) => {
  try {
    return JSON.parse(readFileSync(join(root, "node_modules", pkg, "package.json"), "utf8")).version;
  } catch {
    return "missing";
  }
};
const hash = createHash("sha256")
  .update(readFileSync(schema))
  .update(`\nprisma ${version("prisma")} @prisma/client ${version("@prisma/client")}\n`)
  .digest("hex");

const upToDate = existsSync(marker) && existsSync(stamp) && readFileSync(stamp, "utf8").trim() === hash;
if (!process.argv.includes("--force") && upToDate) process.exit(0);

const cli = join(root, "node_modules", "prisma", "build", "index.js");
const result = spawnSync(process.execPath, [cli, "generate"], {
  cwd: root,
  stdio: ["ignore", "pipe", "pipe"],
  encoding: "utf8",
  env: {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
    CHECKPOINT_DISABLE: "1",
    PRISMA_HIDE_UPDATE_MESSAGE: "1",
  },
});
if (result.status !== 0) {
  process.stderr.write(result.stdout + result.stderr);
  process.exit(result.status ?? 1);
}
writeFileSync(stamp, `${hash}\n`);
