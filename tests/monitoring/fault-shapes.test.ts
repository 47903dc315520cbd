/**
 * Fault shapes on-call engineers see, run through the rendered rules with the real promtool:
 * a healthy platform (every input series present) with one fault at a time, and at the end the
 * set of critical alerts that fire (from Prometheus' own ALERTS series) and the incidents they
 * form. One incident per shape is what makes one page (alerts/incidents.ts). The shapes are the
 * ones issue 17 lists: 6% and 3% errors at 10 requests/s, one error on a quiet night, a backup
 * CronJob that never succeeded, every worker down while work waits, the database down, the API
 * target down with its probe failing.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { environment } from "../../model/environments.js";
import { API_SCRAPE_JOB, BLACKBOX_JOB, WORKER_SCRAPE_JOB, WORKLOADS, workerDeployment } from "../../model/workloads.js";
import { ruleGroups } from "../../alerts/rules/index.js";
import { INCIDENTS, INCIDENT_LABEL } from "../../alerts/incidents.js";
import { bucketInput, input } from "../../alerts/promql.js";
import { PROMETHEUS_RULES_FILE, TEST_INTERVAL } from "../../alerts/promtool-tests.js";
import { dependencyUp, httpRequestDuration, httpRequestsTotal, jobsOldestWaitingSeconds, jobsQueueDepth } from "../../services/metrics.js";
import {
  awsBackupNumberOfBackupJobsAbortedSum,
  awsBackupNumberOfBackupJobsFailedSum,
  awsBackupNumberOfCopyJobsFailedSum,
  awsRdsReplicaLagMaximum,
  kubeCronjobStatusLastSuccessfulTime,
  kubeDeploymentSpecReplicas,
  kubeDeploymentStatusReplicasAvailable,
  pgUp,
  probeSuccess,
  rabbitmqQueueConsumers,
  rabbitmqQueueMessagesReady,
  rolloutInfo,
  rolloutInfoReplicasAvailable,
  rolloutInfoReplicasDesired,
  up,
} from "../../services/metrics-exporters.js";
import { JOB_TYPES } from "../../services/jobs/types.js";
import { workQueue } from "../../services/jobs/topology.js";
import { run, tempDir, writeFiles } from "./helpers.js";

const PROMTOOL = "/usr/bin/promtool";
const env = environment("prod");
const ns = env.namespace;
const MINUTES = 80;
const route = { method: "GET", route: "/v1/products" } as const;
type Series = { series: string; values: string };

/** `healthy` for the first `from` minutes, then `faulty`, up to MINUTES. */
const after = (from: number, healthy: string, faulty: string): string => `${healthy}x${from - 1} ${faulty}x${MINUTES - from}`;

const api = {
  ok: input(httpRequestsTotal, { ...route, status_code: "200" }, `0+600x${MINUTES}`),
  fast: bucketInput(httpRequestDuration, route, "1", `0+600x${MINUTES}`),
  all: bucketInput(httpRequestDuration, route, "+Inf", `0+600x${MINUTES}`),
};
const apiUp = (pod: string, values: string) => input(up, { job: API_SCRAPE_JOB, namespace: ns, pod }, values);
const apiProbe = (values: string) => input(probeSuccess, { job: BLACKBOX_JOB, instance: env.urls.apiProbe }, values);
const apiRollout = { namespace: ns, name: WORKLOADS.api };
const workerPod = (t: string) => `${workerDeployment(t)}-5d8f7c9b4-x2k4q`;
const deploymentAvailable = (t: string, values: string) => input(kubeDeploymentStatusReplicasAvailable, { namespace: ns, deployment: workerDeployment(t) }, values);
const workerUp = (t: string, values: string) => input(up, { job: WORKER_SCRAPE_JOB, namespace: ns, pod: workerPod(t) }, values);
const consumers = (t: (typeof JOB_TYPES)[number], values: string) => input(rabbitmqQueueConsumers, { vhost: "/", queue: workQueue(t) }, values);
const ready = (t: (typeof JOB_TYPES)[number], values: string) => input(rabbitmqQueueMessagesReady, { vhost: "/", queue: workQueue(t) }, values);
const dbUp = (job: string, pod: string, values: string) => input(dependencyUp, { dependency: "postgres", job, pod }, values);

