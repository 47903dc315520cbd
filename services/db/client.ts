/**
 * The one place a Prisma client is built. With a DATABASE_URL it talks to that Postgres through
 * @prisma/adapter-pg on a pg Pool; without one it runs an embedded PGlite database (for
 * `npm start` on a fresh machine), with the same committed migrations applied.
 */
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import pg from "pg";
import { PrismaClient } from "./generated/client.js";
import { pgExecutor, pgliteExecutor } from "./executors.js";
import { applyMigrations, type MigrateResult, type SqlExecutor } from "./migrations.js";
import { dbPoolConnections, dbQueryDuration } from "../metrics.js";
import type { MetricsRegistry } from "../metrics-registry.js";

export { PrismaClient };
export type { Prisma } from "./generated/client.js";

export interface Database {
  readonly prisma: PrismaClient;
  /** "postgres" for a real server, "pglite" for the embedded one. */
  readonly kind: "postgres" | "pglite";
  /** Raw SQL for the few places Prisma cannot express (batch updates, catalog reads). */
  readonly sql: SqlExecutor;
  /** Cheap liveness probe for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgres://... ; when absent an embedded PGlite database is used. */
  readonly databaseUrl?: string;
  /** Where PGlite keeps its files; memory when absent. */
  readonly pgliteDataDir?: string;
  readonly poolMax?: number;
  /** Apply pending migrations before returning (default false for Postgres, true for PGlite). */
  readonly migrate?: boolean;
  readonly metrics?: MetricsRegistry;
  readonly onMigrated?: (result: MigrateResult) => void;
}

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  return opts.databaseUrl ? openPostgres(opts.databaseUrl, opts) : openPglite(opts);
}

async function openPostgres(url: string, opts: DatabaseOptions): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: opts.poolMax ?? 10, connectionTimeoutMillis: 5_000 });
  // An idle client erroring (server restart) must not crash the process; the pool replaces it.
  pool.on("error", () => undefined);
  // So must a checked-out one (inside a transaction, between two statements): the server ending
  // its connection (pg_terminate_backend, a failover) emits `error` on the client, and with no
  // listener that killed the process (found by npm run chaos). The statement in flight or the next
  // one fails instead, and the pool discards the broken client when it is released.
  pool.on("connect", (client) => client.on("error", () => undefined));
  const sql = pgExecutor(pool);
  if (opts.migrate) {
    const client = await pool.connect();
    try {
      const result = await applyMigrations(pgExecutor(client));
      opts.onMigrated?.(result);
    } finally {
      client.release();
    }
  }
  if (opts.metrics) {
    opts.metrics.gauge(dbPoolConnections, (g) => {
      g.set({ state: "total" }, pool.totalCount);
      g.set({ state: "idle" }, pool.idleCount);
      g.set({ state: "waiting" }, pool.waitingCount);
    });
  }
  const prisma = instrument(new PrismaClient({ adapter: new PrismaPg(pool) }), opts.metrics);
  return {
    prisma,
    kind: "postgres",
    sql,
    ping: async () => void (await pool.query("SELECT 1")),
    close: async () => {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

async function openPglite(opts: DatabaseOptions): Promise<Database> {
  const db = opts.pgliteDataDir ? new PGlite(opts.pgliteDataDir) : new PGlite();
  await db.waitReady;
  const sql = pgliteExecutor(db);
  if (opts.migrate ?? true) {
    const result = await applyMigrations(sql);
    opts.onMigrated?.(result);
  }
  const prisma = instrument(new PrismaClient({ adapter: new PrismaPGlite(db) }), opts.metrics);
  return {
    prisma,
    kind: "pglite",
    sql,
    ping: async () => void (await db.query("SELECT 1")),
    close: async () => {
      await prisma.$disconnect();
      await db.close();
    },
  };
}

/**
 * Times every Prisma operation into db_query_duration_seconds. Prisma's client extensions
 * return a new type; we keep the PrismaClient type for callers, since the extension only
 * observes and never changes results.
 */
function instrument(prisma: PrismaClient, metrics?: MetricsRegistry): PrismaClient {
  if (!metrics) return prisma;
  const histogram = metrics.histogram(dbQueryDuration);
  return prisma.$extends({
    query: {
      async $allOperations({ model, operation, args, query }) {
        const end = histogram.startTimer({ model: model ?? "raw", operation });
        try {
          return await query(args);
        } finally {
          end();
        }
      },
    },
  }) as unknown as PrismaClient;
}
