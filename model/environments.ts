/**
 * The environment model: the one description of each deployable environment that every part of
 * the repo reads (the Pulumi program, alert rules, Alertmanager routing, dashboards, runbooks,
 * synth). It sits at the bottom of the import graph: it imports nothing of infra/, alerts/ or
 * dashboards/.
 *
 * An environment is one Pulumi stack (Pulumi.<name>.yaml). What differs per environment (region,
 * role, host names, Grafana, Slack channels, where pages go) is read from that file and validated
 * by model/stack-config.ts, the same schema `pulumi up` validates with (infra/config.ts); nothing
 * here is a second per-environment table. What is the same everywhere (the namespace, the
 * repository that holds the runbooks) is a constant below.
 */
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { parseStackConfigMap, StackConfigError } from "./stack-config.js";
import type { StackConfig, Tier } from "./stack-config.js";
import { PRODUCT_NAMESPACE } from "./workloads.js";

/** The deployable environments, one Pulumi stack each: the test checks this list against the Pulumi.*.yaml files and the README. */
export const ENVIRONMENTS = ["dev", "staging", "prod", "prod-dr"] as const;
export type EnvironmentName = (typeof ENVIRONMENTS)[number];

/** Where this repository's runbooks are published; each environment's pages are under `<env>/`. */
export const RUNBOOKS_URL = "https://github.com/acme/product-platform/blob/main/runbooks";

export interface EnvironmentModel {
  /** The environment's name, which is also its Pulumi stack (Pulumi.<name>.yaml). */
  readonly name: EnvironmentName;
  /** The tier it deploys: prod-dr deploys prod (sizes, HA rules, the `environment` tag). */
  readonly tier: Tier;
  /** primary, or standby (a warm copy of its primary in another region). */
  readonly role: "primary" | "standby";
  /** The primary's environment, on a standby. */
  readonly primary: EnvironmentName | undefined;
  readonly region: string;
  readonly secondaryRegion: string;
  /** The Kubernetes namespace of the product workloads (one cluster per environment). */
  readonly namespace: string;
  readonly hosts: { readonly api: string; readonly frontend: string };
  readonly urls: {
    /** The public API base URL. */
    readonly api: string;
    /** What the blackbox exporter probes, and the alerts name: the API's health endpoint and the frontend. */
    readonly apiProbe: string;
    readonly frontendProbe: string;
  };
  readonly monitoring: StackConfig["monitoring"] & {
    /** Alert runbook links are `${runbookBaseUrl}/<alertname-lowercased>.md`. */
    readonly runbookBaseUrl: string;
  };
  /** Whether this stack creates the PagerDuty services (the users and services exist once, in prod). */
  readonly ownsPagerDutyService: boolean;
  /** The validated stack config this model was built from. */
  readonly config: StackConfig;
}

export function isEnvironmentName(value: string): value is EnvironmentName {
  return (ENVIRONMENTS as readonly string[]).includes(value);
}

export function parseEnvironmentName(value: string | undefined): EnvironmentName {
  if (value === undefined || value === "") {
    throw new Error(`an environment is required: one of ${ENVIRONMENTS.join(", ")}`);
  }
  if (!isEnvironmentName(value)) {
    throw new Error(`unknown environment "${value}": valid environments are ${ENVIRONMENTS.join(", ")}`);
  }
  return value;
}

/** The environment a standby's `platform:dr.primaryStack` (org/project/stack) names. */
function primaryOf(cfg: StackConfig, name: string): EnvironmentName | undefined {
  if (cfg.dr.role !== "standby") return undefined;
  const stack = cfg.dr.primaryStack?.split("/").pop() ?? "";
  if (!isEnvironmentName(stack)) {
    throw new StackConfigError(name, [`platform:dr.primaryStack: "${cfg.dr.primaryStack}" does not name one of the environments ${ENVIRONMENTS.join(", ")}`]);
  }
  return stack;
}

/** Builds the model of environment `name` from its validated stack config. */
export function environmentModel(name: string, cfg: StackConfig): EnvironmentModel {
  if (!isEnvironmentName(name)) {
    throw new StackConfigError(name, [
      `stack "${name}" is not one of the environments ${ENVIRONMENTS.join(", ")}: add it to ENVIRONMENTS in model/environments.ts with its Pulumi.${name}.yaml`,
    ]);
  }
  const api = cfg.dns.apiHostname;
  const frontend = cfg.dns.frontendHostname;
  return {
    name,
    tier: cfg.environment,
    role: cfg.dr.role,
    primary: primaryOf(cfg, name),
    region: cfg.region,
    secondaryRegion: cfg.secondaryRegion,
    namespace: PRODUCT_NAMESPACE,
    hosts: { api, frontend },
    urls: { api: `https://${api}`, apiProbe: `https://${api}/healthz`, frontendProbe: `https://${frontend}/` },
    monitoring: { ...cfg.monitoring, runbookBaseUrl: `${RUNBOOKS_URL}/${name}` },
    ownsPagerDutyService: cfg.pagerduty.enabled,
    config: cfg,
  };
}

const STACK_FILES_DIR = new URL("../", import.meta.url);

/** The whole `config:` map of Pulumi.<name>.yaml, keys with their namespace. */
export function readStackFile(name: string): Record<string, unknown> {
  const file = new URL(`Pulumi.${name}.yaml`, STACK_FILES_DIR);
  const doc = parse(readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null;
  return doc?.config ?? {};
}

const cache = new Map<EnvironmentName, EnvironmentModel>();

/** The model of a committed environment, read from Pulumi.<name>.yaml and validated (cached). */
export function environment(name: EnvironmentName): EnvironmentModel {
  let env = cache.get(name);
  if (!env) {
    env = environmentModel(name, parseStackConfigMap(name, readStackFile(name)));
    cache.set(name, env);
  }
  return env;
}

/** Every committed environment, in ENVIRONMENTS order. */
export function environments(): EnvironmentModel[] {
  return ENVIRONMENTS.map(environment);
}

/** What the blackbox exporter probes (from inside the cluster, or on platform:local), through the public endpoints. */
export function blackboxTargets(env: EnvironmentModel): { name: string; url: string }[] {
  return [
    { name: "api", url: env.urls.apiProbe },
    { name: "frontend", url: env.urls.frontendProbe },
  ];
}

/** The single definition of a runbook link. */
export function runbookUrl(env: EnvironmentModel, alertname: string): string {
  return `${env.monitoring.runbookBaseUrl}/${alertname.toLowerCase()}.md`;
}

/** The single definition of a dashboard link. */
export function dashboardUrl(env: EnvironmentModel, uid: string): string {
  return `${env.monitoring.grafanaUrl}/d/${uid}`;
}