/** Every input the critical alerts read, as a healthy production platform reports it. */
function healthy(): Series[] {
  const h = `1x${MINUTES}`;
  return [
    api.ok,
    input(httpRequestsTotal, { ...route, status_code: "500" }, `0x${MINUTES}`),
    ...api.fast,
    ...api.all,
    apiUp("api-1", h),
    apiUp("api-2", h),
    apiProbe(h),
    input(probeSuccess, { job: BLACKBOX_JOB, instance: env.urls.frontendProbe }, h),
    input(rolloutInfo, { ...apiRollout, strategy: "canary", phase: "Healthy" }, h),
    input(rolloutInfoReplicasDesired, apiRollout, `2x${MINUTES}`),
    input(rolloutInfoReplicasAvailable, apiRollout, `2x${MINUTES}`),
    dbUp("api", "api-1", h),
    dbUp(WORKER_SCRAPE_JOB, workerPod("import"), h),
    input(pgUp, {}, h),
    input(awsRdsReplicaLagMaximum, { dbinstance_identifier: "pp-replica" }, `5x${MINUTES}`),
    ...[awsBackupNumberOfBackupJobsFailedSum, awsBackupNumberOfBackupJobsAbortedSum, awsBackupNumberOfCopyJobsFailedSum].map((m) => input(m, { resource_type: "RDS" }, `0x${MINUTES}`)),
    // The newest pg_dump finished a minute ago, at every minute.
    input(kubeCronjobStatusLastSuccessfulTime, { namespace: ns, cronjob: WORKLOADS.backupCronJob }, `0+60x${MINUTES}`),
    ...JOB_TYPES.flatMap((t) => [
      input(kubeDeploymentSpecReplicas, { namespace: ns, deployment: workerDeployment(t) }, `2x${MINUTES}`),
      deploymentAvailable(t, `2x${MINUTES}`),
      workerUp(t, h),
      ready(t, `0x${MINUTES}`),
      consumers(t, `2x${MINUTES}`),
      input(jobsQueueDepth, { queue: workQueue(t), pod: "api-1" }, `0x${MINUTES}`),
      input(jobsOldestWaitingSeconds, { type: t, pod: "api-1" }, `0x${MINUTES}`),
    ]),
  ];
}

/** The healthy platform with some series replaced (same series name and labels) or removed (values null). */
function withFault(...changes: (Series | { series: string; values: null })[]): Series[] {
  const out = new Map(healthy().map((s) => [s.series, s.values]));
  for (const c of changes) {
    if (c.values === null) out.delete(c.series);
    else out.set(c.series, c.values);
  }
  return [...out].map(([series, values]) => ({ series, values }));
}
const removed = (s: Series) => ({ series: s.series, values: null });

interface Shape {
  readonly name: string;
  readonly input: Series[];
  readonly at: string;
  /** Critical alert names that fire at `at`. */
  readonly critical: readonly string[];
  /** The incidents they form. */
  readonly incidents: readonly string[];
}

const errors = (perMinute: number) => [
  input(httpRequestsTotal, { ...route, status_code: "200" }, `0+${600 - perMinute}x${MINUTES}`),
  input(httpRequestsTotal, { ...route, status_code: "500" }, `0+${perMinute}x${MINUTES}`),
];

