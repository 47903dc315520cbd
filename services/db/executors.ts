/** SqlExecutor over the two drivers we use: node-postgres (pool or client) and embedded PGlite. */
import type { PGlite } from "@electric-sql/pglite";
import type pg from "pg";
import type { SqlExecutor } from "./migrations.js";

/** A pg.Pool, pg.Client or checked-out pg.PoolClient. */
type PgQueryable = Pick<pg.Client, "query"> | Pick<pg.Pool, "query">;

export function pgExecutor(conn: PgQueryable): SqlExecutor {
  const q = conn as pg.Client;
  return {
    query: async <T>(text: string, params?: unknown[], name?: string) => ({
      rows: (await (name ? q.query({ name, text, values: params }) : q.query(text, params))).rows as T[],
    }),
    exec: async (text: string) => void (await q.query(text)),
  };
}

export function pgliteExecutor(db: PGlite): SqlExecutor {
  return {
    query: async <T>(text: string, params?: unknown[]) => ({ rows: (await db.query<T>(text, params)).rows }),
    exec: async (text: string) => void (await db.exec(text)),
  };
}
