/**
 * Tiny helpers to build PromQL and promtool input series from metric declarations, so a metric
 * name is never retyped as a string.
 */
import type { MetricDef } from "../services/metric-def.js";
import { histogramSeries } from "../services/metric-def.js";

/** Labels Prometheus adds at scrape time (target labels), on top of the exporter's own. */
export type TargetLabel = "job" | "instance" | "namespace" | "pod";

type Matchers = Readonly<Record<string, string>>;

function renderMatchers(matchers: Matchers | string | undefined): string {
  if (matchers === undefined) return "";
  if (typeof matchers === "string") return matchers === "" ? "" : `{${matchers}}`;
  const parts = Object.entries(matchers).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return parts.length === 0 ? "" : `{${parts.join(", ")}}`;
}

/** `name{matchers}`: matchers as an object (equality) or a raw matcher list such as `status_code=~"5.."`. */
export function sel(metric: MetricDef, matchers?: Matchers | string): string {
  return `${metric.name}${renderMatchers(matchers)}`;
}

/** The `_bucket` series of a histogram, with matchers. */
export function bucket(metric: MetricDef, matchers?: Matchers | string): string {
  return `${histogramSeries(metric).bucket}${renderMatchers(matchers)}`;
}
export function count(metric: MetricDef, matchers?: Matchers | string): string {
  return `${histogramSeries(metric).count}${renderMatchers(matchers)}`;
}
export function sum(metric: MetricDef, matchers?: Matchers | string): string {
  return `${histogramSeries(metric).sum}${renderMatchers(matchers)}`;
}

/** A promtool input series for a declared metric; label keys are checked against the declaration. */
export function input<L extends string>(
  metric: MetricDef<L>,
  labels: Partial<Record<L | TargetLabel, string>>,
  values: string,
): { series: string; values: string } {
  return { series: `${metric.name}${renderMatchers(labels as Matchers)}`, values };
}

/** Input series for one histogram bucket (and `_count` when le is "+Inf"). */
export function bucketInput<L extends string>(
  metric: MetricDef<L>,
  labels: Partial<Record<L | TargetLabel, string>>,
  le: string,
  values: string,
): { series: string; values: string }[] {
  const s = histogramSeries(metric);
  const out = [{ series: `${s.bucket}${renderMatchers({ ...(labels as Matchers), le })}`, values }];
  if (le === "+Inf") out.push({ series: `${s.count}${renderMatchers(labels as Matchers)}`, values });
  return out;
}

/** The label that marks a series produced by `missing()`: its value is the metric that is absent. */
export const MISSING_LABEL = "missing";

/**
 * 1 when no series of the selector existed during the whole window, with the selector's equality
 * labels and `missing="<metric name>"` (so a description can say what is absent); nothing otherwise.
 * Only equality matchers survive absent_over_time(), so select the series by equality.
 */
export function missing(metric: MetricDef, matchers: Matchers | undefined, window: string): string {
  return `label_replace(absent_over_time(${sel(metric, matchers)}[${window}]), "${MISSING_LABEL}", "${metric.name}", "", "")`;
}
