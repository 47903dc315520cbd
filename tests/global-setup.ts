/**
 * vitest global setup: generates the Prisma client before any test file imports it, so
 * `npx vitest run <one file>` works right after `npm ci` on a fresh clone (npm runs no install
 * scripts, and nothing may depend on a postinstall step). scripts/prisma-generate.mjs returns
 * at once when its stamp says the client matches schema.prisma.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const SCRIPT = fileURLToPath(new URL("../scripts/prisma-generate.mjs", import.meta.url));

export default function setup(): void {
  const r = spawnSync(process.execPath, [SCRIPT], { stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) throw new Error(`generating the Prisma client failed (node ${SCRIPT} exited with ${r.status ?? r.signal})`);
}
