/**
 * How prometheus/cloudwatch_exporter names what it exports (its CloudWatchCollector): the metric
 * `safeName(lowercase(namespace) + "_" + snake(metric)) + "_" + snake(statistic)` and one label per
 * dimension, `safeLabelName(snake(dimension))`, where snake inserts `_` between a lower-case letter
 * or digit and an upper-case letter and lower-cases the result (AWS/RDS ReplicaLag Maximum by
 * DBInstanceIdentifier -> aws_rds_replica_lag_maximum{dbinstance_identifier}). Pure: infra (the
 * exporter's config) and services (the metric catalog) both read it.
 */

type Digit = "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9";
type IsLowerOrDigit<C extends string> = C extends Digit ? true : C extends Lowercase<C> ? (C extends Uppercase<C> ? false : true) : false;
type IsUpper<C extends string> = C extends Uppercase<C> ? (C extends Lowercase<C> ? false : true) : false;

/** The exporter's snake case at the type level (ASCII letters and digits), so a label name derived from a dimension keeps its literal type. */
export type CloudWatchSnake<S extends string, Prev extends string = ""> = S extends `${infer C}${infer Rest}`
  ? `${IsLowerOrDigit<Prev> extends true ? (IsUpper<C> extends true ? "_" : "") : ""}${Lowercase<C>}${CloudWatchSnake<Rest, C>}`
  : "";

const snake = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
const safeName = (s: string) => s.replace(/[^a-zA-Z0-9:_]/g, "_").replace(/__+/g, "_");
const safeLabelName = (s: string) => s.replace(/[^a-zA-Z0-9_]/g, "_").replace(/__+/g, "_");

/** The Prometheus name of a CloudWatch metric's statistic (Sum, SampleCount, Minimum, Maximum, Average). */
export function cloudwatchPrometheusName(namespace: string, metric: string, statistic: string): string {
  return `${safeName(`${namespace.toLowerCase()}_${snake(metric)}`)}_${snake(statistic)}`;
}

/** The label a CloudWatch dimension becomes. */
export function cloudwatchLabelName<const D extends string>(dimension: D): CloudWatchSnake<D> {
  return safeLabelName(snake(dimension)) as CloudWatchSnake<D>;
}
