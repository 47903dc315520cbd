/** The API's SLOs: availability (non-5xx responses) and latency (responses under 1 s). */
import { httpRequestsTotal, httpRequestDuration, HTTP_BUCKETS } from "../../services/metrics.js";
import type { EnvironmentModel } from "../../model/environments.js";
import type { MissingInput } from "../alert-def.js";
import type { SloDefinition } from "../slo.js";
import { sliErrorRecord } from "../slo.js";
import { bucket, bucketInput, input, sel } from "../promql.js";
import { INCIDENTS } from "../incidents.js";
import { THRESHOLDS } from "../thresholds.js";
import { apiRequestRate, measuredRequestRate } from "./api.js";

import { DASHBOARD_UIDS } from "../../dashboards/uids.js";

/** Latency SLO threshold in seconds; it must be a histogram bucket boundary. */
export const LATENCY_SLO_SECONDS = 1;
if (!(HTTP_BUCKETS as readonly number[]).includes(LATENCY_SLO_SECONDS)) throw new Error("LATENCY_SLO_SECONDS must be an HTTP bucket");

const route = { method: "GET", route: "/v1/products" } as const;
const reqs = (status: string, perMinute: number) => input(httpRequestsTotal, { ...route, status_code: status }, `0+${perMinute}x80`);
const latency = (fastPerMinute: number, totalPerMinute: number) => [
  ...bucketInput(httpRequestDuration, route, String(LATENCY_SLO_SECONDS), `0+${fastPerMinute}x80`),
  ...bucketInput(httpRequestDuration, route, "+Inf", `0+${totalPerMinute}x80`),
];
/**
 * A quiet night: `goodPerMinute` good events a minute (a handful an hour) and, at minute 66, one
 * bad one. Both the long and the short window then see a ratio far above the fast-burn threshold.
 */
const BAD_EVENT_MINUTE = 66;
const oneBadEvent = (goodPerMinute: number) => ({
  /** A counter of the good events. */
  good: `0+${goodPerMinute}x80`,
  /** A counter of the bad events: its series exists (a bad event long ago), the new one arrives at minute 66. */
  bad: `0x${BAD_EVENT_MINUTE - 1} 1x${80 - BAD_EVENT_MINUTE}`,
  /** A counter of all events: the good ones plus the bad one. */
  all: `0+${goodPerMinute}x${BAD_EVENT_MINUTE - 1} ${Number((goodPerMinute * BAD_EVENT_MINUTE + 1).toFixed(6))}+${goodPerMinute}x${80 - BAD_EVENT_MINUTE}`,
});
const quietAvailability = oneBadEvent(0.15);
const quietLatency = oneBadEvent(0.05);

/** The request counters vanish only when the API is not scraped at all: ApiUnavailable then fires (`or vector(0)`). */
const apiSeriesMissing: MissingInput = {
  kind: "covered",
  by: "ApiUnavailable",
  decision:
    "No request series means no request was served: no errors is the right reading and the burn stays quiet; if the series are gone because no API target is scraped, ApiUnavailable fires (`sum(up) or vector(0)`).",
};

