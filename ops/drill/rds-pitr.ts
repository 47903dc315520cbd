/**
 * RESTORE_MODE=rds-pitr, the monthly CronJob in AWS: restore the source instance's latest restorable
 * time into a scratch instance, verify it with the same code as the local drill (verifyRestored:
 * table comparison, then the API's smoke checks on it), and delete the instance in a finally.
 *
 * What can honestly be compared: the live source has moved on since the restore time T, so only rows
 * that cannot have changed since are compared exactly, in the tables the application only ever
 * appends to (PITR_COMPARED), up to T minus a margin (a row's timestamp is set before its transaction
 * commits). Every other table must exist in the restored copy; its row count is reported, not compared.
 *
 * Kept thin: it cannot run here (no AWS). It is type-checked; the verification it calls is the one
 * the local drill's tests exercise.
 */
import { DeleteDBInstanceCommand, DescribeDBInstancesCommand, RDSClient, RestoreDBInstanceToPointInTimeCommand, waitUntilDBInstanceAvailable } from "@aws-sdk/client-rds";
import { performance } from "node:perf_hooks";
import { withPgClient } from "../../services/db/pg-session.js";
import { listTables, normalizeSession, tableLabel, tableState, type TableComparison, type TableState } from "../backup/manifest.js";
import type { SmokeCheck } from "./api-smoke.js";
import { verifyRestored } from "./drill.js";
import { databaseTableStates } from "./restore.js";

/** Append-only tables and the column set when a row is written (never updated or deleted afterwards). */
export const PITR_COMPARED: Readonly<Record<string, string>> = {
  product_events: "at",
  source_checks: "checked_at",
  archived_jobs: "archived_at",
  _prisma_migrations: "started_at",
};
/** Rows written this long before the restore time are committed by then. */
export const PITR_MARGIN_SECONDS = 300;

export interface PitrOptions {
  readonly sourceDb: string;
  readonly subnetGroup: string;
  readonly securityGroup: string;
  readonly instanceClass: string;
  readonly region: string | undefined;
  /** The source's URL: its credentials work on the restored instance, whose host replaces the source's. */
  readonly databaseUrl: string;
  readonly amqpUrl?: string;
}

export interface PitrReport {
  readonly ok: boolean;
  readonly instance: string;
  readonly restoreTime: string;
  readonly rpoSeconds: number;
  readonly restoreSeconds: number;
  readonly rtoSeconds: number;
  readonly rowCounts: readonly TableState[];
  readonly tables: readonly TableComparison[];
  readonly smoke: readonly SmokeCheck[];
  readonly problems: readonly string[];
}

/** The compared slice of every append-only table, on one database (the source or the restored copy). */
async function comparedStates(url: string, until: Date): Promise<TableState[]> {
  return withPgClient(url, async (c) => {
    await normalizeSession(c);
    const out: TableState[] = [];
    for (const t of await listTables(c)) {
      const column = t.schema === "public" ? PITR_COMPARED[t.name] : undefined;
      if (column) out.push(await tableState(c, t, `r."${column}" < '${until.toISOString()}'::timestamptz`));
    }
    return out;
  });
}

export async function runPitrDrill(opts: PitrOptions): Promise<PitrReport> {
  const rds = new RDSClient(opts.region ? { region: opts.region } : {});
  const source = (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: opts.sourceDb }))).DBInstances?.[0];
  const restoreTime = source?.LatestRestorableTime;
  if (!restoreTime) throw new Error(`${opts.sourceDb}: no latest restorable time (are automated backups on?)`);
  const started = new Date();
  const t0 = performance.now();
  // Matches the drill role's IAM resource pattern <source>-drill-*.
  const instance = `${opts.sourceDb}-drill-${started.toISOString().slice(0, 16).replace(/[-:T]/g, "")}`;
  await rds.send(
    new RestoreDBInstanceToPointInTimeCommand({
      SourceDBInstanceIdentifier: opts.sourceDb,
      TargetDBInstanceIdentifier: instance,
      RestoreTime: restoreTime,
      DBSubnetGroupName: opts.subnetGroup,
      VpcSecurityGroupIds: [opts.securityGroup],
      DBInstanceClass: opts.instanceClass,
      MultiAZ: false,
      PubliclyAccessible: false,
      DeletionProtection: false,
      Tags: [{ Key: "purpose", Value: "restore-drill" }],
    }),
  );
  try {
    await waitUntilDBInstanceAvailable({ client: rds, maxWaitTime: 3 * 3600, minDelay: 30, maxDelay: 60 }, { DBInstanceIdentifier: instance });
    const endpoint = (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: instance }))).DBInstances?.[0]?.Endpoint;
    if (!endpoint?.Address) throw new Error(`${instance}: no endpoint once available`);
    const restoreSeconds = (performance.now() - t0) / 1000;
    const url = new URL(opts.databaseUrl);
    url.hostname = endpoint.Address;
    if (endpoint.Port) url.port = String(endpoint.Port);
    const restoredUrl = url.toString();

    const until = new Date(restoreTime.getTime() - PITR_MARGIN_SECONDS * 1000);
    const [expected, restoredSlice, rowCounts, sourceTables] = [
      await comparedStates(opts.databaseUrl, until),
      await comparedStates(restoredUrl, until),
      await databaseTableStates(restoredUrl),
      await listSourceTables(opts.databaseUrl),
    ];
    const v = await verifyRestored(restoredUrl, expected, { amqpUrl: opts.amqpUrl, restored: restoredSlice });
    const restoredNames = new Set(rowCounts.map((t) => t.table));
    const missing = sourceTables.filter((t) => !restoredNames.has(t)).map((t) => `${t}: missing from the restored instance`);
    const problems = [...v.problems, ...missing];
    return {
      ok: problems.length === 0,
      instance,
      restoreTime: restoreTime.toISOString(),
      rpoSeconds: (started.getTime() - restoreTime.getTime()) / 1000,
      restoreSeconds,
      rtoSeconds: restoreSeconds + (v.apiReadySeconds ?? 0),
      rowCounts,
      tables: v.tables,
      smoke: v.smoke,
      problems,
    };
  } finally {
    await rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: instance, SkipFinalSnapshot: true, DeleteAutomatedBackups: true }));
  }
}

async function listSourceTables(url: string): Promise<string[]> {
  return withPgClient(url, async (c) => (await listTables(c)).map(tableLabel));
}
