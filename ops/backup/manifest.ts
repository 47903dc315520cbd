/**
 * What a database holds, table by table: the row count and a content checksum, so a restored copy
 * can be compared with its source at the dump's snapshot.
 *
 * The checksum is the sum, as an exact numeric, of every row's 64-bit hash (the first 16 hex digits
 * of md5 of the row's text form): an order-independent hash of the table's rows as a multiset. A
 * changed, missing or extra row changes it (short of a 2^-64 coincidence); it needs no sort, no
 * primary key and constant memory (one sequential scan per table), unlike an ordered string_agg
 * whose string grows with the table. Row text depends on session settings (time zone, date style,
 * float digits), so every connection that checksums pins them first (normalizeSession).
 */
import type pg from "pg";

export interface TableState {
  /** `table` in the public schema, `schema.table` elsewhere. */
  readonly table: string;
  readonly rows: number;
  readonly checksum: string;
}

/** The state of a database at a snapshot, as stored beside a dump (`<dump>.manifest.json`). */
export interface Manifest {
  readonly version: 1;
  /** When the snapshot was taken (ISO 8601, UTC). */
  readonly snapshotAt: string;
  readonly tables: readonly TableState[];
}

export const MANIFEST_SUFFIX = ".manifest.json";

type Queryable = Pick<pg.ClientBase, "query">;

/** Pins every setting a row's text form depends on. */
export async function normalizeSession(c: Queryable): Promise<void> {
  await c.query("SET TIME ZONE 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET extra_float_digits = 3; SET bytea_output = 'hex'");
}

export interface TableRef {
  readonly schema: string;
  readonly name: string;
}

export const tableLabel = (t: TableRef): string => (t.schema === "public" ? t.name : `${t.schema}.${t.name}`);

/** Every ordinary and partitioned table outside the system schemas (partitions are counted through their parent). */
export async function listTables(c: Queryable): Promise<TableRef[]> {
  const r = await c.query<{ schema: string; name: string }>(
    `SELECT n.nspname AS schema, c.relname AS name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
        AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
      ORDER BY 1, 2`,
  );
  return r.rows;
}

const quoteIdent = (s: string): string => `"${s.replaceAll('"', '""')}"`;

/** The checksum query of one table, with an optional row filter (a SQL condition on alias `r`). */
export function tableStateSql(t: TableRef, where?: string): string {
  return `SELECT count(*)::text AS rows, coalesce(sum(('x' || left(md5(ROW(r.*)::text), 16))::bit(64)::bigint), 0)::text AS checksum
            FROM ${quoteIdent(t.schema)}.${quoteIdent(t.name)} AS r${where ? ` WHERE ${where}` : ""}`;
}

export async function tableState(c: Queryable, t: TableRef, where?: string): Promise<TableState> {
  const r = await c.query<{ rows: string; checksum: string }>(tableStateSql(t, where));
  const row = r.rows[0]!;
  return { table: tableLabel(t), rows: Number(row.rows), checksum: row.checksum };
}

/** Row count and checksum of every table, read on this connection (inside its snapshot, if it holds one). */
export async function tableStates(c: Queryable): Promise<TableState[]> {
  const out: TableState[] = [];
  for (const t of await listTables(c)) out.push(await tableState(c, t));
  return out;
}

export interface TableComparison {
  readonly table: string;
  readonly source: TableState | undefined;
  readonly restored: TableState | undefined;
  /** Empty when the table matches. */
  readonly problem: string;
}

/** Table by table: present on both sides, same row count, same checksum. */
export function compareTables(source: readonly TableState[], restored: readonly TableState[]): TableComparison[] {
  const bySource = new Map(source.map((t) => [t.table, t]));
  const byRestored = new Map(restored.map((t) => [t.table, t]));
  const names = [...new Set([...bySource.keys(), ...byRestored.keys()])].sort();
  return names.map((table) => {
    const s = bySource.get(table);
    const r = byRestored.get(table);
    let problem = "";
    if (!r) problem = "missing from the restored copy";
    else if (!s) problem = "not in the source";
    else if (s.rows !== r.rows) problem = `${r.rows} rows restored, ${s.rows} in the source`;
    else if (s.checksum !== r.checksum) problem = `content differs (checksum ${r.checksum} restored, ${s.checksum} in the source)`;
    return { table, source: s, restored: r, problem };
  });
}

export function parseManifest(text: string, where: string): Manifest {
  const m = JSON.parse(text) as Partial<Manifest>;
  if (m.version !== 1 || typeof m.snapshotAt !== "string" || !Array.isArray(m.tables)) throw new Error(`${where} is not a dump manifest (version 1 with snapshotAt and tables)`);
  return m as Manifest;
}
