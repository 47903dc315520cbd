/** User-visible API symptoms: availability, errors, latency. */
import type { EnvironmentModel } from "../../model/environments.js";
import { dbQueryDuration, httpRequestsTotal, httpRequestDuration } from "../../services/metrics.js";
import { up, probeSuccess } from "../../services/metrics-exporters.js";
import type { AlertDefinition } from "../alert-def.js";
import { API_SCRAPE_JOB, BLACKBOX_JOB } from "../../model/workloads.js";
import type { MissingInput } from "../alert-def.js";
import { MISSING_LABEL, bucket, bucketInput, count, input, missing, sel } from "../promql.js";
import { INCIDENTS } from "../incidents.js";
import { SEVERITY, TEAMS } from "../severity.js";
import { THRESHOLDS } from "../thresholds.js";
import { DASHBOARD_UIDS } from "../../dashboards/uids.js";

const T = THRESHOLDS;
const route = { method: "GET", route: "/v1/products" } as const;

/** Total API request rate over a window: the denominator of every API ratio and the idle guard. */
export const apiRequestRate = (window: string): string => `sum(rate(${sel(httpRequestsTotal)}[${window}]))`;
/** Requests the latency histogram measured, per second: the latency ratios' denominator. */
export const measuredRequestRate = (window: string): string => `sum(rate(${count(httpRequestDuration)}[${window}]))`;

/** The request series vanish only when no API target is scraped, and then ApiUnavailable fires. */
const requestSeriesMissing: MissingInput = {
  kind: "covered",
  by: "ApiUnavailable",
  decision:
    "No request series means no request was served: no errors is the right reading and the rule stays quiet; if they are gone because no API target is scraped, ApiUnavailable fires (`sum(up) or vector(0)`).",
};

