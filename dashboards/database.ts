/** Database dashboard: query performance, connection pool, slow queries, replication lag, backups. */
import { PanelBuilder as TimeseriesBuilder } from "@grafana/grafana-foundation-sdk/timeseries";
import { PanelBuilder as TableBuilder } from "@grafana/grafana-foundation-sdk/table";
import { PanelBuilder as StatBuilder } from "@grafana/grafana-foundation-sdk/stat";
import { dbPoolConnections, dbQueryDuration, dependencyUp } from "../services/metrics.js";
import {
  awsBackupNumberOfBackupJobsCompletedSum,
  awsBackupNumberOfBackupJobsFailedSum,
  awsRdsFreeStorageSpaceMinimum,
  awsRdsReplicaLagMaximum,
  kubeCronjobStatusLastSuccessfulTime,
  pgReplicationLagSeconds,
  pgSettingsMaxConnections,
  pgStatActivityCount,
  pgStatStatementsCallsTotal,
  pgStatStatementsSecondsTotal,
  pgUp,
} from "../services/metrics-exporters.js";
import { bucket, count, sel } from "../alerts/promql.js";
import { WORKLOADS } from "../model/workloads.js";
import { THRESHOLDS } from "../alerts/thresholds.js";
import type { DashboardJson } from "./dashboard-json.js";
import { RATE, dashboard, panel } from "./panels.js";
import { DASHBOARD_UIDS } from "./uids.js";

const slowLe = String(THRESHOLDS.dbQueryP95Seconds);

export function databaseDashboard(): DashboardJson {
  return dashboard({
    uid: DASHBOARD_UIDS.database,
    title: "Product platform / Database",
    description: "PostgreSQL (RDS) as the application and the exporters see it: latency, connections, slow statements, replication, backups.",
    tags: ["product-platform", "database"],
    panels: [
      panel(new StatBuilder(), {
        title: "Database reachable",
        description: "1 when postgres_exporter can connect and every process reports postgres reachable.",
        unit: "bool_on_off",
        width: 6,
        height: 5,
        queries: [{ expr: `min(${sel(pgUp)}) * min(${sel(dependencyUp, { dependency: "postgres" })})`, instant: true }],
      }),
      panel(new StatBuilder(), {
        title: "Newest backup age",
        description: "Time since the pg_dump CronJob last succeeded. The RPO is one hour.",
        unit: "s",
        width: 6,
        height: 5,
        queries: [{ expr: `time() - max(${sel(kubeCronjobStatusLastSuccessfulTime, { cronjob: WORKLOADS.backupCronJob })})`, instant: true }],
      }),
      panel(new TimeseriesBuilder(), {
        title: "Query latency p50 / p95",
        description: "Query latency seen by the application, by model and operation.",
        unit: "s",
        queries: [
          { expr: `histogram_quantile(0.5, sum by (le) (rate(${bucket(dbQueryDuration)}[${RATE}])))`, legend: "p50" },
          { expr: `histogram_quantile(0.95, sum by (le, model, operation) (rate(${bucket(dbQueryDuration)}[${RATE}])))`, legend: "{{model}}.{{operation}} p95" },
        ],
      }),
      panel(new TimeseriesBuilder(), {
        title: "Queries per second",
        description: "Queries issued by the application per second, by operation.",
        unit: "ops",
        queries: [{ expr: `sum by (operation) (rate(${count(dbQueryDuration)}[${RATE}]))`, legend: "{{operation}}" }],
      }),
      panel(new TimeseriesBuilder(), {
        title: "Slow queries share",
        description: `Share of application queries slower than ${THRESHOLDS.dbQueryP95Seconds * 1000} ms, by model.`,
        unit: "percentunit",
        queries: [
          {
            expr: `1 - (sum by (model) (rate(${bucket(dbQueryDuration, { le: slowLe })}[${RATE}])) / sum by (model) (rate(${count(dbQueryDuration)}[${RATE}])))`,
            legend: "{{model}}",
          },
        ],
      }),
      panel(new TableBuilder(), {
        title: "Slowest statements",
        description: "Mean execution time per statement from pg_stat_statements (top 10 by mean time).",
        unit: "s",
        queries: [
          {
            expr: `topk(10, sum by (queryid) (rate(${sel(pgStatStatementsSecondsTotal)}[${RATE}])) / sum by (queryid) (rate(${sel(pgStatStatementsCallsTotal)}[${RATE}])))`,
            format: "table",
            instant: true,
          },
        ],
      }),
      panel(new TimeseriesBuilder(), {
        title: "Application connection pool",
        description: "Connections in the application pools, by state (total, idle, waiting). Waiting > 0 means the pool is too small.",
        unit: "short",
        queries: [{ expr: `sum by (state) (${sel(dbPoolConnections)})`, legend: "{{state}}" }],
      }),
      panel(new TimeseriesBuilder(), {
        title: "Server connections",
        description: "Server-side connections by state (postgres_exporter), against max_connections.",
        unit: "short",
        queries: [
          { expr: `sum by (state) (${sel(pgStatActivityCount)})`, legend: "{{state}}" },
          { expr: `max(${sel(pgSettingsMaxConnections)})`, legend: "max_connections" },
        ],
      }),
      panel(new TimeseriesBuilder(), {
        title: "Replication lag",
        description: "Replica lag from CloudWatch (RDS read replica) and from postgres_exporter on replicas. Above 60 s for 5 minutes pages.",
        unit: "s",
        queries: [
          { expr: `max by (dbinstance_identifier) (${sel(awsRdsReplicaLagMaximum)})`, legend: "{{dbinstance_identifier}}" },
          { expr: `max(${sel(pgReplicationLagSeconds)})`, legend: "postgres_exporter" },
        ],
      }),
      panel(new TimeseriesBuilder(), {
        title: "RDS free storage",
        description: "Minimum free storage of the RDS instance (CloudWatch).",
        unit: "bytes",
        queries: [{ expr: `min by (dbinstance_identifier) (${sel(awsRdsFreeStorageSpaceMinimum)})`, legend: "{{dbinstance_identifier}}" }],
      }),
      panel(new TimeseriesBuilder(), {
        title: "AWS Backup jobs",
        description: "Completed and failed AWS Backup jobs per hourly CloudWatch period, by resource type.",
        unit: "short",
        queries: [
          { expr: `sum by (resource_type) (${sel(awsBackupNumberOfBackupJobsCompletedSum)})`, legend: "{{resource_type}} completed" },
          { expr: `sum by (resource_type) (${sel(awsBackupNumberOfBackupJobsFailedSum)})`, legend: "{{resource_type}} failed" },
        ],
      }),
    ],
  });
}