const SHAPES: Shape[] = [
  { name: "a healthy platform", input: healthy(), at: "70m", critical: [], incidents: [] },
  {
    name: "6% HTTP 5xx at 10 requests/s",
    input: withFault(...errors(36)),
    at: "70m",
    critical: ["ApiAvailabilityErrorBudgetBurn", "ApiHighErrorRate", "ApiHttp500Burst"],
    incidents: [INCIDENTS.productService],
  },
  {
    // The error-ratio rule does not page; the SLO's fast burn (3% is 30x a 0.1% budget) and the burst of 500s do, as one incident.
    name: "3% HTTP 5xx at 10 requests/s",
    input: withFault(...errors(18)),
    at: "70m",
    critical: ["ApiAvailabilityErrorBudgetBurn", "ApiHttp500Burst"],
    incidents: [INCIDENTS.productService],
  },
  {
    name: "a quiet night: 10 requests an hour and one HTTP 500",
    input: withFault(
      input(httpRequestsTotal, { ...route, status_code: "200" }, `0+0.15x${MINUTES}`),
      input(httpRequestsTotal, { ...route, status_code: "500" }, `0x65 1x${MINUTES - 66}`),
      ...bucketInput(httpRequestDuration, route, "1", `0+0.15x${MINUTES}`),
      ...bucketInput(httpRequestDuration, route, "+Inf", `0+0.15x${MINUTES}`),
    ),
    at: "70m",
    critical: [],
    incidents: [],
  },
  {
    name: "the backup CronJob never succeeded (no last-successful-time series)",
    input: withFault(removed(input(kubeCronjobStatusLastSuccessfulTime, { namespace: ns, cronjob: WORKLOADS.backupCronJob }, ""))),
    at: "30m",
    critical: ["BackupTooOld"],
    incidents: [INCIDENTS.dataProtection],
  },
  {
    // Issue 17: every worker down for 15 minutes while the translation queue grows towards 100.
    name: "every worker down for 15 minutes while work waits",
    input: withFault(
      ...JOB_TYPES.flatMap((t) => [workerUp(t, after(5, "1", "0")), deploymentAvailable(t, after(5, "2", "0")), consumers(t, after(5, "2", "0"))]),
      removed(dbUp(WORKER_SCRAPE_JOB, workerPod("import"), "")),
      ready("translation", `0x4 0+6x${MINUTES - 5}`),
      input(jobsQueueDepth, { queue: workQueue("translation"), pod: "api-1" }, `0x4 0+6x${MINUTES - 5}`),
      input(jobsOldestWaitingSeconds, { type: "translation", pod: "api-1" }, `0x4 0+60x${MINUTES - 5}`),
    ),
    at: "20m",
    critical: ["JobQueueWithoutConsumers", "JobWorkersUnavailable"],
    incidents: [INCIDENTS.productService],
  },
  {
    // The database is gone: the processes say so, the API fails its requests and its pods and every
    // worker fail their readiness (no available replica), the public endpoint answers 503.
    name: "the database down, with the readiness failures and API errors that follow",
    input: withFault(
      input(pgUp, {}, after(5, "1", "0")),
      dbUp("api", "api-1", after(5, "1", "0")),
      dbUp(WORKER_SCRAPE_JOB, workerPod("import"), after(5, "1", "0")),
      input(httpRequestsTotal, { ...route, status_code: "200" }, `0+600x4 2400x${MINUTES - 4}`),
      input(httpRequestsTotal, { ...route, status_code: "503" }, `0x4 0+600x${MINUTES - 5}`),
      apiProbe(after(5, "1", "0")),
      input(rolloutInfoReplicasAvailable, apiRollout, after(5, "2", "0")),
      ...JOB_TYPES.map((t) => deploymentAvailable(t, after(5, "2", "0"))),
    ),
    at: "20m",
    critical: ["ApiAvailabilityErrorBudgetBurn", "ApiHighErrorRate", "ApiUnavailable", "DatabaseConnectionFailed", "FrontendDeploymentFailed", "JobWorkersUnavailable"],
    incidents: [INCIDENTS.productService],
  },
  {
    name: "the API target down and its external probe failing",
    input: withFault(
      apiUp("api-1", after(5, "1", "0")),
      apiUp("api-2", after(5, "1", "0")),
      apiProbe(after(5, "1", "0")),
      input(rolloutInfoReplicasAvailable, apiRollout, after(5, "2", "0")),
      // No scrape, no request series: they go stale.
      input(httpRequestsTotal, { ...route, status_code: "200" }, `0+600x4 _x${MINUTES - 4}`),
      input(httpRequestsTotal, { ...route, status_code: "500" }, `0x4 _x${MINUTES - 4}`),
    ),
    at: "20m",
    critical: ["ApiUnavailable", "FrontendDeploymentFailed"],
    incidents: [INCIDENTS.productService],
  },
];

const firing = (by: string) => `group by (${by}) (ALERTS{alertstate="firing", severity="critical"})`;

function promtoolFile() {
  return {
    rule_files: [PROMETHEUS_RULES_FILE],
    evaluation_interval: TEST_INTERVAL,
    tests: SHAPES.map((s) => ({
      name: s.name,
      interval: TEST_INTERVAL,
      input_series: s.input,
      promql_expr_test: [
        { expr: firing("alertname"), eval_time: s.at, exp_samples: s.critical.map((a) => ({ labels: `{alertname="${a}"}`, value: 1 })) },
        { expr: firing(INCIDENT_LABEL), eval_time: s.at, exp_samples: s.incidents.map((i) => ({ labels: `{${INCIDENT_LABEL}="${i}"}`, value: 1 })) },
      ],
    })),
  };
}

describe("fault shapes (prod rules, real promtool)", () => {
  it("every shape fires exactly its critical alerts, as at most one incident", { timeout: 120_000 }, async () => {
    for (const s of SHAPES) expect(s.incidents.length, s.name).toBeLessThanOrEqual(1);
    const dir = await tempDir("fault-shapes");
    await writeFiles(dir, { [PROMETHEUS_RULES_FILE]: stringify({ groups: ruleGroups(env) }), "fault-shapes.test.yaml": stringify(promtoolFile()) });
    const res = await run(PROMTOOL, ["test", "rules", join(dir, "fault-shapes.test.yaml")]);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toContain("SUCCESS");
  });
});
