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

/** The raw-SQL surface of a Prisma client or of an interactive transaction (`$transaction(async (tx) => ...)`). */
interface PrismaRaw {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): PromiseLike<T>;
  $executeRawUnsafe(query: string, ...values: unknown[]): PromiseLike<number>;
}

/**
 * A SqlExecutor inside a Prisma interactive transaction, so raw statements (the job store's)
 * commit or roll back with the Prisma writes around them. `exec` runs one statement: a
 * transaction's statements are prepared, so scripts of several do not run here.
 */
export function prismaExecutor(tx: PrismaRaw): SqlExecutor {
  return {
    query: async <T>(text: string, params: unknown[] = []) => ({ rows: await tx.$queryRawUnsafe<T[]>(text, ...params) }),
    exec: async (text: string) => void (await tx.$executeRawUnsafe(text)),
  };
}
