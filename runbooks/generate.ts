/**
 * Writes the generated alert runbooks and the index into runbooks/:
 *   npx tsx runbooks/generate.ts
 * tests/monitoring/runbooks.test.ts fails when the committed files differ from this output.
 */
import { writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { renderAllRunbooks, renderRunbookIndex } from "../alerts/runbooks.js";

const dir = dirname(fileURLToPath(import.meta.url));
const pages = renderAllRunbooks();
for (const [file, content] of pages) await writeFile(join(dir, file), content);
await writeFile(join(dir, "README.md"), renderRunbookIndex());
process.stdout.write(`wrote ${pages.size} runbooks and README.md to ${dir}\n`);
