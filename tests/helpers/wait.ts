/**
 * Polls until fn returns a truthy value, or fails after timeoutMs naming what it waited for.
 * With retryOnError, a throwing fn (a server not listening yet) counts as "not yet"; otherwise
 * its error ends the wait at once (tests use that to fail fast on a wrong terminal state).
 */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 15_000,
  everyMs = 25,
  retryOnError = false,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      if (!retryOnError) throw err;
      lastError = err;
    }
    if (Date.now() > end) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ""}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
