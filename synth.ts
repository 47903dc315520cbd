/**
 * npm run synth -- --env <dev|staging|prod|prod-dr> [--profile local]
 * Renders every generated artifact (dashboards, alert rules, promtool tests, Alertmanager
 * config, infra plan) into out/<env>/ with a manifest.json listing them. `--profile local`
 * renders the same rules and routing on the local time scale (alerts/profile.ts) into
 * out/<env>-local/, for `npm run platform:local`.
 */
import { parseArgs } from "node:util";
import { ENVIRONMENTS, environment, parseEnvironmentName } from "./model/environments.js";
import { synth } from "./synth/run.js";
import { PROFILES, parseProfile } from "./alerts/profile.js";

async function main(): Promise<number> {
  const usage = `usage: npm run synth -- --env <${ENVIRONMENTS.join("|")}> [--profile <${Object.keys(PROFILES).join("|")}>] [--out DIR]`;
  let values: { env?: string; out?: string; profile?: string };
  try {
    ({ values } = parseArgs({ options: { env: { type: "string" }, out: { type: "string" }, profile: { type: "string" } }, strict: true }));
  } catch (err) {
    console.error(`synth: ${(err as Error).message}\n${usage}`);
    return 2;
  }
  let env;
  let profile;
  try {
    env = environment(parseEnvironmentName(values.env));
    profile = parseProfile(values.profile);
  } catch (err) {
    console.error(`synth: ${(err as Error).message}\n${usage}`);
    return 2;
  }
  const started = performance.now();
  const result = await synth(env, values.out ?? "out", { profile });
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
