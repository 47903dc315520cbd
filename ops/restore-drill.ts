/**
 * OPS_COMMANDS.restoreDrill (`npm run drill:restore` locally): proves a backup restores.
 *
 * RESTORE_MODE=local (default), against a PostgreSQL server (ops/drill/drill.ts):
 *   dump the source on an exported snapshot and checksum every table in that snapshot (or take the
 *   dump given with --dump <file|dir>, whose manifest db-backup --manifest stored beside it), restore
 *   into a scratch database, compare every table's rows and checksum, start the API on the restored
 *   copy and run the smoke checks, print RTO, RPO and the row counts, drop the scratch database.
 * RESTORE_MODE=rds-pitr, the monthly CronJob in AWS (ops/drill/rds-pitr.ts): restore the latest
 *   restorable time of SOURCE_DB into a scratch instance, the same verification, delete the instance.
 *
 *   node --import tsx ops/restore-drill.ts [--seed] [--dump <file|dir>]
 *
 * Environment: DATABASE_URL (the source; with --seed and unset, a local database
 * postgresql://postgres@127.0.0.1:5432/platform_drill_source), AMQP_URL (the broker the API on the
 * restored copy connects to, in a queue namespace of its own; default the local one), SEED_PRODUCTS
 * (2000), SCRATCH_SERVER_URL (a database URL on the server that gets the scratch database; default
 * the source's server: point it elsewhere to keep the restore's load off the source), PG_DUMP/PG_RESTORE; rds-pitr: SOURCE_DB, SUBNET_GROUP, SECURITY_GROUP, INSTANCE_CLASS,
 * AWS_REGION. --seed creates, migrates and fills the source with representative data when it has
 * no products (local mode only).
 * Exits 0 when everything matched, 1 on any mismatch or failure, 2 on bad configuration.
 */
import { z } from "zod";
import { ConfigError, parseEnv, parseFlags, runCommand } from "./cli.js";
import { redactUrl } from "./backup/pg-tools.js";
import { runDrill } from "./drill/drill.js";
import { runPitrDrill } from "./drill/rds-pitr.js";
import { formatReport, mebibytes, seconds } from "./drill/report.js";
import { seedDatabase } from "./drill/seed.js";

const LOCAL_SOURCE_URL = "postgresql://postgres@127.0.0.1:5432/platform_drill_source";

const envSchema = z.object({
  RESTORE_MODE: z.enum(["local", "rds-pitr"]).default("local"),
  DATABASE_URL: z.string().url().optional(),
  AMQP_URL: z.string().url().optional(),
  SCRATCH_SERVER_URL: z.string().url().optional(),
  SEED_PRODUCTS: z.coerce.number().int().positive().default(2000),
  SOURCE_DB: z.string().min(1).optional(),
  SUBNET_GROUP: z.string().min(1).optional(),
  SECURITY_GROUP: z.string().min(1).optional(),
  INSTANCE_CLASS: z.string().min(1).optional(),
  AWS_REGION: z.string().optional(),
});

