/** One short-lived node-postgres session: connect, run `fn`, always end (ops commands, the local platform, tests). */
import pg from "pg";

export async function withPgClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}
