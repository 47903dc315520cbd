/**
 * Writes the generated runbook pages into runbooks/:
 *   npx tsx runbooks/generate.ts
 * runbooks/<env>/<alert>.md for every environment, runbooks/README.md (the index) and
 * runbooks/environments.md (each environment's hosts and the variables procedures use), and the
 * table of critical alerts in alerts/README.md (their incidents and missing-input decisions).
 * tests/monitoring/runbooks.test.ts fails when the committed files differ from this output.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { renderRunbookTree } from "../alerts/runbooks.js";
import { withCriticalAlertTable } from "../alerts/decisions.js";

const dir = dirname(fileURLToPath(import.meta.url));
const pages = renderRunbookTree();
for (const [file, content] of pages) {
  await mkdir(dirname(join(dir, file)), { recursive: true });
  await writeFile(join(dir, file), content);
}
process.stdout.write(`wrote ${pages.size} pages to ${dir}\n`);
const alertsReadme = join(dir, "../alerts/README.md");
await writeFile(alertsReadme, withCriticalAlertTable(await readFile(alertsReadme, "utf8")));
process.stdout.write(`wrote the critical alert table to ${alertsReadme}\n`);
