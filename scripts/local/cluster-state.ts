/**
 * The local stand-in for what production's cluster and AWS account report about themselves, and
 * which no process on this machine can report: kube-state-metrics (the worker Deployments, the
 * backup and restore-drill CronJobs and their Jobs), the Argo Rollouts controller (the API's
 * Rollout) and the CloudWatch exporter (AWS Backup's job outcomes). Several production rules
 * rightly fire when those inputs go missing (alerts/README.md "missing inputs"), so without them
 * the local chain would page from the first minute.
 *
 * Every value but AWS Backup's comes from real local state, read at scrape time:
 * - a worker Deployment's desired replicas are 1 while the local process serving its job type is
 *   meant to run and 0 once it was stopped on purpose (SIGTERM: scaled to zero); its available
 *   replicas are 1 only while that process runs and its /readyz answers 200, as a pod counts as
 *   available only while ready. A process killed with SIGKILL stays desired and unavailable.
 * - the API's Rollout: the same for the API process; its phase is Healthy when every desired
 *   replica is available and Progressing otherwise.
 * - the db-backup CronJob: LocalPlatform runs the real backup command (OPS_COMMANDS.dbBackup,
 *   `ops/db-backup.ts --out`) on production's schedule divided by the profile's factor; each run is
 *   a Job `db-backup-<n>`, its outcome is the command's exit status, and the last successful
 *   time is when the last run that exited 0 finished.
 * - the restore-drill CronJob exists from the start (its monthly run, even scaled, is hours away).
 * - AWS Backup does not run here: its four outcome counts are 0 for RDS, which is what a healthy
 *   account reports (BackupFailed then watches the CronJob's Jobs, which are real).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { MetricsRegistry } from "../../services/metrics-registry.js";
import {
  awsBackupNumberOfBackupJobsAbortedSum,
  awsBackupNumberOfBackupJobsCompletedSum,
  awsBackupNumberOfBackupJobsFailedSum,
  awsBackupNumberOfCopyJobsFailedSum,
  kubeCronjobCreated,
  kubeCronjobStatusLastSuccessfulTime,
  kubeDeploymentSpecReplicas,
  kubeDeploymentStatusReplicasAvailable,
  kubeJobOwner,
  kubeJobStatusFailed,
  rolloutInfo,
  rolloutInfoReplicasAvailable,
  rolloutInfoReplicasDesired,
} from "../../services/metrics-exporters.js";

/** One local process as a Kubernetes workload sees it. */
export interface WorkloadReplicas {
  readonly desired: number;
  readonly available: number;
}

/** One run of a CronJob: its Job's name, when it finished and whether it succeeded. */
export interface CronJobRun {
  readonly jobName: string;
  readonly finishedAt: number;
  readonly succeeded: boolean;
}

/** What the stand-in reads at every scrape. */
export interface ClusterStateSource {
  readonly namespace: string;
  /** The worker Deployments (workerDeployment(type)), each with the replicas of the process serving that type. */
  workerDeployments(): Promise<ReadonlyMap<string, WorkloadReplicas>>;
  /** The API's Rollout: its name and replicas. */
  apiRollout(): Promise<{ readonly name: string } & WorkloadReplicas>;
  /** Each CronJob by name: when it was created and its runs so far (the failed ones stay, as failedJobsHistoryLimit keeps them). */
  cronJobs(): ReadonlyMap<string, { readonly createdAt: number; readonly runs: readonly CronJobRun[] }>;
}

/** The history kube keeps of a CronJob's failed Jobs (infra's failedJobsHistoryLimit). */
export const FAILED_JOBS_HISTORY = 3;

export function clusterStateMetrics(source: ClusterStateSource): MetricsRegistry {
  const m = new MetricsRegistry();
  const ns = source.namespace;
  m.gauge(kubeDeploymentSpecReplicas, async (g) => {
    g.reset();
    for (const [deployment, r] of await source.workerDeployments()) g.set({ namespace: ns, deployment }, r.desired);
  });
  m.gauge(kubeDeploymentStatusReplicasAvailable, async (g) => {
    g.reset();
    for (const [deployment, r] of await source.workerDeployments()) g.set({ namespace: ns, deployment }, r.available);
  });
  m.gauge(rolloutInfo, async (g) => {
    g.reset();
    const r = await source.apiRollout();
    g.set({ namespace: ns, name: r.name, strategy: "canary", phase: r.available >= r.desired ? "Healthy" : "Progressing" }, 1);
  });
  m.gauge(rolloutInfoReplicasDesired, async (g) => {
    g.reset();
    const r = await source.apiRollout();
    g.set({ namespace: ns, name: r.name }, r.desired);
  });
  m.gauge(rolloutInfoReplicasAvailable, async (g) => {
    g.reset();
    const r = await source.apiRollout();
    g.set({ namespace: ns, name: r.name }, r.available);
  });
  m.gauge(kubeCronjobCreated, (g) => {
    g.reset();
    for (const [cronjob, c] of source.cronJobs()) g.set({ namespace: ns, cronjob }, c.createdAt / 1000);
  });
  m.gauge(kubeCronjobStatusLastSuccessfulTime, (g) => {
    g.reset();
    for (const [cronjob, c] of source.cronJobs()) {
      const last = c.runs.filter((r) => r.succeeded).at(-1);
      if (last) g.set({ namespace: ns, cronjob }, last.finishedAt / 1000);
    }
  });
  const failedJobs = () => [...source.cronJobs()].flatMap(([cronjob, c]) => c.runs.filter((r) => !r.succeeded).slice(-FAILED_JOBS_HISTORY).map((r) => ({ cronjob, run: r })));
  m.gauge(kubeJobStatusFailed, (g) => {
    g.reset();
    for (const { run } of failedJobs()) g.set({ namespace: ns, job_name: run.jobName, reason: "BackoffLimitExceeded" }, 1);
  });
  m.gauge(kubeJobOwner, (g) => {
    g.reset();
    for (const [cronjob, c] of source.cronJobs()) {
      const kept = [...c.runs.filter((r) => r.succeeded).slice(-3), ...c.runs.filter((r) => !r.succeeded).slice(-FAILED_JOBS_HISTORY)];
      for (const r of kept) g.set({ namespace: ns, job_name: r.jobName, owner_kind: "CronJob", owner_name: cronjob, owner_is_controller: "true" }, 1);
    }
  });
  for (const def of [awsBackupNumberOfBackupJobsFailedSum, awsBackupNumberOfBackupJobsAbortedSum, awsBackupNumberOfCopyJobsFailedSum, awsBackupNumberOfBackupJobsCompletedSum]) {
    m.gauge(def).set({ resource_type: "RDS" }, 0);
  }
  return m;
}

/** Serves clusterStateMetrics(source) on /metrics. */
export class ClusterStateExporter {
  private constructor(
    private readonly server: Server,
    readonly address: string,
  ) {}

  static async start(source: ClusterStateSource, port: number, host = "127.0.0.1"): Promise<ClusterStateExporter> {
    const metrics = clusterStateMetrics(source);
    const server = createServer((req, res) => {
      if (req.url !== "/metrics") {
        res.writeHead(404).end();
        return;
      }
      metrics.expose().then(
        ({ contentType, body }) => res.writeHead(200, { "content-type": contentType }).end(body),
        (err: unknown) => res.writeHead(500, { "content-type": "text/plain" }).end(String(err)),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
    return new ClusterStateExporter(server, `${host}:${(server.address() as AddressInfo).port}`);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
