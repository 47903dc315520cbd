/**
 * Metrics exposed by the exporters the platform runs, declared with their real names and labels
 * (the labels the exporter itself sets; Prometheus adds job/instance, and the Kubernetes
 * service discovery adds namespace/pod where noted). Dashboards and alert rules import these
 * objects exactly like the application catalog in services/metrics.ts.
 */
import { defineMetric } from "./metric-def.js";
import { cloudwatchLabelName, cloudwatchPrometheusName } from "../model/cloudwatch.js";
import { FRONTEND_DEPLOY_SIGNAL } from "../model/delivery.js";

// ------------------------------------------------------------------- Prometheus itself
/** 1 when the last scrape of the target succeeded. */
export const up = defineMetric({
  name: "up",
  help: "1 if the target was scraped successfully, 0 otherwise (synthesised by Prometheus).",
  type: "gauge",
  labelNames: ["job", "instance", "namespace", "pod"],
  source: "prometheus",
});

// ------------------------------------------------------------------- blackbox-exporter
export const probeSuccess = defineMetric({
  name: "probe_success",
  help: "1 if the blackbox probe succeeded (job/instance identify the module and the probed URL).",
  type: "gauge",
  labelNames: ["job", "instance"],
  source: "blackbox-exporter",
});
export const probeDurationSeconds = defineMetric({
  name: "probe_duration_seconds",
  help: "How long the blackbox probe took, in seconds.",
  type: "gauge",
  labelNames: ["job", "instance"],
  source: "blackbox-exporter",
});

// ------------------------------------------------------------------- kube-state-metrics
export const kubeDeploymentStatusReplicasAvailable = defineMetric({
  name: "kube_deployment_status_replicas_available",
  help: "The number of available replicas per deployment.",
  type: "gauge",
  labelNames: ["namespace", "deployment"],
  source: "kube-state-metrics",
});
export const kubeDeploymentSpecReplicas = defineMetric({
  name: "kube_deployment_spec_replicas",
  help: "Number of desired pods for a deployment.",
  type: "gauge",
  labelNames: ["namespace", "deployment"],
  source: "kube-state-metrics",
});
export const kubeDeploymentStatusCondition = defineMetric({
  name: "kube_deployment_status_condition",
  help: "The current status conditions of a deployment (1 for the active condition/status pair).",
  type: "gauge",
  labelNames: ["namespace", "deployment", "condition", "status", "reason"],
  source: "kube-state-metrics",
});
export const kubeDeploymentStatusObservedGeneration = defineMetric({
  name: "kube_deployment_status_observed_generation",
  help: "The generation observed by the deployment controller.",
  type: "gauge",
  labelNames: ["namespace", "deployment"],
  source: "kube-state-metrics",
});
export const kubeDeploymentMetadataGeneration = defineMetric({
  name: "kube_deployment_metadata_generation",
  help: "Sequence number representing a specific generation of the desired state.",
  type: "gauge",
  labelNames: ["namespace", "deployment"],
  source: "kube-state-metrics",
});
export const kubePodContainerStatusRestartsTotal = defineMetric({
  name: "kube_pod_container_status_restarts_total",
  help: "The number of container restarts per container.",
  type: "counter",
  labelNames: ["namespace", "pod", "container"],
  source: "kube-state-metrics",
});
export const kubePodContainerResourceLimits = defineMetric({
  name: "kube_pod_container_resource_limits",
  help: "The number of requested limit resource by a container (resource=cpu in cores, memory in bytes).",
  type: "gauge",
  labelNames: ["namespace", "pod", "container", "node", "resource", "unit"],
  source: "kube-state-metrics",
});
export const kubePodStatusPhase = defineMetric({
  name: "kube_pod_status_phase",
  help: "The pods current phase.",
  type: "gauge",
  labelNames: ["namespace", "pod", "phase"],
  source: "kube-state-metrics",
});
export const kubeCronjobCreated = defineMetric({
  name: "kube_cronjob_created",
  help: "Unix creation timestamp of the CronJob (present for as long as the CronJob exists).",
  type: "gauge",
  labelNames: ["namespace", "cronjob"],
  source: "kube-state-metrics",
});
export const kubeCronjobStatusLastSuccessfulTime = defineMetric({
  name: "kube_cronjob_status_last_successful_time",
  help: "LastSuccessfulTime keeps information of when was the last time the cron job successfully completed (unix seconds).",
  type: "gauge",
  labelNames: ["namespace", "cronjob"],
  source: "kube-state-metrics",
});
export const kubeJobStatusFailed = defineMetric({
  name: "kube_job_status_failed",
  help: "The number of pods which reached Phase Failed and the reason for failure.",
  type: "gauge",
  labelNames: ["namespace", "job_name", "reason"],
  source: "kube-state-metrics",
});
export const kubeJobOwner = defineMetric({
  name: "kube_job_owner",
  help: "Information about the Job's owner (owner_kind=CronJob, owner_name=<cronjob>).",
  type: "gauge",
  labelNames: ["namespace", "job_name", "owner_kind", "owner_name", "owner_is_controller"],
  source: "kube-state-metrics",
});

