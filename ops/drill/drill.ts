/**
 * The restore drill against a PostgreSQL server:
 *   1. a dump in custom format of the source, taken on an exported snapshot whose every table is
 *      counted and checksummed in the same REPEATABLE READ transaction (or a dump it is pointed at,
 *      with the manifest db-backup --manifest stored beside it at that dump's snapshot);
 *   2. pg_restore into a scratch database (always dropped at the end);
 *   3. every table's row count and checksum in the restored copy compared with the source's;
 *   4. the API started on the restored copy, and the smoke checks;
 *   5. a report: the RTO (restore + API ready) for this data size, the dump's age at the restore
 *      (RPO), and the row counts.
 * verifyRestored() (steps 3-4) is shared with the RDS point-in-time drill.
 */
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { backupDatabase, dumpStamp } from "../backup/backup.js";
import { compareTables, MANIFEST_SUFFIX, parseManifest, type Manifest, type TableComparison, type TableState } from "../backup/manifest.js";
import { LocalDirSink, sha256File } from "../backup/sink.js";
import { smokeChecks, startApi, type SmokeCheck } from "./api-smoke.js";
import { createScratchDatabase, databaseTableStates, restoreDump } from "./restore.js";

export interface DumpUnderTest {
  readonly file: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly manifest: Manifest;
  /** Seconds pg_dump took, when the drill took the dump itself. */
  readonly dumpSeconds: number | undefined;
}

export interface VerifyOptions {
  readonly amqpUrl?: string;
  /** Test hook: runs on the restored copy before it is compared (a test changes a row here). */
  readonly beforeCompare?: (restoredUrl: string) => Promise<void>;
}

export interface Verification {
  readonly tables: readonly TableComparison[];
  readonly smoke: readonly SmokeCheck[];
  readonly apiReadySeconds: number | undefined;
  readonly ok: boolean;
  readonly problems: readonly string[];
}

/** Steps 3 and 4: compare the restored copy's tables with `expected`, then smoke-test the API on it. */
export async function verifyRestored(restoredUrl: string, expected: readonly TableState[], opts: VerifyOptions & { restored?: readonly TableState[] } = {}): Promise<Verification> {
  await opts.beforeCompare?.(restoredUrl);
  const restored = opts.restored ?? (await databaseTableStates(restoredUrl));
  const tables = compareTables(expected, restored);
  const problems = tables.filter((t) => t.problem).map((t) => `${t.table}: ${t.problem}`);
  let smoke: SmokeCheck[] = [];
  let apiReadySeconds: number | undefined;
  try {
    const api = await startApi({ databaseUrl: restoredUrl, amqpUrl: opts.amqpUrl });
    apiReadySeconds = api.readySeconds;
    try {
      smoke = await smokeChecks(api, (restored.find((t) => t.table === "products")?.rows ?? 0) > 0);
    } finally {
      await api.stop();
    }
  } catch (err) {
    problems.push(`API: ${(err as Error).message}`);
  }
  for (const s of smoke) if (!s.ok) problems.push(`${s.name}: ${s.detail}`);
  return { tables, smoke, apiReadySeconds, ok: problems.length === 0, problems };
}

/** The newest `*.dump` in a directory, or the file itself. */
export async function resolveDump(path: string): Promise<string> {
  if (!(await stat(path)).isDirectory()) return path;
  const dumps = (await readdir(path)).filter((f) => f.endsWith(".dump")).sort();
  if (dumps.length === 0) throw new Error(`no *.dump file in ${path}`);
  // Names carry the UTC stamp, so the lexically last is the newest.
  return join(path, dumps[dumps.length - 1]!);
}