runCommand("restore-drill", async () => {
  const flags = parseFlags({ seed: { type: "boolean", default: false }, dump: { type: "string" } });
  const env = parseEnv(envSchema);
  if (env.RESTORE_MODE === "rds-pitr") return pitr(env, flags);

  const databaseUrl = env.DATABASE_URL ?? (flags.seed ? LOCAL_SOURCE_URL : undefined);
  if (!databaseUrl) throw new ConfigError(["DATABASE_URL: required (the source database; or pass --seed to drill a local one)"]);
  if (flags.seed) {
    const s = await seedDatabase(databaseUrl, env.SEED_PRODUCTS);
    console.log(`source ${redactUrl(databaseUrl)}: ${s.created ? "created, " : ""}${s.migrated} migration(s) applied, ${s.products ? `${s.products} products seeded` : "already has data, not seeded"}`);
  }
  const r = await runDrill({ databaseUrl, dump: flags.dump, amqpUrl: env.AMQP_URL, scratchServerUrl: env.SCRATCH_SERVER_URL });
  const rows = r.tables.reduce((n, t) => n + (t.restored?.rows ?? 0), 0);
  console.log(
    formatReport({
      ok: r.ok,
      facts: [
        ["source", redactUrl(databaseUrl)],
        ["dump", `${r.dump.file} (${mebibytes(r.dump.bytes)}, sha256 ${r.dump.sha256.slice(0, 16)}…${r.dump.dumpSeconds !== undefined ? `, taken in ${seconds(r.dump.dumpSeconds)}` : ""})`],
        ["snapshot", r.dump.snapshotAt],
        ["RPO", `${seconds(r.rpoSeconds)}: the dump's age when the restore started`],
        ["RTO", `${seconds(r.rtoSeconds)}: restore ${seconds(r.restoreSeconds)} + API ready ${seconds(r.rtoSeconds - r.restoreSeconds)}, for ${mebibytes(r.dump.bytes)} / ${rows} rows`],
        ["scratch", `${r.scratchDatabase} (${r.scratchDropped ? "dropped" : "NOT dropped"})`],
      ],
      tables: r.tables,
      smoke: r.smoke,
      problems: r.problems,
    }),
  );
  console.log(
    JSON.stringify({
      ok: r.ok,
      rtoSeconds: round(r.rtoSeconds),
      restoreSeconds: round(r.restoreSeconds),
      rpoSeconds: round(r.rpoSeconds),
      dumpBytes: r.dump.bytes,
      snapshotAt: r.dump.snapshotAt,
      rows: Object.fromEntries(r.tables.map((t) => [t.table, t.restored?.rows ?? null])),
      mismatches: r.tables.filter((t) => t.problem).map((t) => t.table),
      problems: r.problems,
    }),
  );
  return r.ok ? 0 : 1;
});

const round = (n: number) => Number(n.toFixed(3));

async function pitr(env: z.infer<typeof envSchema>, flags: { seed?: boolean; dump?: string }): Promise<number> {
  if (flags.seed || flags.dump) throw new ConfigError(["--seed and --dump: local mode only (RESTORE_MODE=local)"]);
  const missing = (["DATABASE_URL", "SOURCE_DB", "SUBNET_GROUP", "SECURITY_GROUP", "INSTANCE_CLASS"] as const).filter((k) => !env[k]);
  if (missing.length > 0) throw new ConfigError(missing.map((k) => `${k}: required when RESTORE_MODE=rds-pitr`));
  const r = await runPitrDrill({
    sourceDb: env.SOURCE_DB!,
    subnetGroup: env.SUBNET_GROUP!,
    securityGroup: env.SECURITY_GROUP!,
    instanceClass: env.INSTANCE_CLASS!,
    region: env.AWS_REGION,
    databaseUrl: env.DATABASE_URL!,
    amqpUrl: env.AMQP_URL,
  });
  console.log(
    formatReport(
      {
        ok: r.ok,
        facts: [
          ["instance", `${r.instance} (deleted)`],
          ["restore time", r.restoreTime],
          ["RPO", `${seconds(r.rpoSeconds)}: the latest restorable time's age when the restore started`],
          ["RTO", `${seconds(r.rtoSeconds)}: instance restored and available ${seconds(r.restoreSeconds)} + API ready ${seconds(r.rtoSeconds - r.restoreSeconds)}`],
          ["rows", r.rowCounts.map((t) => `${t.table}=${t.rows}`).join(" ")],
          ["compared", "append-only tables up to the restore time minus 5 minutes (the rest of the source has moved on)"],
        ],
        tables: r.tables,
        smoke: r.smoke,
        problems: r.problems,
      },
      "restore drill (RDS point-in-time)",
    ),
  );
  console.log(JSON.stringify({ ok: r.ok, mode: "rds-pitr", rtoSeconds: round(r.rtoSeconds), rpoSeconds: round(r.rpoSeconds), rows: Object.fromEntries(r.rowCounts.map((t) => [t.table, t.rows])), problems: r.problems }));
  return r.ok ? 0 : 1;
}
