/**
 * One backup: pg_dump in custom format, streamed into a sink while it is counted and hashed, then
 * read back from the sink and compared. Any failure (pg_dump exiting non-zero even after it sent
 * bytes, the store failing, a size or checksum that differs) removes what was written and throws.
 *
 * With a manifest, the dump runs on a snapshot exported from a REPEATABLE READ transaction
 * (pg_dump --snapshot) and the same transaction counts and checksums every table: both see exactly
 * the same data, and the manifest is stored beside the dump for the restore drill.
 */
import { basename } from "node:path";
import { performance } from "node:perf_hooks";
import pg from "pg";
import { DigestStream, type DumpDigest } from "./digest-stream.js";
import { MANIFEST_SUFFIX, normalizeSession, tableStates, type Manifest } from "./manifest.js";
import { pgConnection, pgDumpBin, startTool } from "./pg-tools.js";
import type { DumpSink } from "./sink.js";

/** UTC stamp used in dump names: 20260131T235959Z. */
export function dumpStamp(at: Date): string {
  return at.toISOString().replace(/\.\d+Z$/, "Z").replaceAll("-", "").replaceAll(":", "");
}

/** The snapshot time encoded in a dump's name, if it has one. */
export function stampTime(name: string): Date | undefined {
  const m = /(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/.exec(name);
  return m ? new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`) : undefined;
}

export interface Snapshot {
  /** The exported snapshot's id, for pg_dump --snapshot. */
  readonly id: string;
  readonly at: Date;
  /** The connection holding the snapshot open (its queries see exactly that snapshot). */
  readonly client: pg.Client;
}

/** Runs fn while a REPEATABLE READ, READ ONLY transaction holds an exported snapshot of the database. */
export async function withExportedSnapshot<T>(databaseUrl: string, fn: (snapshot: Snapshot) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await normalizeSession(client);
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    const r = await client.query<{ id: string; at: Date }>("SELECT pg_export_snapshot() AS id, statement_timestamp() AS at");
    const result = await fn({ id: r.rows[0]!.id, at: r.rows[0]!.at, client });
    await client.query("COMMIT");
    return result;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface DumpResult {
  readonly location: string;
  readonly digest: DumpDigest;
  readonly seconds: number;
}

/** pg_dump of databaseUrl (at `snapshot`, if given) into the sink, verified. Throws after discarding on any failure. */
export async function dumpInto(sink: DumpSink, databaseUrl: string, snapshot?: string): Promise<DumpResult> {
  const t0 = performance.now();
  const conn = pgConnection(databaseUrl);
  const args = ["--format=custom", "--no-owner", ...(snapshot ? [`--snapshot=${snapshot}`] : []), `--dbname=${conn.dbname}`];
  const tool = startTool(pgDumpBin(), args, conn.env);
  const stream = new DigestStream(async () => void (await tool.done), sink.partSize);
  tool.child.stdout.pipe(stream);
  try {
    await sink.write(stream);
    const digest = stream.digest();
    await sink.verify(digest);
    await sink.attach(".sha256", `${digest.sha256}  ${basename(sink.location)}\n`);
    return { location: sink.location, digest, seconds: (performance.now() - t0) / 1000 };
  } catch (err) {
    if (tool.child.exitCode === null && tool.child.signalCode === null) tool.child.kill("SIGTERM");
    await tool.done.catch(() => undefined);
    await sink.discard();
    throw err;
  }
}

export interface BackupResult extends DumpResult {
  readonly snapshotAt: Date;
  readonly manifest: Manifest | undefined;
}

/**
 * A dump into the sink. With `manifest`, on an exported snapshot whose table states are stored as
 * `<dump>.manifest.json`; the sink is named from the snapshot time by `sinkFor`.
 */
export async function backupDatabase(databaseUrl: string, sinkFor: (snapshotAt: Date) => DumpSink, opts: { manifest?: boolean } = {}): Promise<BackupResult> {
  if (!opts.manifest) {
    const snapshotAt = new Date();
    const result = await dumpInto(sinkFor(snapshotAt), databaseUrl);
    return { ...result, snapshotAt, manifest: undefined };
  }
  return withExportedSnapshot(databaseUrl, async (snap) => {
    const sink = sinkFor(snap.at);
    // pg_dump reads through its own connection on the imported snapshot while this one checksums.
    const [dump, tables] = await Promise.allSettled([dumpInto(sink, databaseUrl, snap.id), tableStates(snap.client)]);
    if (dump.status === "rejected") throw dump.reason;
    if (tables.status === "rejected") {
      await sink.discard();
      throw tables.reason;
    }
    const manifest: Manifest = { version: 1, snapshotAt: snap.at.toISOString(), tables: tables.value };
    try {
      await sink.attach(MANIFEST_SUFFIX, `${JSON.stringify(manifest, null, 2)}\n`);
    } catch (err) {
      await sink.discard();
      throw err;
    }
    return { ...dump.value, snapshotAt: snap.at, manifest };
  });
}