export function apiAlerts(env: EnvironmentModel): AlertDefinition[] {
  const ns = env.namespace;
  const probeUrl = env.urls.apiProbe;
  const upSel = sel(up, { job: API_SCRAPE_JOB, namespace: ns });
  const probeSel = sel(probeSuccess, { job: BLACKBOX_JOB, instance: probeUrl });
  const upInput = (pod: string, values: string) => input(up, { job: API_SCRAPE_JOB, namespace: ns, pod }, values);
  const probeInput = (values: string) => input(probeSuccess, { job: BLACKBOX_JOB, instance: probeUrl }, values);
  const W = T.missingInputWindow;
  const unavailableDescription = `The API has had no healthy scrape target, or the external probe of ${probeUrl} has failed, for more than 1 minute.`;
  const probeMissingDescription = `No result from the external probe of ${probeUrl} for ${W}: the blackbox exporter or its Probe is gone, so nobody can tell whether users reach the API.`;
  const reqs = (status: string, values: string) => input(httpRequestsTotal, { ...route, status_code: status }, values);

  return [
    {
      name: "ApiUnavailable",
      expr: `((sum(${upSel}) or vector(0)) == 0) or (max(${probeSel}) == 0) or ${missing(probeSuccess, { job: BLACKBOX_JOB, instance: probeUrl }, W)}`,
      for: "1m",
      severity: SEVERITY.critical,
      team: TEAMS.platform,
      incident: INCIDENTS.productService,
      missingInput: {
        kind: "fires",
        decision: `No \`up\` series for job \`${API_SCRAPE_JOB}\` (no target discovered: the Service or ServiceMonitor is gone) reads as 0 healthy targets (\`or vector(0)\`) and fires; no probe result for ${W} (blackbox exporter or Probe gone) fires too, because the external view is lost.`,
      },
      summary: "The API is unavailable.",
      description: `{{ if $labels.missing }}${probeMissingDescription}{{ else }}${unavailableDescription}{{ end }}`,
      dashboards: [DASHBOARD_UIDS.api, DASHBOARD_UIDS.infrastructure],
      examples: [
        { name: "every API target down", at: "5m", input: [upInput("api-1", "1 1 0 0 0 0 0"), probeInput("1x6")], fires: [{ description: unavailableDescription }] },
        { name: "no API target at all (input missing) fires", at: "5m", input: [probeInput("1x6")], fires: [{ description: unavailableDescription }], missingInput: true },
        {
          name: "no probe result (input missing) fires",
          at: "15m",
          input: [upInput("api-1", "1x15")],
          fires: [{ labels: { job: BLACKBOX_JOB, instance: probeUrl, [MISSING_LABEL]: probeSuccess.name }, description: probeMissingDescription }],
          missingInput: true,
        },
        { name: "external probe fails", at: "5m", input: [upInput("api-1", "1x6"), probeInput("1 1 0 0 0 0 0")], fires: [{ description: unavailableDescription }] },
        { name: "one of two pods down stays silent", at: "5m", input: [upInput("api-1", "1x6"), upInput("api-2", "0x6"), probeInput("1x6")], fires: [] },
        { name: "a single failed probe stays silent", at: "5m", input: [upInput("api-1", "1x6"), probeInput("1 1 1 1 0 1 1")], fires: [] },
      ],
      runbook: {
        whatIsHappening: `Either no API pod is being scraped as healthy (\`up\` is 0 or absent for job \`${API_SCRAPE_JOB}\`), or the blackbox exporter cannot reach ${probeUrl} from outside the cluster, or the probe has reported nothing for ${W} (the description says which; then restore the blackbox exporter or its Probe before trusting that the API is up).`,
        impact: "Users and the store integration cannot use the API: imports, reviews and pushes stop.",
        queries: [
          { purpose: "Healthy API targets", promql: `sum(${upSel})` },
          { purpose: "External probe result", promql: probeSel },
        ],
        commands: [
          { purpose: "Pod status and recent restarts", command: `kubectl -n ${ns} get pods -l app.kubernetes.io/name=api -o wide` },
          { purpose: "Why pods are not ready", command: `kubectl -n ${ns} describe deployment api` },
          { purpose: "Recent logs", command: `kubectl -n ${ns} logs -l app.kubernetes.io/name=api --prefix --since=15m` },
          { purpose: "Probe the endpoint yourself", command: `curl -sv ${probeUrl}` },
        ],
        mitigation: [
          "If the latest rollout broke the pods, roll back (procedures/rollback.md).",
          "If the pods are healthy but the probe fails, check the ingress/load balancer and DNS.",
          "If the pods crash on startup because of the database, follow DatabaseConnectionFailed.",
        ],
        escalation: "Page the platform on-call (PagerDuty service: Product platform). After 15 minutes without progress, escalate to the platform lead.",
        procedures: ["rollback", "deploy", "dr-failover"],
      },
    },
    {
      name: "ApiHighErrorRate",
      expr: `sum(rate(${sel(httpRequestsTotal, 'status_code=~"5.."')}[5m])) / ${apiRequestRate("5m")} > ${T.errorRatio}`,
      minEvents: { rate: apiRequestRate, window: "5m", perSecond: T.minRequestRate },
      for: "5m",
      severity: SEVERITY.critical,
      team: TEAMS.platform,
      incident: INCIDENTS.productService,
      missingInput: requestSeriesMissing,
      summary: "More than 5% of API requests fail.",
      description: "{{ $value | humanizePercentage }} of API requests failed with a 5xx status over the last 5 minutes.",
      dashboards: [DASHBOARD_UIDS.api],
      examples: [
        { name: "10% errors fires", at: "15m", input: [reqs("200", "0+90x20"), reqs("500", "0+10x20")], fires: [{ description: "10% of API requests failed with a 5xx status over the last 5 minutes." }] },
        { name: "3% errors stays silent", at: "15m", input: [reqs("200", "0+97x20"), reqs("500", "0+3x20")], fires: [] },
        { name: "idle API with one failure stays silent", at: "15m", input: [reqs("200", "0+1x20"), reqs("500", "0+1x20")], fires: [] },
        // One request a minute, one in ten failing: 10%, but too little traffic to judge.
        { name: "one error at very low traffic stays silent", at: "15m", input: [reqs("200", "0+0.9x20"), reqs("500", "0+0.1x20")], fires: [] },
        { name: "the same ratio at normal traffic fires", at: "15m", input: [reqs("200", "0+540x20"), reqs("500", "0+60x20")], fires: [{ description: "10% of API requests failed with a 5xx status over the last 5 minutes." }] },
      ],
      runbook: {
        whatIsHappening: `More than ${T.errorRatio * 100}% of API requests returned a 5xx status for 5 minutes (and the API is not idle).`,
        impact: "A visible share of user and integration requests fail.",
        queries: [{ purpose: "Errors by route and status", promql: `sum by (route, status_code) (rate(${sel(httpRequestsTotal, 'status_code=~"5.."')}[5m]))` }],
        commands: [
          { purpose: "Error logs", command: `kubectl -n ${ns} logs -l app.kubernetes.io/name=api --prefix --since=15m | grep '"level":50'` },
          { purpose: "Recent rollouts", command: `kubectl argo rollouts -n ${ns} get rollout api` },
        ],
        mitigation: [
          "If errors started with a deploy, roll back (procedures/rollback.md).",
          "If one route fails because of a dependency (database, broker), follow that dependency's runbook.",
        ],
        escalation: "Platform on-call via PagerDuty; involve the API owners if a single route is failing after a code change.",
        procedures: ["rollback"],
      },
    },
    {
      name: "ApiHttp500Burst",
      expr: `sum(rate(${sel(httpRequestsTotal, { status_code: "500" })}[5m])) * 60 > ${T.http500PerMinute}`,
      for: "2m",
      severity: SEVERITY.critical,
      team: TEAMS.platform,
      incident: INCIDENTS.productService,
      missingInput: requestSeriesMissing,
      summary: "The API returns more than 10 HTTP 500 responses per minute.",
      description: "The API returned {{ $value | humanize }} HTTP 500 responses per minute over the last 5 minutes.",
      dashboards: [DASHBOARD_UIDS.api],
      examples: [
        { name: "20 per minute fires", at: "15m", input: [reqs("200", "0+10000x20"), reqs("500", "0+20x20")], fires: [{ description: "The API returned 20 HTTP 500 responses per minute over the last 5 minutes." }] },
        { name: "5 per minute stays silent", at: "15m", input: [reqs("200", "0+100x20"), reqs("500", "0+5x20")], fires: [] },
      ],
      runbook: {
        whatIsHappening: `The API answers more than ${T.http500PerMinute} requests per minute with HTTP 500, an unhandled error, even if the error ratio is small on a busy API.`,
        impact: "Some users see failures; 500s usually mean a bug or a dependency failure that the code does not map to a 4xx/503.",
        queries: [{ purpose: "500s per minute by route", promql: `sum by (route) (rate(${sel(httpRequestsTotal, { status_code: "500" })}[5m])) * 60` }],
        commands: [{ purpose: "Stack traces of unhandled errors", command: `kubectl -n ${ns} logs -l app.kubernetes.io/name=api --prefix --since=15m | grep -i 'internal server error'` }],
        mitigation: ["Find the route and the stack trace; roll back if a deploy introduced it.", "If a dependency fails, follow its runbook."],
        escalation: "Platform on-call via PagerDuty; API owners for code defects.",
        procedures: ["rollback"],
      },
    },
    {
      name: "ApiHighLatencyP95",
      expr: `histogram_quantile(0.95, sum by (le) (rate(${bucket(httpRequestDuration)}[5m]))) > ${T.latencyP95Seconds}`,
      minEvents: { rate: measuredRequestRate, window: "5m", perSecond: T.minRequestRate },
      for: "10m",
      severity: SEVERITY.warning,
      team: TEAMS.platform,
      summary: "API p95 latency is above 1 second.",
      description: "API p95 latency is {{ $value | humanizeDuration }} over the last 5 minutes.",
      dashboards: [DASHBOARD_UIDS.api, DASHBOARD_UIDS.database],
      examples: [
        {
          name: "half the requests above 1 s fires",
          at: "20m",
          input: [...bucketInput(httpRequestDuration, route, "0.5", "0+0x30"), ...bucketInput(httpRequestDuration, route, "1", "0+50x30"), ...bucketInput(httpRequestDuration, route, "2.5", "0+100x30"), ...bucketInput(httpRequestDuration, route, "+Inf", "0+100x30")],
          fires: [{ description: "API p95 latency is 2.35s over the last 5 minutes." }],
        },
        {
          name: "fast requests stay silent",
          at: "20m",
          input: [...bucketInput(httpRequestDuration, route, "0.5", "0+90x30"), ...bucketInput(httpRequestDuration, route, "1", "0+99x30"), ...bucketInput(httpRequestDuration, route, "+Inf", "0+100x30")],
          fires: [],
        },
      ],
      runbook: {
        whatIsHappening: `The 95th percentile of API request latency has been above ${T.latencyP95Seconds}s for 10 minutes.`,
        impact: "The API is slow for users; timeouts in clients may follow.",
        queries: [
          { purpose: "p95 by route", promql: `histogram_quantile(0.95, sum by (le, route) (rate(${bucket(httpRequestDuration)}[5m])))` },
          { purpose: "Database p95 by model and operation", promql: `histogram_quantile(0.95, sum by (le, model, operation) (rate(${bucket(dbQueryDuration)}[5m])))` },
        ],
        commands: [
          { purpose: "CPU/memory of the API pods", command: `kubectl -n ${ns} top pods -l app.kubernetes.io/name=api` },
          { purpose: "Slowest statements", command: "psql \"$DATABASE_URL\" -c \"SELECT queryid, calls, mean_exec_time, query FROM pg_stat_statements ORDER BY mean_exec_time DESC LIMIT 10\"" },
        ],
        mitigation: ["If the database is slow, see DatabaseSlowQueries.", "If the pods are CPU-throttled, raise the HPA bounds of the API (platform:app.api.maxReplicas) or scale the Rollout: kubectl -n " + ns + " scale rollout/api --replicas=<n>."],
        escalation: "Chat only: the platform team handles it in working hours; it becomes a page through the latency SLO if it burns budget fast.",
      },
    },
  ];
}
