/** API dashboard: traffic, latency distribution and percentiles, errors, top endpoints, SLOs. */
import { PanelBuilder as TimeseriesBuilder } from "@grafana/grafana-foundation-sdk/timeseries";
import { PanelBuilder as HeatmapBuilder } from "@grafana/grafana-foundation-sdk/heatmap";
import { PanelBuilder as TableBuilder } from "@grafana/grafana-foundation-sdk/table";
import { PanelBuilder as StatBuilder } from "@grafana/grafana-foundation-sdk/stat";
import { httpRequestDuration, httpRequestsTotal } from "../services/metrics.js";
import { probeSuccess, up } from "../services/metrics-exporters.js";
import { bucket, sel } from "../alerts/promql.js";
import { API_SCRAPE_JOB } from "../model/workloads.js";
import { sliErrorRecord } from "../alerts/slo.js";
import type { DashboardJson } from "./dashboard-json.js";
import { RATE, dashboard, panel } from "./panels.js";
import { DASHBOARD_UIDS } from "./uids.js";

const requests = (matchers?: string) => `rate(${sel(httpRequestsTotal, matchers)}[${RATE}])`;
const quantile = (q: number) => ({
  expr: `histogram_quantile(${q}, sum by (le) (rate(${bucket(httpRequestDuration)}[${RATE}])))`,
  legend: `p${Math.round(q * 100)}`,
});

export function apiDashboard(): DashboardJson {
  return dashboard({
    uid: DASHBOARD_UIDS.api,
    title: "Product platform / API",
    description: "Traffic, latency, errors and SLOs of the product API.",
    tags: ["product-platform", "api"],
    panels: [
      panel(new StatBuilder(), {
        title: "Healthy API targets",
        description: "API pods Prometheus scrapes successfully right now (up == 1).",
        unit: "short",
        width: 6,
        height: 5,
        queries: [{ expr: `sum(${sel(up, { job: API_SCRAPE_JOB })})`, instant: true }],
      }),
      panel(new StatBuilder(), {
        title: "External probe",
        description: "Blackbox probe of the public health endpoint: 1 is up, 0 is down.",
        unit: "bool_on_off",
        width: 6,
        height: 5,
        queries: [{ expr: `min(${sel(probeSuccess)})`, instant: true }],
      }),
      panel(new TimeseriesBuilder(), {
        title: "SLO error ratio (1h)",
        description: "Share of bad events over the last hour per SLO (recorded rules). Pages fire above 14.4x the error budget.",
        unit: "percentunit",
        queries: [{ expr: `${sliErrorRecord("1h")}`, legend: "{{slo}}" }],
      }),
      panel(new TimeseriesBuilder(), {
        title: "Request rate",
        description: "Requests per second handled by the API, by route template.",
        unit: "reqps",
        queries: [{ expr: `sum by (route) (${requests()})`, legend: "{{route}}" }],
      }),
      panel(new TimeseriesBuilder(), {
        title: "Error rate",
        description: "Share of requests answered with a 5xx status. The ApiHighErrorRate alert pages above 5% for 5 minutes.",
        unit: "percentunit",
        queries: [{ expr: `sum(${requests('status_code=~"5.."')}) / sum(${requests()})`, legend: "5xx ratio" }],
      }),
      panel(new HeatmapBuilder().calculate(false), {
        title: "Response time distribution",
        description: "Heatmap of request durations from the histogram buckets.",
        unit: "s",
        queries: [{ expr: `sum by (le) (rate(${bucket(httpRequestDuration)}[${RATE}]))`, legend: "{{le}}", format: "heatmap" }],
      }),
      panel(new TimeseriesBuilder(), {
        title: "Response time percentiles",
        description: "p50, p95 and p99 request latency across all routes. ApiHighLatencyP95 warns when p95 stays above 1 s.",
        unit: "s",
        queries: [quantile(0.5), quantile(0.95), quantile(0.99)],
      }),
      panel(new TableBuilder(), {
        title: "Top endpoints",
        description: "The ten busiest route templates right now, with their request rate.",
        unit: "reqps",
        width: 24,
        queries: [{ expr: `topk(10, sum by (method, route) (${requests()}))`, format: "table", instant: true }],
      }),
    ],
  });
}
