/**
 * A scratch database to restore into (created beside the source, always dropped), pg_restore into
 * it, and reading back its tables' state for the comparison.
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { normalizeSession, tableStates, type TableState } from "../backup/manifest.js";
import { dumpStamp } from "../backup/backup.js";
import { withPgClient } from "../../services/db/pg-session.js";
import { pgConnection, pgRestoreBin, runTool, withDatabase } from "../backup/pg-tools.js";

export interface ScratchDatabase {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

/** Creates `restore_drill_<stamp>_<random>` on the server of `serverUrl` (any database there to connect through). */
export async function createScratchDatabase(serverUrl: string, at = new Date()): Promise<ScratchDatabase> {
  const name = `restore_drill_${dumpStamp(at).toLowerCase()}_${randomBytes(3).toString("hex")}`;
  await withPgClient(serverUrl, (c) => c.query(`CREATE DATABASE "${name}"`));
  let dropped = false;
  return {
    name,
    url: withDatabase(serverUrl, name),
    drop: async () => {
      if (dropped) return;
      await withPgClient(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
      dropped = true;
    },
  };
}

/** pg_restore of a custom-format dump into an empty database; returns the seconds it took. */
export async function restoreDump(file: string, targetUrl: string, jobs = 2): Promise<number> {
  const t0 = performance.now();
  const conn = pgConnection(targetUrl);
  await runTool(pgRestoreBin(), ["--no-owner", "--no-acl", "--exit-on-error", `--jobs=${jobs}`, `--dbname=${conn.dbname}`, file], conn.env);
  return (performance.now() - t0) / 1000;
}

/** Every table's row count and checksum in a database (a restored copy). */
export async function databaseTableStates(url: string): Promise<TableState[]> {
  return withPgClient(url, async (c) => {
    await normalizeSession(c);
    return tableStates(c);
  });
}
