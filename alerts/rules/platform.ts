/** Kubernetes and node alerts: a failed rollout of a user-facing deployment (page), resource causes (chat). */
import type { Environment } from "../../infra/environments.js";
import {
  kubeDeploymentSpecReplicas,
  kubeDeploymentStatusCondition,
  kubeDeploymentStatusReplicasAvailable,
  nodeCpuSecondsTotal,
  nodeFilesystemAvailBytes,
  nodeFilesystemSizeBytes,
  nodeMemoryMemAvailableBytes,
  nodeMemoryMemTotalBytes,
} from "../../services/metrics-exporters.js";
import type { AlertDefinition } from "../alert-def.js";
import { WORKLOADS, monitoringConfig } from "../config.js";
import { input, sel } from "../promql.js";
import { SEVERITY, TEAMS } from "../severity.js";
import { THRESHOLDS } from "../thresholds.js";
import { DASHBOARD_UIDS } from "../../dashboards/uids.js";

const T = THRESHOLDS;
/** Filesystems that are not real disks. */
const VIRTUAL_FS = 'fstype!~"tmpfs|overlay|squashfs|nsfs"';

export function platformAlerts(env: Environment): AlertDefinition[] {
  const ns = monitoringConfig(env).namespace;
  /** User-facing deployments: the frontend and the API it calls. */
  const userFacing = `namespace="${ns}", deployment=~"${WORKLOADS.frontend}|${WORKLOADS.api}"`;
  const by = "max by (namespace, deployment)";
  const dep = { namespace: ns, deployment: WORKLOADS.frontend } as const;
  const cpuIdle = (values: string) => input(nodeCpuSecondsTotal, { instance: "node-1", cpu: "0", mode: "idle" }, values);
  const fsLabels = { instance: "node-1", device: "/dev/nvme0n1p1", fstype: "ext4", mountpoint: "/" } as const;
  return [
    {
      name: "FrontendDeploymentFailed",
      expr:
        `(${by} (${sel(kubeDeploymentStatusCondition, `${userFacing}, condition="Progressing", status="false"`)}) == 1)` +
        ` or (${by} (${sel(kubeDeploymentSpecReplicas, userFacing)}) > 0 and ${by} (${sel(kubeDeploymentStatusReplicasAvailable, userFacing)}) == 0)`,
      for: "5m",
      severity: SEVERITY.critical,
      team: TEAMS.platform,
      summary: "A user-facing deployment failed to roll out or has no available replica.",
      description: "Deployment {{ $labels.namespace }}/{{ $labels.deployment }} exceeded its progress deadline or has no available replica.",
      dashboards: [DASHBOARD_UIDS.infrastructure, DASHBOARD_UIDS.api],
      examples: [
        {
          name: "progress deadline exceeded fires",
          at: "10m",
          input: [
            input(kubeDeploymentStatusCondition, { ...dep, condition: "Progressing", status: "false", reason: "ProgressDeadlineExceeded" }, "1x10"),
            input(kubeDeploymentSpecReplicas, dep, "2x10"),
            input(kubeDeploymentStatusReplicasAvailable, dep, "2x10"),
          ],
          fires: [{ labels: dep, description: `Deployment ${ns}/${WORKLOADS.frontend} exceeded its progress deadline or has no available replica.` }],
        },
        {
          name: "no available replica fires",
          at: "10m",
          input: [input(kubeDeploymentSpecReplicas, dep, "2x10"), input(kubeDeploymentStatusReplicasAvailable, dep, "0x10")],
          fires: [{ labels: dep, description: `Deployment ${ns}/${WORKLOADS.frontend} exceeded its progress deadline or has no available replica.` }],
        },
        {
          name: "a rollout in progress with one replica available stays silent",
          at: "10m",
          input: [
            input(kubeDeploymentStatusCondition, { ...dep, condition: "Progressing", status: "true", reason: "ReplicaSetUpdated" }, "1x10"),
            input(kubeDeploymentStatusCondition, { ...dep, condition: "Progressing", status: "false", reason: "ReplicaSetUpdated" }, "0x10"),
            input(kubeDeploymentSpecReplicas, dep, "2x10"),
            input(kubeDeploymentStatusReplicasAvailable, dep, "1x10"),
          ],
          fires: [],
        },
        {
          name: "a worker deployment is not user-facing",
          at: "10m",
          input: [input(kubeDeploymentSpecReplicas, { namespace: ns, deployment: WORKLOADS.worker }, "2x10"), input(kubeDeploymentStatusReplicasAvailable, { namespace: ns, deployment: WORKLOADS.worker }, "0x10")],
          fires: [],
        },
      ],
      runbook: {
        whatIsHappening: `The \`${WORKLOADS.frontend}\` or \`${WORKLOADS.api}\` Deployment reports Progressing=False (ProgressDeadlineExceeded), or it wants replicas but has none available, for 5 minutes.`,
        impact: "A release did not reach users, or the user-facing service is down.",
        queries: [
          { purpose: "Available vs desired replicas", promql: `${by} (${sel(kubeDeploymentStatusReplicasAvailable, userFacing)})` },
          { purpose: "Rollout conditions", promql: sel(kubeDeploymentStatusCondition, `${userFacing}, condition="Progressing"`) },
        ],
        commands: [
          { purpose: "Rollout state", command: `kubectl -n ${ns} rollout status deployment/${WORKLOADS.frontend} --timeout=10s` },
          { purpose: "Events of the new ReplicaSet's pods", command: `kubectl -n ${ns} describe pods -l app=${WORKLOADS.frontend} | tail -40` },
          { purpose: "Image pull or crash reasons", command: `kubectl -n ${ns} get pods -l app=${WORKLOADS.frontend} -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.status.containerStatuses[*].state}{"\\n"}{end}'` },
        ],
        mitigation: [`Roll back: kubectl -n ${ns} rollout undo deployment/<name> (procedures/rollback.md).`, "Fix the image/config and redeploy (procedures/deploy.md)."],
        escalation: "Platform on-call via PagerDuty; the author of the release joins.",
        procedures: ["rollback", "deploy"],
      },
    },
    {
      name: "NodeHighCpu",
      expr: `1 - avg by (instance) (rate(${sel(nodeCpuSecondsTotal, { mode: "idle" })}[5m])) > ${T.nodeCpuRatio}`,
      for: "15m",
      severity: SEVERITY.warning,
      team: TEAMS.platform,
      summary: "A node's CPU is more than 80% busy.",
      description: "CPU of node {{ $labels.instance }} is {{ $value | humanizePercentage }} busy.",
      dashboards: [DASHBOARD_UIDS.infrastructure],
      examples: [
        { name: "90% busy fires", at: "25m", input: [cpuIdle("0+6x30")], fires: [{ labels: { instance: "node-1" }, description: "CPU of node node-1 is 90% busy." }] },
        { name: "50% busy stays silent", at: "25m", input: [cpuIdle("0+30x30")], fires: [] },
      ],
      runbook: {
        whatIsHappening: `A node's CPU has been more than ${T.nodeCpuRatio * 100}% busy for 15 minutes.`,
        impact: "Pods on the node are slowed down or throttled; latency may rise. Not user-visible by itself.",
        queries: [{ purpose: "Busy ratio per node", promql: `1 - avg by (instance) (rate(${sel(nodeCpuSecondsTotal, { mode: "idle" })}[5m]))` }],
        commands: [
          { purpose: "Node usage", command: "kubectl top nodes" },
          { purpose: "Heaviest pods", command: "kubectl top pods -A --sort-by=cpu | head -15" },
        ],
        mitigation: ["Scale out the busy workload or the node group; check for a runaway pod (restart it)."],
        escalation: "Chat only; platform team in working hours.",
      },
    },
    {
      name: "NodeHighMemory",
      expr: `1 - (${sel(nodeMemoryMemAvailableBytes)} / ${sel(nodeMemoryMemTotalBytes)}) > ${T.nodeMemoryRatio}`,
      for: "5m",
      severity: SEVERITY.warning,
      team: TEAMS.platform,
      summary: "A node's memory is more than 90% used.",
      description: "Memory of node {{ $labels.instance }} is {{ $value | humanizePercentage }} used.",
      dashboards: [DASHBOARD_UIDS.infrastructure],
      examples: [
        {
          name: "95% used fires",
          at: "10m",
          input: [input(nodeMemoryMemAvailableBytes, { instance: "node-1" }, "500000000x10"), input(nodeMemoryMemTotalBytes, { instance: "node-1" }, "10000000000x10")],
          fires: [{ labels: { instance: "node-1" }, description: "Memory of node node-1 is 95% used." }],
        },
        {
          name: "50% used stays silent",
          at: "10m",
          input: [input(nodeMemoryMemAvailableBytes, { instance: "node-1" }, "5000000000x10"), input(nodeMemoryMemTotalBytes, { instance: "node-1" }, "10000000000x10")],
          fires: [],
        },
      ],
      runbook: {
        whatIsHappening: `Less than ${Math.round((1 - T.nodeMemoryRatio) * 100)}% of a node's memory is available for 5 minutes.`,
        impact: "The kernel may OOM-kill pods or the kubelet may evict them.",
        queries: [{ purpose: "Used ratio per node", promql: `1 - (${sel(nodeMemoryMemAvailableBytes)} / ${sel(nodeMemoryMemTotalBytes)})` }],
        commands: [
          { purpose: "Heaviest pods", command: "kubectl top pods -A --sort-by=memory | head -15" },
          { purpose: "Recent OOM kills", command: "kubectl get events -A --field-selector reason=OOMKilling" },
        ],
        mitigation: ["Set or lower memory limits of the offending workload; scale the node group."],
        escalation: "Chat only; platform team in working hours.",
      },
    },
    {
      name: "NodeDiskSpaceLow",
      expr: `1 - (${sel(nodeFilesystemAvailBytes, VIRTUAL_FS)} / ${sel(nodeFilesystemSizeBytes, VIRTUAL_FS)}) > ${T.diskUsedRatio}`,
      for: "10m",
      severity: SEVERITY.warning,
      team: TEAMS.platform,
      summary: "A filesystem is more than 85% full.",
      description: "Filesystem {{ $labels.mountpoint }} on {{ $labels.instance }} is {{ $value | humanizePercentage }} full.",
      dashboards: [DASHBOARD_UIDS.infrastructure],
      examples: [
        {
          name: "90% full fires",
          at: "15m",
          input: [input(nodeFilesystemAvailBytes, fsLabels, "10x15"), input(nodeFilesystemSizeBytes, fsLabels, "100x15")],
          fires: [{ labels: fsLabels, description: "Filesystem / on node-1 is 90% full." }],
        },
        {
          name: "a full tmpfs stays silent",
          at: "15m",
          input: [input(nodeFilesystemAvailBytes, { ...fsLabels, fstype: "tmpfs", mountpoint: "/run" }, "0x15"), input(nodeFilesystemSizeBytes, { ...fsLabels, fstype: "tmpfs", mountpoint: "/run" }, "100x15")],
          fires: [],
        },
        { name: "50% full stays silent", at: "15m", input: [input(nodeFilesystemAvailBytes, fsLabels, "50x15"), input(nodeFilesystemSizeBytes, fsLabels, "100x15")], fires: [] },
      ],
      runbook: {
        whatIsHappening: `A real (non-tmpfs) filesystem on a node is more than ${T.diskUsedRatio * 100}% full for 10 minutes.`,
        impact: "At 100% pods fail to write logs and images; the kubelet starts evicting pods at its own threshold.",
        queries: [{ purpose: "Used ratio per filesystem", promql: `1 - (${sel(nodeFilesystemAvailBytes, VIRTUAL_FS)} / ${sel(nodeFilesystemSizeBytes, VIRTUAL_FS)})` }],
        commands: [
          { purpose: "Disk pressure on nodes", command: "kubectl describe nodes | grep -A2 DiskPressure" },
          { purpose: "Largest directories (node shell)", command: "kubectl debug node/<node> -it --image=busybox -- du -xh /host/var/lib --max-depth=2 | sort -h | tail" },
        ],
        mitigation: ["Prune unused images (crictl rmi --prune on the node); grow the volume; find the pod writing large files."],
        escalation: "Chat only; platform team in working hours.",
      },
    },
  ];
}