export function apiSlos(env: EnvironmentModel): SloDefinition[] {
  const ns = env.namespace;
  const burnQueries = (slo: string) => [
    { purpose: "Error ratio over 5m, 1h and 6h", promql: `${sliErrorRecord("5m")}{slo="${slo}"} or ${sliErrorRecord("1h")}{slo="${slo}"} or ${sliErrorRecord("6h")}{slo="${slo}"}` },
  ];
  return [
    {
      name: "api-availability",
      alertName: "ApiAvailabilityErrorBudgetBurn",
      objective: 0.999,
      summary: "The API availability SLO is burning its error budget too fast.",
      description: "{{ $labels.slo }}: {{ $value | humanizePercentage }} of requests failed over the long window, against a 0.1% error budget.",
      errorRatio: (w) => `sum(rate(${sel(httpRequestsTotal, 'status_code=~"5.."')}[${w}])) / ${apiRequestRate(w)}`,
      minEvents: { rate: apiRequestRate, perSecond: THRESHOLDS.minRequestRate },
      incident: INCIDENTS.productService,
      missingInput: apiSeriesMissing,
      dashboards: [DASHBOARD_UIDS.api],
      examples: {
        fastBurn: { input: [reqs("200", 980), reqs("503", 20)], description: "api-availability: 2% of requests failed over the long window, against a 0.1% error budget." },
        slowBurn: { input: [reqs("200", 996), reqs("503", 4)], description: "api-availability: 0.4% of requests failed over the long window, against a 0.1% error budget." },
        withinBudget: { input: [reqs("200", 9995), reqs("503", 5)] },
        // 9 good requests an hour and one 500: 10% over the hour, above the 1.44% fast-burn threshold.
        oneBadEventAtLowTraffic: {
          input: [input(httpRequestsTotal, { ...route, status_code: "200" }, quietAvailability.good), input(httpRequestsTotal, { ...route, status_code: "500" }, quietAvailability.bad)],
        },
        // The same 10% at 10 requests/s.
        sameRatioAtNormalTraffic: {
          input: [reqs("200", 540), reqs("500", 60)],
          description: "api-availability: 10% of requests failed over the long window, against a 0.1% error budget.",
        },
      },
      recordingExample: { input: [reqs("200", 75), reqs("500", 25)], ratio: 0.25 },
      runbook: {
        whatIsHappening: "The share of 5xx responses is high enough to spend the 30-day error budget of the 99.9% availability SLO early: critical when it would be gone in about 2 days (14.4x over 1h, or 6x over 6h), warning (ticket) at 3x over 1 day or 1x over 3 days.",
        impact: "Users see failed requests; if it continues, the SLO is missed for the month.",
        queries: [...burnQueries("api-availability"), { purpose: "5xx by route", promql: `sum by (route) (rate(${sel(httpRequestsTotal, 'status_code=~"5.."')}[5m]))` }],
        commands: [{ purpose: "Recent API errors", command: `kubectl -n ${ns} logs -l app.kubernetes.io/name=api --prefix --since=30m | grep -E '"statusCode":5' | tail -20` }],
        mitigation: ["Find the failing route and its cause (ApiHighErrorRate runbook); roll back a bad release; for a ticket, plan the fix within the week."],
        escalation: "Critical: platform on-call via PagerDuty. Warning: a ticket for the platform team.",
        procedures: ["rollback"],
      },
    },
    {
      name: "api-latency",
      alertName: "ApiLatencyErrorBudgetBurn",
      objective: 0.99,
      summary: "The API latency SLO is burning its error budget too fast.",
      description: "{{ $labels.slo }}: {{ $value | humanizePercentage }} of requests took longer than 1s over the long window, against a 1% error budget.",
      errorRatio: (w) => `1 - (sum(rate(${bucket(httpRequestDuration, { le: String(LATENCY_SLO_SECONDS) })}[${w}])) / ${measuredRequestRate(w)})`,
      minEvents: { rate: measuredRequestRate, perSecond: THRESHOLDS.minRequestRate },
      incident: INCIDENTS.productService,
      missingInput: apiSeriesMissing,
      dashboards: [DASHBOARD_UIDS.api],
      examples: {
        // 1000 requests a minute: the ticket windows' event rate (rate over 1d of 80 minutes of
        // samples, divided by the whole day) stays above the minimum, as it does with a day of history.
        fastBurn: { input: latency(800, 1000), description: "api-latency: 20% of requests took longer than 1s over the long window, against a 1% error budget." },
        slowBurn: { input: latency(960, 1000), description: "api-latency: 4% of requests took longer than 1s over the long window, against a 1% error budget." },
        withinBudget: { input: latency(995, 1000) },
        // 3 fast requests an hour and one slow one: 25% over the hour, above the 14.4% fast-burn threshold.
        oneBadEventAtLowTraffic: {
          input: [
            ...bucketInput(httpRequestDuration, route, String(LATENCY_SLO_SECONDS), quietLatency.good),
            ...bucketInput(httpRequestDuration, route, "+Inf", quietLatency.all),
          ],
        },
        // The same 25% at 10 requests/s.
        sameRatioAtNormalTraffic: {
          input: latency(450, 600),
          description: "api-latency: 25% of requests took longer than 1s over the long window, against a 1% error budget.",
        },
      },
      recordingExample: { input: latency(50, 100), ratio: 0.5 },
      runbook: {
        whatIsHappening: `Too many requests take longer than ${LATENCY_SLO_SECONDS}s for the 99% latency SLO: critical at 14.4x/6x burn, warning (ticket) at 3x/1x.`,
        impact: "The API is slow for a large share of users.",
        queries: [...burnQueries("api-latency"), { purpose: "p95 by route", promql: `histogram_quantile(0.95, sum by (le, route) (rate(${bucket(httpRequestDuration)}[5m])))` }],
        commands: [{ purpose: "API pod CPU", command: `kubectl -n ${ns} top pods -l app.kubernetes.io/name=api` }],
        mitigation: ["Follow ApiHighLatencyP95 and DatabaseSlowQueries; scale the API if CPU-bound."],
        escalation: "Critical: platform on-call via PagerDuty. Warning: a ticket for the platform team.",
      },
    },
  ];
}
