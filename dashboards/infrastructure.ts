/** Infrastructure dashboard: nodes (CPU, memory, disk, network) and containers. */
import { PanelBuilder as TimeseriesBuilder } from "@grafana/grafana-foundation-sdk/timeseries";
import {
  containerCpuCfsThrottledPeriodsTotal,
  containerCpuUsageSecondsTotal,
  containerMemoryWorkingSetBytes,
  containerNetworkReceiveBytesTotal,
  containerNetworkTransmitBytesTotal,
  kubeDeploymentSpecReplicas,
  kubeDeploymentStatusReplicasAvailable,
  kubePodContainerStatusRestartsTotal,
  nodeCpuSecondsTotal,
  nodeDiskIoTimeSecondsTotal,
  nodeDiskReadBytesTotal,
  nodeDiskWrittenBytesTotal,
  nodeFilesystemAvailBytes,
  nodeFilesystemSizeBytes,
  nodeMemoryMemAvailableBytes,
  nodeMemoryMemTotalBytes,
  nodeNetworkReceiveBytesTotal,
  nodeNetworkTransmitBytesTotal,
  probeSuccess,
  rolloutInfo,
  rolloutInfoReplicasAvailable,
  rolloutInfoReplicasDesired,
} from "../services/metrics-exporters.js";
import { sel } from "../alerts/promql.js";
import { BLACKBOX_JOB, PRODUCT_NAMESPACE, WORKLOADS } from "../model/workloads.js";
import type { MetricDef } from "../services/metric-def.js";
import type { DashboardJson } from "./dashboard-json.js";
import { RATE, dashboard, panel } from "./panels.js";
import { DASHBOARD_UIDS } from "./uids.js";

const REAL_FS = 'fstype!~"tmpfs|overlay|squashfs|nsfs"';
const NS = `namespace="${PRODUCT_NAMESPACE}"`;
const APP_CONTAINERS = `${NS}, container!="", container!="POD"`;
const apiRollout = { namespace: PRODUCT_NAMESPACE, name: WORKLOADS.api } as const;
const r = (m: MetricDef, matchers?: string) => `rate(${sel(m, matchers)}[${RATE}])`;

