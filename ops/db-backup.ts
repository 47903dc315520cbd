/**
 * OPS_COMMANDS.dbBackup: pg_dump in custom format of DATABASE_URL, streamed (no temporary file) to
 * s3://$DUMP_BUCKET/$DUMP_PREFIX<UTC stamp>.dump, checked after the upload (size and SHA-256 as S3
 * stored them, against what was streamed), with `<key>.sha256` beside it. Any failure removes what
 * was written and exits non-zero; pg_dump exiting non-zero fails the backup even after bytes went out.
 *
 *   node --import tsx ops/db-backup.ts                 # to S3 (the CronJob)
 *   node --import tsx ops/db-backup.ts --out <dir>     # to <dir>/<stamp>.dump (local runs, tests, the drill)
 *   ... --manifest                                     # also <dump>.manifest.json: every table's rows and checksum at the dump's snapshot
 *
 * Environment: DATABASE_URL (required); DUMP_BUCKET (required without --out); DUMP_PREFIX (default
 * model/workloads.ts DUMP_PREFIX, `pg_dump/`); AWS_REGION; PG_DUMP (the pg_dump binary, default from PATH).
 * Prints one JSON line: {"location","key","bytes","sha256","seconds","snapshotAt"[,"tables"]}.
 */
import { z } from "zod";
import { DUMP_PREFIX } from "../model/workloads.js";
import { backupDatabase, dumpStamp } from "./backup/backup.js";
import { S3Sink } from "./backup/s3-sink.js";
import { LocalDirSink } from "./backup/sink.js";
import { ConfigError, parseEnv, parseFlags, runCommand } from "./cli.js";

const envSchema = z.object({
  DATABASE_URL: z.string().url(),
  DUMP_BUCKET: z.string().min(3).optional(),
  DUMP_PREFIX: z.string().default(DUMP_PREFIX),
  AWS_REGION: z.string().optional(),
});

runCommand("db-backup", async () => {
  const flags = parseFlags({ out: { type: "string" }, manifest: { type: "boolean", default: false } });
  const env = parseEnv(envSchema);
  const out = flags.out;
  if (!out && !env.DUMP_BUCKET) throw new ConfigError(["DUMP_BUCKET: required (or pass --out <dir> for a local dump)"]);
  const name = (at: Date) => `${dumpStamp(at)}.dump`;
  const result = await backupDatabase(env.DATABASE_URL, (at) => (out ? new LocalDirSink(out, name(at)) : S3Sink.forRegion(env.AWS_REGION, env.DUMP_BUCKET!, `${env.DUMP_PREFIX}${name(at)}`)), {
    manifest: flags.manifest,
  });
  const key = out ? result.location : `${env.DUMP_PREFIX}${name(result.snapshotAt)}`;
  console.log(
    JSON.stringify({
      location: result.location,
      key,
      bytes: result.digest.bytes,
      sha256: result.digest.sha256,
      seconds: Number(result.seconds.toFixed(3)),
      snapshotAt: result.snapshotAt.toISOString(),
      ...(result.manifest ? { tables: result.manifest.tables.length } : {}),
    }),
  );
});
