/**
 * The local cluster-state stand-in reports what kube-state-metrics, Argo Rollouts and the
 * CloudWatch exporter would: the replicas it is given, and the real runs of a LocalCronJob (a
 * command that exits 0 is a successful Job, one that exits 1 a failed Job kept in the history).
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ClusterStateExporter, FAILED_JOBS_HISTORY, type WorkloadReplicas } from "../../scripts/local/cluster-state.js";
import { LocalCronJob } from "../../scripts/local/local-cronjob.js";
import { kubeCronjobStatusLastSuccessfulTime, kubeDeploymentSpecReplicas, kubeDeploymentStatusReplicasAvailable, kubeJobStatusFailed, rolloutInfo } from "../../services/metrics-exporters.js";
import { tempDir } from "../monitoring/helpers.js";

const NS = "product-platform";

/** The value of the one series of `name` whose labels include `labels` (undefined when absent). */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.split(" ").at(-1));
  }
  return undefined;
}

describe("the local cluster state", () => {
  const closers: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of closers) await c();
  });

  it("reports replicas as given, and the CronJob's real runs: last success and failed Jobs", async () => {
    const dir = await tempDir("cluster-state-");
    // The command exits with the code the file holds.
    const outcome = join(dir, "outcome");
    const backup = new LocalCronJob({ name: "db-backup", command: ["node", "-e", `process.exit(Number(require("fs").readFileSync(${JSON.stringify(outcome)}, "utf8")))`], cwd: dir, env: { ...process.env }, intervalMs: 3_600_000, deadlineMs: 30_000, logDir: dir });
    const workers = new Map<string, WorkloadReplicas>([
      ["worker-translation", { desired: 1, available: 1 }],
      ["worker-push", { desired: 1, available: 0 }],
    ]);
    const exporter = await ClusterStateExporter.start(
      {
        namespace: NS,
        workerDeployments: async () => workers,
        apiRollout: async () => ({ name: "api", desired: 1, available: 0 }),
        cronJobs: () => new Map([["db-backup", { createdAt: backup.createdAt, runs: backup.jobs }]]),
      },
      0,
    );
    closers.push(() => exporter.close(), () => backup.stop());
    const scrape = async () => (await fetch(`http://${exporter.address}/metrics`)).text();

    let text = await scrape();
    expect(sample(text, kubeDeploymentSpecReplicas.name, { namespace: NS, deployment: "worker-push" })).toBe(1);
    expect(sample(text, kubeDeploymentStatusReplicasAvailable.name, { deployment: "worker-push" })).toBe(0);
    expect(sample(text, kubeDeploymentStatusReplicasAvailable.name, { deployment: "worker-translation" })).toBe(1);
    expect(sample(text, rolloutInfo.name, { name: "api", phase: "Progressing" })).toBe(1);
    expect(sample(text, kubeCronjobStatusLastSuccessfulTime.name, { cronjob: "db-backup" })).toBeUndefined();

    await writeFile(outcome, "0");
    const ok = await backup.runOnce();
    expect(ok.succeeded).toBe(true);
    text = await scrape();
    expect(sample(text, kubeCronjobStatusLastSuccessfulTime.name, { cronjob: "db-backup" })).toBeCloseTo(ok.finishedAt / 1000, 3);
    expect(sample(text, kubeJobStatusFailed.name, {})).toBeUndefined();

    await writeFile(outcome, "1");
    const failed = await backup.runOnce();
    expect(failed.succeeded).toBe(false);
    text = await scrape();
    expect(sample(text, kubeJobStatusFailed.name, { job_name: failed.jobName })).toBe(1);
    // The last success stays the successful run's.
    expect(sample(text, kubeCronjobStatusLastSuccessfulTime.name, { cronjob: "db-backup" })).toBeCloseTo(ok.finishedAt / 1000, 3);
    expect(FAILED_JOBS_HISTORY).toBeGreaterThan(0);
  });

  it("a run past its deadline is killed and fails", async () => {
    const dir = await tempDir("cluster-state-");
    const slow = new LocalCronJob({ name: "slow", command: ["node", "-e", "setTimeout(() => {}, 60000)"], cwd: dir, env: { ...process.env }, intervalMs: 3_600_000, deadlineMs: 500, logDir: dir });
    closers.push(() => slow.stop());
    const started = Date.now();
    const run = await slow.runOnce();
    expect(run.succeeded).toBe(false);
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