// ------------------------------------------------------------------- Argo Rollouts controller (the API is a canary Rollout)
// MetricSource (services/metric-def.ts, not ours) has no "argo-rollouts" value: these are
// controller metrics describing Kubernetes objects, the closest source being kube-state-metrics.
export const rolloutInfo = defineMetric({
  name: "rollout_info",
  help: "Information about a Rollout; 1 for its current phase (Healthy, Progressing, Paused, Degraded).",
  type: "gauge",
  labelNames: ["namespace", "name", "strategy", "phase"],
  source: "kube-state-metrics",
});
export const rolloutInfoReplicasAvailable = defineMetric({
  name: "rollout_info_replicas_available",
  help: "The number of available replicas per Rollout.",
  type: "gauge",
  labelNames: ["namespace", "name"],
  source: "kube-state-metrics",
});
export const rolloutInfoReplicasDesired = defineMetric({
  name: "rollout_info_replicas_desired",
  help: "The number of desired replicas per Rollout.",
  type: "gauge",
  labelNames: ["namespace", "name"],
  source: "kube-state-metrics",
});

// ------------------------------------------------------------------- node-exporter
export const nodeCpuSecondsTotal = defineMetric({
  name: "node_cpu_seconds_total",
  help: "Seconds the CPUs spent in each mode.",
  type: "counter",
  labelNames: ["instance", "cpu", "mode"],
  source: "node-exporter",
});
export const nodeMemoryMemAvailableBytes = defineMetric({
  name: "node_memory_MemAvailable_bytes",
  help: "Memory information field MemAvailable_bytes.",
  type: "gauge",
  labelNames: ["instance"],
  source: "node-exporter",
});
export const nodeMemoryMemTotalBytes = defineMetric({
  name: "node_memory_MemTotal_bytes",
  help: "Memory information field MemTotal_bytes.",
  type: "gauge",
  labelNames: ["instance"],
  source: "node-exporter",
});
export const nodeFilesystemAvailBytes = defineMetric({
  name: "node_filesystem_avail_bytes",
  help: "Filesystem space available to non-root users in bytes.",
  type: "gauge",
  labelNames: ["instance", "device", "fstype", "mountpoint"],
  source: "node-exporter",
});
export const nodeFilesystemSizeBytes = defineMetric({
  name: "node_filesystem_size_bytes",
  help: "Filesystem size in bytes.",
  type: "gauge",
  labelNames: ["instance", "device", "fstype", "mountpoint"],
  source: "node-exporter",
});
export const nodeDiskReadBytesTotal = defineMetric({
  name: "node_disk_read_bytes_total",
  help: "The total number of bytes read successfully.",
  type: "counter",
  labelNames: ["instance", "device"],
  source: "node-exporter",
});
export const nodeDiskWrittenBytesTotal = defineMetric({
  name: "node_disk_written_bytes_total",
  help: "The total number of bytes written successfully.",
  type: "counter",
  labelNames: ["instance", "device"],
  source: "node-exporter",
});
export const nodeDiskIoTimeSecondsTotal = defineMetric({
  name: "node_disk_io_time_seconds_total",
  help: "Total seconds spent doing I/Os.",
  type: "counter",
  labelNames: ["instance", "device"],
  source: "node-exporter",
});
export const nodeNetworkReceiveBytesTotal = defineMetric({
  name: "node_network_receive_bytes_total",
  help: "Network device statistic receive_bytes.",
  type: "counter",
  labelNames: ["instance", "device"],
  source: "node-exporter",
});
export const nodeNetworkTransmitBytesTotal = defineMetric({
  name: "node_network_transmit_bytes_total",
  help: "Network device statistic transmit_bytes.",
  type: "counter",
  labelNames: ["instance", "device"],
  source: "node-exporter",
});