export function infrastructureDashboard(): DashboardJson {
  return dashboard({
    uid: DASHBOARD_UIDS.infrastructure,
    title: "Product platform / Infrastructure",
    description: "Kubernetes nodes and the product's containers: CPU, memory, disk, network, restarts and replicas.",
    tags: ["product-platform", "infrastructure"],
    panels: [
      panel(new TimeseriesBuilder().max(1), {
        title: "Node CPU busy",
        description: "Share of CPU time not idle, per node. NodeHighCpu warns above 80% for 15 minutes.",
        unit: "percentunit",
        queries: [{ expr: `1 - avg by (instance) (${r(nodeCpuSecondsTotal, 'mode="idle"')})`, legend: "{{instance}}" }],
      }),
      panel(new TimeseriesBuilder().max(1), {
        title: "Node memory used",
        description: "1 - MemAvailable / MemTotal per node. NodeHighMemory warns above 90%.",
        unit: "percentunit",
        queries: [{ expr: `1 - (${sel(nodeMemoryMemAvailableBytes)} / ${sel(nodeMemoryMemTotalBytes)})`, legend: "{{instance}}" }],
      }),
      panel(new TimeseriesBuilder().max(1), {
        title: "Filesystem used",
        description: "Used share of each real filesystem (tmpfs and overlays excluded). NodeDiskSpaceLow warns above 85%.",
        unit: "percentunit",
        queries: [{ expr: `1 - (${sel(nodeFilesystemAvailBytes, REAL_FS)} / ${sel(nodeFilesystemSizeBytes, REAL_FS)})`, legend: "{{instance}} {{mountpoint}}" }],
      }),
      panel(new TimeseriesBuilder(), {
        title: "Disk I/O",
        description: "Bytes read and written per second per node and device.",
        unit: "Bps",
        queries: [
          { expr: `sum by (instance, device) (${r(nodeDiskReadBytesTotal)})`, legend: "{{instance}} {{device}} read" },
          { expr: `sum by (instance, device) (${r(nodeDiskWrittenBytesTotal)})`, legend: "{{instance}} {{device}} write" },
        ],
      }),
      panel(new TimeseriesBuilder(), {
        title: "Disk busy time",
        description: "Share of time each device was busy with I/O (saturation).",
        unit: "percentunit",
        queries: [{ expr: `sum by (instance, device) (${r(nodeDiskIoTimeSecondsTotal)})`, legend: "{{instance}} {{device}}" }],
      }),
      panel(new TimeseriesBuilder(), {
        title: "Node network",
        description: "Bytes received and transmitted per second per node (loopback excluded).",
        unit: "Bps",
        queries: [
          { expr: `sum by (instance) (${r(nodeNetworkReceiveBytesTotal, 'device!="lo"')})`, legend: "{{instance}} rx" },
          { expr: `sum by (instance) (${r(nodeNetworkTransmitBytesTotal, 'device!="lo"')})`, legend: "{{instance}} tx" },
        ],
      }),
      panel(new TimeseriesBuilder(), {
        title: "Container CPU",
        description: "CPU cores used by each product container (cAdvisor).",
        unit: "short",
        queries: [{ expr: `sum by (pod, container) (${r(containerCpuUsageSecondsTotal, APP_CONTAINERS)})`, legend: "{{pod}}/{{container}}" }],
      }),
      panel(new TimeseriesBuilder(), {
        title: "Container memory",
        description: "Working-set memory of each product container, the figure the OOM killer acts on.",
        unit: "bytes",
        queries: [{ expr: `sum by (pod, container) (${sel(containerMemoryWorkingSetBytes, APP_CONTAINERS)})`, legend: "{{pod}}/{{container}}" }],
      }),
      panel(new TimeseriesBuilder(), {
        title: "Container CPU throttling",
        description: "Throttled CFS periods per second per product container: a sign that CPU limits are too low.",
        unit: "short",
        queries: [{ expr: `sum by (pod, container) (${r(containerCpuCfsThrottledPeriodsTotal, APP_CONTAINERS)})`, legend: "{{pod}}/{{container}}" }],
      }),
      panel(new TimeseriesBuilder(), {
        title: "Container network",
        description: "Bytes received and transmitted per second per product pod.",
        unit: "Bps",
        queries: [
          { expr: `sum by (pod) (${r(containerNetworkReceiveBytesTotal, NS)})`, legend: "{{pod}} rx" },
          { expr: `sum by (pod) (${r(containerNetworkTransmitBytesTotal, NS)})`, legend: "{{pod}} tx" },
        ],
      }),
      panel(new TimeseriesBuilder(), {
        title: "Container restarts",
        description: "Container restarts in each rate interval, per pod; repeated restarts mean a crash loop.",
        unit: "short",
        queries: [{ expr: `sum by (pod, container) (increase(${sel(kubePodContainerStatusRestartsTotal, NS)}[${RATE}]))`, legend: "{{pod}}/{{container}}" }],
      }),
      panel(new TimeseriesBuilder(), {
        title: "API rollout",
        description: "Available versus desired replicas of the API's Argo Rollout, and 1 while the Rollout is Degraded (canary aborted).",
        unit: "short",
        queries: [
          { expr: `max(${sel(rolloutInfoReplicasAvailable, { ...apiRollout })})`, legend: "available" },
          { expr: `max(${sel(rolloutInfoReplicasDesired, { ...apiRollout })})`, legend: "desired" },
          { expr: `max(${sel(rolloutInfo, { ...apiRollout, phase: "Degraded" })})`, legend: "degraded" },
        ],
      }),
      panel(new TimeseriesBuilder().max(1), {
        title: "External probes",
        description: "Blackbox probes of the public API health endpoint and the frontend: 1 is up, 0 is down.",
        unit: "bool_on_off",
        queries: [{ expr: `min by (instance) (${sel(probeSuccess, { job: BLACKBOX_JOB })})`, legend: "{{instance}}" }],
      }),
      panel(new TimeseriesBuilder(), {
        title: "Worker deployment replicas",
        description: "Available versus desired replicas per worker Deployment (one per job type, scaled by KEDA).",
        unit: "short",
        queries: [
          { expr: `max by (deployment) (${sel(kubeDeploymentStatusReplicasAvailable, NS)})`, legend: "{{deployment}} available" },
          { expr: `max by (deployment) (${sel(kubeDeploymentSpecReplicas, NS)})`, legend: "{{deployment}} desired" },
        ],
      }),
    ],
  });
}
