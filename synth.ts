/**
 * npm run synth -- --env <dev|staging|prod|prod-dr>
 * Renders every generated artifact (dashboards, alert rules, promtool tests, Alertmanager
 * config, infra plan) into out/<env>/ with a manifest.json listing them.
 */
import { parseArgs } from "node:util";
import { ENVIRONMENTS, environment, parseEnvironmentName } from "./model/environments.js";
import { synth } from "./synth/run.js";

async function main(): Promise<number> {
  let values: { env?: string; out?: string };
  try {
    ({ values } = parseArgs({ options: { env: { type: "string" }, out: { type: "string" } }, strict: true }));
  } catch (err) {
    console.error(`synth: ${(err as Error).message}\nusage: npm run synth -- --env <${ENVIRONMENTS.join("|")}> [--out DIR]`);
    return 2;
  }
  let env;
  try {
    env = environment(parseEnvironmentName(values.env));
  } catch (err) {
    console.error(`synth: ${(err as Error).message}\nusage: npm run synth -- --env <${ENVIRONMENTS.join("|")}> [--out DIR]`);
    return 2;
  }
  const started = performance.now();
  const result = await synth(env, values.out ?? "out");
  const ms = Math.round(performance.now() - started);
  console.log(`synth: wrote ${result.artifacts.length} artifacts and manifest.json to ${result.outDir}/ in ${ms} ms`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`synth failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