// ------------------------------------------------------------------- cAdvisor (kubelet)
export const containerCpuUsageSecondsTotal = defineMetric({
  name: "container_cpu_usage_seconds_total",
  help: "Cumulative cpu time consumed in seconds.",
  type: "counter",
  labelNames: ["namespace", "pod", "container", "node"],
  source: "cadvisor",
});
export const containerMemoryWorkingSetBytes = defineMetric({
  name: "container_memory_working_set_bytes",
  help: "Current working set in bytes.",
  type: "gauge",
  labelNames: ["namespace", "pod", "container", "node"],
  source: "cadvisor",
});
export const containerNetworkReceiveBytesTotal = defineMetric({
  name: "container_network_receive_bytes_total",
  help: "Cumulative count of bytes received.",
  type: "counter",
  labelNames: ["namespace", "pod", "interface"],
  source: "cadvisor",
});
export const containerNetworkTransmitBytesTotal = defineMetric({
  name: "container_network_transmit_bytes_total",
  help: "Cumulative count of bytes transmitted.",
  type: "counter",
  labelNames: ["namespace", "pod", "interface"],
  source: "cadvisor",
});
export const containerCpuCfsThrottledPeriodsTotal = defineMetric({
  name: "container_cpu_cfs_throttled_periods_total",
  help: "Number of throttled period intervals.",
  type: "counter",
  labelNames: ["namespace", "pod", "container"],
  source: "cadvisor",
});

// ------------------------------------------------------------------- RabbitMQ
// Amazon MQ does not expose the rabbitmq_prometheus plugin, so infra scrapes the management API
// with kbudde/rabbitmq_exporter (infra/monitoring.ts). Its queue metrics carry vhost and queue
// labels; ready and consumers have the same names as the built-in plugin's per-object metrics,
// unacknowledged is spelled out (the plugin says `_unacked`).
export const rabbitmqQueueMessagesReady = defineMetric({
  name: "rabbitmq_queue_messages_ready",
  help: "Messages ready to be delivered to consumers, by vhost and queue.",
  type: "gauge",
  labelNames: ["vhost", "queue"],
  source: "rabbitmq",
});
export const rabbitmqQueueMessagesUnacknowledged = defineMetric({
  name: "rabbitmq_queue_messages_unacknowledged",
  help: "Messages delivered to consumers but not yet acknowledged.",
  type: "gauge",
  labelNames: ["vhost", "queue"],
  source: "rabbitmq",
});
export const rabbitmqQueueConsumers = defineMetric({
  name: "rabbitmq_queue_consumers",
  help: "Consumers on a queue.",
  type: "gauge",
  labelNames: ["vhost", "queue"],
  source: "rabbitmq",
});

