/**
 * Business dashboard: products by status, import jobs over time, source-check results, reviewer
 * activity, products imported and pushed per day, review time. Per-day figures use
 * increase(...[1d]) with a one-day step on purpose (PER_DAY), the documented exception to
 * the $__rate_interval rule.
 */
import { PanelBuilder as PieChartBuilder, PieChartType } from "@grafana/grafana-foundation-sdk/piechart";
import { PanelBuilder as StateTimelineBuilder } from "@grafana/grafana-foundation-sdk/statetimeline";
import { PanelBuilder as BarChartBuilder } from "@grafana/grafana-foundation-sdk/barchart";
import { PanelBuilder as HeatmapBuilder } from "@grafana/grafana-foundation-sdk/heatmap";
import { PanelBuilder as TimeseriesBuilder } from "@grafana/grafana-foundation-sdk/timeseries";
import { GraphDrawStyle } from "@grafana/grafana-foundation-sdk/common";
import {
  jobsCompletedTotal,
  jobsFailedTotal,
  jobsStartedTotal,
  productReviewDuration,
  productsByStatus,
  productsImportedTotal,
  productsPushedTotal,
  reviewActionsTotal,
  sourceChecksTotal,
} from "../services/metrics.js";
import { count, sel, sum } from "../alerts/promql.js";
import type { DashboardJson } from "./dashboard-json.js";
import { PER_DAY, RATE, dashboard, panel } from "./panels.js";
import { DASHBOARD_UIDS } from "./uids.js";

const importRate = (metric: typeof jobsStartedTotal) => `sum(rate(${sel(metric, { type: "import" })}[${RATE}]))`;

export function businessDashboard(): DashboardJson {
  return dashboard({
    uid: DASHBOARD_UIDS.business,
    title: "Product platform / Business",
    description: "Products through the pipeline: imports, source checks, reviews and pushes to the store.",
    tags: ["product-platform", "business"],
    panels: [
      panel(new PieChartBuilder().pieType(PieChartType.Pie), {
        title: "Products by status",
        description: "Products per pipeline status, read from the database at scrape time.",
        unit: "short",
        queries: [{ expr: `max by (status) (${sel(productsByStatus)})`, legend: "{{status}}", instant: true }],
      }),
      panel(new StateTimelineBuilder(), {
        title: "Import jobs over time",
        description: "Import jobs started, completed and failed per second, as a timeline: gaps and colour changes show stalls.",
        unit: "ops",
        queries: [
          { expr: importRate(jobsStartedTotal), legend: "started" },
          { expr: importRate(jobsCompletedTotal), legend: "completed" },
          { expr: importRate(jobsFailedTotal), legend: "failed" },
        ],
      }),
      panel(new BarChartBuilder(), {
        title: "Source-check results (last day)",
        description: "Source checks finished over the last 24 hours, by outcome (available, gone, price_changed, error).",
        unit: "short",
        queries: [{ expr: `sum by (outcome) (increase(${sel(sourceChecksTotal)}[${PER_DAY}]))`, legend: "{{outcome}}", format: "table", instant: true }],
      }),
      panel(new HeatmapBuilder().calculate(false), {
        title: "Reviewer activity",
        description: "Review decisions per minute by reviewer: one row per reviewer.",
        unit: "opm",
        queries: [{ expr: `sum by (reviewer) (rate(${sel(reviewActionsTotal)}[${RATE}])) * 60`, legend: "{{reviewer}}" }],
      }),
      panel(new TimeseriesBuilder().drawStyle(GraphDrawStyle.Bars), {
        title: "Products imported and pushed per day",
        description: "Products created or updated by imports, and products pushed to the store (first push only), per day.",
        unit: "short",
        interval: PER_DAY,
        queries: [
          { expr: `sum(increase(${sel(productsImportedTotal)}[${PER_DAY}]))`, legend: "imported" },
          { expr: `sum(increase(${sel(productsPushedTotal)}[${PER_DAY}]))`, legend: "pushed" },
        ],
      }),
      panel(new TimeseriesBuilder(), {
        title: "Average review time (per day)",
        description: "Mean time from in_review to the reviewer's decision, over each day, by decision.",
        unit: "s",
        interval: PER_DAY,
        queries: [
          {
            expr: `sum by (decision) (increase(${sum(productReviewDuration)}[${PER_DAY}])) / sum by (decision) (increase(${count(productReviewDuration)}[${PER_DAY}]))`,
            legend: "{{decision}}",
          },
        ],
      }),
    ],
  });
}
