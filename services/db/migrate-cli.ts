/** npm run db:migrate — applies the committed migrations to DATABASE_URL. */
import pg from "pg";
import { applyMigrations } from "./migrations.js";
import { pgExecutor } from "./executors.js";

const url = process.env.DATABASE_URL;
if (!url) {
  console.error("DATABASE_URL is required, e.g. DATABASE_URL=postgresql://postgres@127.0.0.1:5432/app npm run db:migrate");
  process.exit(2);
}
const client = new pg.Client({ connectionString: url });
try {
  await client.connect();
  const result = await applyMigrations(pgExecutor(client));
  console.log(`applied ${result.applied.length} migration(s)${result.applied.length ? ": " + result.applied.join(", ") : ""}; ${result.alreadyApplied.length} already applied`);
  for (const m of result.modified) console.warn(`warning: ${m} was edited after it was applied`);
} catch (err) {
  console.error(`migration failed: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  await client.end().catch(() => undefined);
}