/** A dump it is pointed at, with the manifest stored beside it (db-backup --manifest). */
export async function existingDump(path: string): Promise<DumpUnderTest> {
  const file = await resolveDump(path);
  const manifestFile = `${file}${MANIFEST_SUFFIX}`;
  const text = await readFile(manifestFile, "utf8").catch(() => {
    throw new Error(
      `${manifestFile} not found: the drill compares the restored copy with the source at the dump's snapshot, which only a manifest taken in that snapshot records (db-backup --manifest writes it); or let the drill take its own dump (no --dump)`,
    );
  });
  const manifest = parseManifest(text, manifestFile);
  const { bytes, sha256 } = await sha256File(file);
  const expected = await readFile(`${file}.sha256`, "utf8").then(
    (s) => s.split(/\s+/)[0],
    () => undefined,
  );
  if (expected !== undefined && expected !== sha256) throw new Error(`${file}: SHA-256 ${sha256} does not match ${file}.sha256 (${expected}): the dump is damaged`);
  return { file, bytes, sha256, manifest, dumpSeconds: undefined };
}

export interface DrillOptions extends VerifyOptions {
  /** The source database. */
  readonly databaseUrl: string;
  /** Use this dump (file, or the newest in a directory) instead of taking one. */
  readonly dump?: string;
  /** A database URL on the server that gets the scratch database (default: the source's server). */
  readonly scratchServerUrl?: string;
  /** pg_restore --jobs. */
  readonly restoreJobs?: number;
  readonly clock?: () => Date;
}

export interface DrillReport {
  readonly ok: boolean;
  readonly dump: { readonly file: string; readonly bytes: number; readonly sha256: string; readonly snapshotAt: string; readonly dumpSeconds: number | undefined };
  readonly scratchDatabase: string;
  readonly scratchDropped: boolean;
  /** The dump's age when the restore started: the data a restore from it loses (RPO). */
  readonly rpoSeconds: number;
  readonly restoreSeconds: number;
  /** Restore plus the API answering on the restored copy: the RTO for this data size. */
  readonly rtoSeconds: number;
  readonly tables: readonly TableComparison[];
  readonly smoke: readonly SmokeCheck[];
  readonly problems: readonly string[];
}

/** Runs the drill; always drops the scratch database and the drill's own dump. Throws only if no report can be made. */
export async function runDrill(opts: DrillOptions): Promise<DrillReport> {
  const clock = opts.clock ?? (() => new Date());
  const work = opts.dump ? undefined : await mkdtemp(join(tmpdir(), "restore-drill-"));
  try {
    let dump: DumpUnderTest;
    if (opts.dump) dump = await existingDump(opts.dump);
    else {
      const b = await backupDatabase(opts.databaseUrl, (at) => new LocalDirSink(work!, `${dumpStamp(at)}.dump`), { manifest: true });
      dump = { file: b.location, bytes: b.digest.bytes, sha256: b.digest.sha256, manifest: b.manifest!, dumpSeconds: b.seconds };
    }
    const restoreStart = clock();
    const rpoSeconds = (restoreStart.getTime() - new Date(dump.manifest.snapshotAt).getTime()) / 1000;
    const t0 = performance.now();
    const scratch = await createScratchDatabase(opts.scratchServerUrl ?? opts.databaseUrl, restoreStart);
    let verification: Verification | undefined;
    let restoreSeconds = 0;
    let restoreError: string | undefined;
    let dropped = false;
    try {
      try {
        await restoreDump(dump.file, scratch.url, opts.restoreJobs);
      } catch (err) {
        restoreError = `restore: ${(err as Error).message}`;
      }
      restoreSeconds = (performance.now() - t0) / 1000;
      if (!restoreError) verification = await verifyRestored(scratch.url, dump.manifest.tables, opts);
    } finally {
      dropped = await scratch.drop().then(
        () => true,
        () => false,
      );
    }
    const problems = [...(restoreError ? [restoreError] : []), ...(verification?.problems ?? []), ...(dropped ? [] : [`the scratch database ${scratch.name} could not be dropped`])];
    return {
      ok: problems.length === 0,
      dump: { file: dump.file, bytes: dump.bytes, sha256: dump.sha256, snapshotAt: dump.manifest.snapshotAt, dumpSeconds: dump.dumpSeconds },
      scratchDatabase: scratch.name,
      scratchDropped: dropped,
      rpoSeconds,
      restoreSeconds,
      rtoSeconds: restoreSeconds + (verification?.apiReadySeconds ?? 0),
      tables: verification?.tables ?? [],
      smoke: verification?.smoke ?? [],
      problems,
    };
  } finally {
    if (work) await rm(work, { recursive: true, force: true });
  }
}