// ------------------------------------------------------------------- postgres_exporter
export const pgUp = defineMetric({
  name: "pg_up",
  help: "Whether the last scrape of metrics from PostgreSQL was able to connect to the server (1 for yes, 0 for no).",
  type: "gauge",
  labelNames: [],
  source: "postgres-exporter",
});
export const pgStatActivityCount = defineMetric({
  name: "pg_stat_activity_count",
  help: "Number of connections in this state.",
  type: "gauge",
  labelNames: ["datname", "state", "usename", "application_name"],
  source: "postgres-exporter",
});
export const pgStatActivityMaxTxDuration = defineMetric({
  name: "pg_stat_activity_max_tx_duration",
  help: "Max duration in seconds any active transaction has been running.",
  type: "gauge",
  labelNames: ["datname", "state", "usename", "application_name"],
  source: "postgres-exporter",
});
export const pgSettingsMaxConnections = defineMetric({
  name: "pg_settings_max_connections",
  help: "Server Parameter: max_connections.",
  type: "gauge",
  labelNames: [],
  source: "postgres-exporter",
});
export const pgStatStatementsCallsTotal = defineMetric({
  name: "pg_stat_statements_calls_total",
  help: "Number of times executed (stat_statements collector).",
  type: "counter",
  labelNames: ["user", "datname", "queryid"],
  source: "postgres-exporter",
});
export const pgStatStatementsSecondsTotal = defineMetric({
  name: "pg_stat_statements_seconds_total",
  help: "Total time spent in the statement, in seconds (stat_statements collector).",
  type: "counter",
  labelNames: ["user", "datname", "queryid"],
  source: "postgres-exporter",
});
export const pgReplicationLagSeconds = defineMetric({
  name: "pg_replication_lag_seconds",
  help: "Replication lag behind master in seconds (on a replica).",
  type: "gauge",
  labelNames: [],
  source: "postgres-exporter",
});
export const pgReplicationIsReplica = defineMetric({
  name: "pg_replication_is_replica",
  help: "Indicates if the server is a replica.",
  type: "gauge",
  labelNames: [],
  source: "postgres-exporter",
});

// ------------------------------------------------------------------- CloudWatch exporter (AWS/RDS, AWS/Backup, ProductPlatform/Delivery)
// Names follow prometheus/cloudwatch_exporter: aws_<namespace>_<metric>_<statistic>, snake case;
// dimensions become labels. The statistics are the ones infra's exporter config requests
// (infra/cluster/monitoring.ts cloudwatchExporterConfig): ReplicaLag Maximum, FreeStorageSpace Minimum,
// AWS Backup job counts Sum by ResourceType, the frontend deployments' outcome Maximum by
// Environment. New names are derived with model/cloudwatch.ts, as the exporter builds them.
export const awsRdsReplicaLagMaximum = defineMetric({
  name: "aws_rds_replica_lag_maximum",
  help: "CloudWatch AWS/RDS ReplicaLag, Maximum, in seconds (-1 when replication is not active).",
  type: "gauge",
  labelNames: ["dbinstance_identifier"],
  source: "cloudwatch-exporter",
});
export const awsRdsFreeStorageSpaceMinimum = defineMetric({
  name: "aws_rds_free_storage_space_minimum",
  help: "CloudWatch AWS/RDS FreeStorageSpace, Minimum, in bytes.",
  type: "gauge",
  labelNames: ["dbinstance_identifier"],
  source: "cloudwatch-exporter",
});
export const awsBackupNumberOfBackupJobsFailedSum = defineMetric({
  name: "aws_backup_number_of_backup_jobs_failed_sum",
  help: "CloudWatch AWS/Backup NumberOfBackupJobsFailed, Sum over the period, by resource type.",
  type: "gauge",
  labelNames: ["resource_type"],
  source: "cloudwatch-exporter",
});
export const awsBackupNumberOfBackupJobsAbortedSum = defineMetric({
  name: "aws_backup_number_of_backup_jobs_aborted_sum",
  help: "CloudWatch AWS/Backup NumberOfBackupJobsAborted, Sum over the period, by resource type.",
  type: "gauge",
  labelNames: ["resource_type"],
  source: "cloudwatch-exporter",
});
export const awsBackupNumberOfCopyJobsFailedSum = defineMetric({
  name: "aws_backup_number_of_copy_jobs_failed_sum",
  help: "CloudWatch AWS/Backup NumberOfCopyJobsFailed (copies to the second region), Sum over the period.",
  type: "gauge",
  labelNames: ["resource_type"],
  source: "cloudwatch-exporter",
});
export const awsBackupNumberOfBackupJobsCompletedSum = defineMetric({
  name: "aws_backup_number_of_backup_jobs_completed_sum",
  help: "CloudWatch AWS/Backup NumberOfBackupJobsCompleted, Sum over the period, by resource type.",
  type: "gauge",
  labelNames: ["resource_type"],
  source: "cloudwatch-exporter",
});
/**
 * The outcome of the environment's last frontend deployment (deploy-frontend.yml writes it, the
 * exporter reads it per cloudwatchExporterConfig): 1 failed or cancelled, 0 succeeded.
 */
