/** Database symptoms: connectivity, replication, slow queries. */
import type { EnvironmentModel } from "../../model/environments.js";
import { dbQueryDuration, dependencyUp } from "../../services/metrics.js";
import { awsRdsReplicaLagMaximum, pgStatActivityCount, pgSettingsMaxConnections, pgUp } from "../../services/metrics-exporters.js";
import type { AlertDefinition } from "../alert-def.js";

import { MISSING_LABEL, bucket, bucketInput, input, missing, sel } from "../promql.js";
import { INCIDENTS } from "../incidents.js";
import { SEVERITY, TEAMS } from "../severity.js";
import { THRESHOLDS } from "../thresholds.js";
import { DASHBOARD_UIDS } from "../../dashboards/uids.js";

const T = THRESHOLDS;
/** Client-side p95 query latency; the alert and its runbook query share it. */
const dbQueryP95 = `histogram_quantile(0.95, sum by (le, model, operation) (rate(${bucket(dbQueryDuration)}[5m])))`;

export function databaseAlerts(env: EnvironmentModel): AlertDefinition[] {
  const ns = env.namespace;
  const lag = `max by (dbinstance_identifier) (${sel(awsRdsReplicaLagMaximum)})`;
  const q = { model: "Product", operation: "findMany" } as const;
  const W = T.missingInputWindow;
  /** Only an environment with a read replica has a lag to report (infra configures the exporter for it). */
  const hasReplica = env.config.rds.readReplica;
  const lagDescription = "Replica {{ $labels.dbinstance_identifier }} reports a replica lag of {{ $value | humanizeDuration }} (a negative lag means replication is not running).";
  const lagMissingDescription = `No replica lag has been reported for ${W}: the CloudWatch exporter is down or the read replica is gone, so a stopped replication would go unseen.`;
  return [
    {
      name: "DatabaseConnectionFailed",
      expr: `(min by (job) (${sel(dependencyUp, { dependency: "postgres" })}) == 0) or (max(${sel(pgUp)}) == 0)`,
      for: "2m",
      severity: SEVERITY.critical,
      team: TEAMS.platform,
      incident: INCIDENTS.productService,
      missingInput: {
        kind: "covered",
        by: "ApiUnavailable",
        decision: `Two independent inputs: without \`${pgUp.name}\` (postgres_exporter down) the processes' own \`${dependencyUp.name}\` still fires it; \`${dependencyUp.name}\` disappears only with the API and worker processes themselves, and then ApiUnavailable (and JobWorkersUnavailable) fire.`,
      },
      summary: "The database cannot be reached.",
      description: "{{ if $labels.job }}Processes of job {{ $labels.job }} cannot reach PostgreSQL.{{ else }}postgres_exporter cannot connect to PostgreSQL.{{ end }}",
      dashboards: [DASHBOARD_UIDS.database],
      examples: [
        {
          name: "an API process loses postgres",
          at: "5m",
          input: [input(dependencyUp, { dependency: "postgres", job: "api", pod: "api-1" }, "0x6"), input(dependencyUp, { dependency: "postgres", job: "worker", pod: "worker-1" }, "1x6"), input(pgUp, {}, "1x6")],
          fires: [{ labels: { job: "api" }, description: "Processes of job api cannot reach PostgreSQL." }],
        },
        {
          name: "the exporter cannot connect",
          at: "5m",
          input: [input(dependencyUp, { dependency: "postgres", job: "api", pod: "api-1" }, "1x6"), input(pgUp, {}, "0x6")],
          fires: [{ description: "postgres_exporter cannot connect to PostgreSQL." }],
        },
        {
          name: "rabbitmq down is not a database alert",
          at: "5m",
          input: [input(dependencyUp, { dependency: "postgres", job: "api", pod: "api-1" }, "1x6"), input(dependencyUp, { dependency: "rabbitmq", job: "api", pod: "api-1" }, "0x6"), input(pgUp, {}, "1x6")],
          fires: [],
        },
        { name: "a one-minute blip stays silent", at: "5m", input: [input(pgUp, {}, "1 1 1 0 1 1")], fires: [] },
        {
          name: "postgres_exporter gone (input missing) while an API process loses postgres fires",
          at: "5m",
          input: [input(dependencyUp, { dependency: "postgres", job: "api", pod: "api-1" }, "0x6")],
          fires: [{ labels: { job: "api" }, description: "Processes of job api cannot reach PostgreSQL." }],
          missingInput: true,
        },
      ],
      runbook: {
        whatIsHappening: `An application process reports \`${sel(dependencyUp, { dependency: "postgres" })} == 0\`, or postgres_exporter cannot connect (\`${sel(pgUp)} == 0\`), for 2 minutes.`,
        impact: "Every request and job that touches the database fails: the API returns errors, jobs retry and pile up.",
        queries: [
          { purpose: "Which processes cannot reach postgres", promql: `${sel(dependencyUp, { dependency: "postgres" })} == 0` },
          { purpose: "Connections in use vs max", promql: `sum(${sel(pgStatActivityCount)}) / max(${sel(pgSettingsMaxConnections)})` },
        ],
        commands: [
          { purpose: "RDS instance status", command: "aws rds describe-db-instances --query 'DBInstances[].{id:DBInstanceIdentifier,status:DBInstanceStatus}'" },
          { purpose: "Connect from inside the cluster", command: `kubectl -n ${ns} run psql --rm -it --image=postgres:16 -- psql "$DATABASE_URL" -c 'select 1'` },
          { purpose: "Connections by state", command: "psql \"$DATABASE_URL\" -c \"SELECT state, count(*) FROM pg_stat_activity GROUP BY state\"" },
        ],
        mitigation: [
          "If RDS is rebooting or failing over, wait for it to become available (Multi-AZ failover takes 1-2 minutes).",
          "If connections are exhausted, restart the worst offender: kubectl -n " + ns + " rollout restart deployment/<name>.",
          "If the instance is lost, restore (procedures/database-restore.md) or fail over to the second region (procedures/dr-failover.md).",
        ],
        escalation: "Platform on-call via PagerDuty; open an AWS support case (severity: production system down) if RDS itself is unhealthy.",
        procedures: ["database-restore", "dr-failover"],
      },
    },
    {
      name: "DatabaseReplicationUnhealthy",
      expr: `(${lag} > ${T.replicationLagSeconds}) or (${lag} < 0)` + (hasReplica ? ` or ${missing(awsRdsReplicaLagMaximum, undefined, W)}` : ""),
      for: "5m",
      severity: SEVERITY.critical,
      team: TEAMS.platform,
      incident: INCIDENTS.dataProtection,
      missingInput: hasReplica
        ? { kind: "fires", decision: `No replica lag for ${W} (the CloudWatch exporter is down, or the replica was deleted) fires: the DR copy cannot be shown to be current.` }
        : { kind: "not-deployed", decision: `This environment has no read replica (platform:rds.readReplica is false): there is no lag to report, and its absence means nothing.` },
      summary: "Database replication is failing, lagging or not reported.",
      description: hasReplica ? `{{ if $labels.${MISSING_LABEL} }}${lagMissingDescription}{{ else }}${lagDescription}{{ end }}` : lagDescription,
      dashboards: [DASHBOARD_UIDS.database],
      examples: [
        ...(hasReplica
          ? [
              { name: "no replica lag reported (input missing) fires", at: "20m", input: [], fires: [{ labels: { [MISSING_LABEL]: awsRdsReplicaLagMaximum.name }, description: lagMissingDescription }], missingInput: true },
            ]
          : []),
        { name: "two minutes of lag fires", at: "10m", input: [input(awsRdsReplicaLagMaximum, { dbinstance_identifier: "pp-replica" }, "120x10")], fires: [{ labels: { dbinstance_identifier: "pp-replica" }, description: "Replica pp-replica reports a replica lag of 2m 0s (a negative lag means replication is not running)." }] },
        { name: "stopped replication fires", at: "10m", input: [input(awsRdsReplicaLagMaximum, { dbinstance_identifier: "pp-replica" }, "-1x10")], fires: [{ labels: { dbinstance_identifier: "pp-replica" }, description: "Replica pp-replica reports a replica lag of -1s (a negative lag means replication is not running)." }] },
        { name: "five seconds of lag stays silent", at: "10m", input: [input(awsRdsReplicaLagMaximum, { dbinstance_identifier: "pp-replica" }, "5x10")], fires: [] },
      ],
      runbook: {
        whatIsHappening: `CloudWatch reports a ReplicaLag above ${T.replicationLagSeconds}s, or a negative value (replication stopped), for the cross-region read replica${hasReplica ? `, or no lag at all for ${W} (the CloudWatch exporter is down or the replica is gone)` : ""}.`,
        impact: "The DR replica is stale: a regional failover now would lose the lagging data (RPO at risk). Reads served from the replica are stale.",
        queries: [{ purpose: "Replica lag over time", promql: lag }],
        commands: [
          { purpose: "Replica status and errors", command: "aws rds describe-db-instances --db-instance-identifier <replica> --query 'DBInstances[0].StatusInfos'" },
          { purpose: "Replication state on the primary", command: "psql \"$DATABASE_URL\" -c \"SELECT client_addr, state, replay_lag FROM pg_stat_replication\"" },
          { purpose: "Long transactions blocking replay", command: "psql \"$REPLICA_URL\" -c \"SELECT pid, now() - xact_start AS age, query FROM pg_stat_activity WHERE state <> 'idle' ORDER BY age DESC LIMIT 5\"" },
        ],
        mitigation: [
          "If lag grows because of a write burst (a large import), it recovers by itself; pause imports if it keeps growing.",
          "If replication stopped, check StatusInfos; recreate the read replica if it is in an error state (infra: database component).",
        ],
        escalation: "Platform on-call via PagerDuty; AWS support if the replica is in a failed state.",
        procedures: ["dr-failover", "database-restore"],
      },
    },
    {
      name: "DatabaseSlowQueries",
      expr: `${dbQueryP95} > ${T.dbQueryP95Seconds}`,
      for: "10m",
      severity: SEVERITY.warning,
      team: TEAMS.platform,
      summary: "Database queries are slower than 100 ms.",
      description: "p95 of {{ $labels.model }}.{{ $labels.operation }} queries is {{ $value | humanizeDuration }} over the last 5 minutes.",
      dashboards: [DASHBOARD_UIDS.database],
      examples: [
        {
          name: "p95 around 240 ms fires",
          at: "20m",
          input: [...bucketInput(dbQueryDuration, q, "0.1", "0+0x30"), ...bucketInput(dbQueryDuration, q, "0.25", "0+10x30"), ...bucketInput(dbQueryDuration, q, "+Inf", "0+10x30")],
          fires: [{ labels: q, description: "p95 of Product.findMany queries is 242.5ms over the last 5 minutes." }],
        },
        {
          name: "fast queries stay silent",
          at: "20m",
          input: [...bucketInput(dbQueryDuration, q, "0.05", "0+10x30"), ...bucketInput(dbQueryDuration, q, "0.1", "0+10x30"), ...bucketInput(dbQueryDuration, q, "+Inf", "0+10x30")],
          fires: [],
        },
      ],
      runbook: {
        whatIsHappening: `The application sees a p95 above ${T.dbQueryP95Seconds * 1000} ms for one model/operation for 10 minutes.`,
        impact: "API latency and job throughput degrade; the latency SLO may start burning.",
        queries: [{ purpose: "p95 by model and operation", promql: dbQueryP95 }],
        commands: [
          { purpose: "Slowest statements", command: "psql \"$DATABASE_URL\" -c \"SELECT queryid, calls, round(mean_exec_time) AS ms, left(query, 80) FROM pg_stat_statements ORDER BY mean_exec_time DESC LIMIT 10\"" },
          { purpose: "Locks waiting", command: "psql \"$DATABASE_URL\" -c \"SELECT pid, wait_event_type, wait_event, left(query, 80) FROM pg_stat_activity WHERE wait_event IS NOT NULL\"" },
          { purpose: "Plan of a suspect query", command: "psql \"$DATABASE_URL\" -c 'EXPLAIN (ANALYZE, BUFFERS) <query>'" },
        ],
        mitigation: ["Add the missing index through a migration, or cancel a runaway query: SELECT pg_cancel_backend(<pid>).", "If RDS CPU is saturated, scale the instance class in the stack config."],
        escalation: "Chat only; the platform team follows up in working hours.",
      },
    },
  ];
}
