/**
 * `npm run -s deploy:facts -- --env <stack>`: what the deploy workflows need to know about an
 * environment, from the environment model (Pulumi.<stack>.yaml through model/environments.ts), as
 * `key=value` lines for $GITHUB_OUTPUT, so no workflow retypes a region, a host or a name:
 *   region         the stack's AWS region (aws-actions/configure-aws-credentials)
 *   api_url        the public API (the smoke tests' --base-url, the GitHub environment's URL)
 *   frontend_url   the public frontend
 *   namespace      the product workloads' namespace
 *   rollout        the API's Argo Rollout (and its Service)
 *   metrics_port   the metrics listener's port (the smoke tests' port-forward)
 *   role           primary | standby (a standby's hostname is its primary's: no smoke tests there)
 */
import { ENVIRONMENTS, environment, isEnvironmentName } from "../../model/environments.js";
import { METRICS_PORT, WORKLOADS } from "../../model/workloads.js";
import { UsageError, parseFlags, runCli } from "./checks.js";

runCli("deploy:facts", `npm run -s deploy:facts -- --env <${ENVIRONMENTS.join("|")}>`, async () => {
  const { env: name } = parseFlags({ env: { type: "string" } });
  if (!name || !isEnvironmentName(name)) throw new UsageError(`--env must be one of ${ENVIRONMENTS.join(", ")}${name ? ` (got "${name}")` : ""}`);
  const env = environment(name);
  const facts = {
    region: env.region,
    api_url: env.urls.api,
    frontend_url: `https://${env.hosts.frontend}`,
    namespace: env.namespace,
    rollout: WORKLOADS.api,
    metrics_port: String(METRICS_PORT),
    role: env.role,
  };
  for (const [k, v] of Object.entries(facts)) console.log(`${k}=${v}`);
  return 0;
});