export const frontendDeploymentFailedMaximum = defineMetric({
  name: cloudwatchPrometheusName(FRONTEND_DEPLOY_SIGNAL.namespace, FRONTEND_DEPLOY_SIGNAL.metricName, FRONTEND_DEPLOY_SIGNAL.statistic),
  help: `CloudWatch ${FRONTEND_DEPLOY_SIGNAL.namespace} ${FRONTEND_DEPLOY_SIGNAL.metricName}, Maximum per minute, the newest datapoint: ${FRONTEND_DEPLOY_SIGNAL.failed} when the last frontend deployment failed, ${FRONTEND_DEPLOY_SIGNAL.succeeded} when it succeeded.`,
  type: "gauge",
  labelNames: [cloudwatchLabelName(FRONTEND_DEPLOY_SIGNAL.dimension)],
  source: "cloudwatch-exporter",
});

/** Every exporter metric, for the catalog tests (a query may only name a declared metric). */
export const EXPORTER_METRICS = [
  up,
  probeSuccess,
  probeDurationSeconds,
  kubeDeploymentStatusReplicasAvailable,
  kubeDeploymentSpecReplicas,
  kubeDeploymentStatusCondition,
  kubeDeploymentStatusObservedGeneration,
  kubeDeploymentMetadataGeneration,
  kubePodContainerStatusRestartsTotal,
  kubePodContainerResourceLimits,
  kubePodStatusPhase,
  kubeCronjobCreated,
  kubeCronjobStatusLastSuccessfulTime,
  kubeJobStatusFailed,
  kubeJobOwner,
  rolloutInfo,
  rolloutInfoReplicasAvailable,
  rolloutInfoReplicasDesired,
  nodeCpuSecondsTotal,
  nodeMemoryMemAvailableBytes,
  nodeMemoryMemTotalBytes,
  nodeFilesystemAvailBytes,
  nodeFilesystemSizeBytes,
  nodeDiskReadBytesTotal,
  nodeDiskWrittenBytesTotal,
  nodeDiskIoTimeSecondsTotal,
  nodeNetworkReceiveBytesTotal,
  nodeNetworkTransmitBytesTotal,
  containerCpuUsageSecondsTotal,
  containerMemoryWorkingSetBytes,
  containerNetworkReceiveBytesTotal,
  containerNetworkTransmitBytesTotal,
  containerCpuCfsThrottledPeriodsTotal,
  rabbitmqQueueMessagesReady,
  rabbitmqQueueMessagesUnacknowledged,
  rabbitmqQueueConsumers,
  pgUp,
  pgStatActivityCount,
  pgStatActivityMaxTxDuration,
  pgSettingsMaxConnections,
  pgStatStatementsCallsTotal,
  pgStatStatementsSecondsTotal,
  pgReplicationLagSeconds,
  pgReplicationIsReplica,
  awsRdsReplicaLagMaximum,
  awsRdsFreeStorageSpaceMinimum,
  awsBackupNumberOfBackupJobsFailedSum,
  awsBackupNumberOfBackupJobsAbortedSum,
  awsBackupNumberOfCopyJobsFailedSum,
  awsBackupNumberOfBackupJobsCompletedSum,
  frontendDeploymentFailedMaximum,
] as const;
