/**
 * What every ops command shares: its settings parsed once from the environment with a schema (a
 * bad value names the variable, as services/config.ts does), its flags, and one way to end: exit 2
 * on bad configuration, 1 on any other failure, with the reason on stderr.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import type { z } from "zod";
import { ConfigError } from "../services/config.js";

export { ConfigError };

export function parseEnv<S extends z.ZodType>(schema: S, env: Record<string, string | undefined> = process.env): z.infer<S> {
  const defined = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const result = schema.safeParse(defined);
  if (!result.success) throw new ConfigError(result.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`));
  return result.data;
}

export function parseFlags<O extends NonNullable<ParseArgsConfig["options"]>>(options: O, args = process.argv.slice(2)) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new ConfigError([(err as Error).message]);
  }
}

/**
 * Runs a command's main and exits with its outcome (stdout and stderr are synchronous on Linux for
 * files and pipes, so nothing printed is lost; a client library's idle handle cannot keep a Job alive).
 */
export function runCommand(name: string, main: () => Promise<number | void>): void {
  main().then(
    (code) => process.exit(code ?? 0),
    (err: unknown) => {
      if (err instanceof ConfigError) {
        console.error(`${name}: ${err.message}`);
        process.exit(2);
      }
      console.error(`${name} failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
