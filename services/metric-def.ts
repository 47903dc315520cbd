/**
 * The shape of one metric declaration. Every metric a query may name is declared once
 * with this shape: the service registers exactly the declaration (services/metrics-registry.ts),
 * and dashboards and alert rules reference the same object, so a rename breaks the type-check.
 */
export type MetricType = "counter" | "gauge" | "histogram" | "summary";

/** Who exposes the metric: this repo's processes, or an exporter the platform runs. */
export type MetricSource =
  | "api"
  | "worker"
  | "api+worker"
  | "kube-state-metrics"
  | "node-exporter"
  | "cadvisor"
  | "rabbitmq"
  | "postgres-exporter"
  | "cloudwatch-exporter"
  | "blackbox-exporter"
  | "prometheus"
  | "kubelet";

export interface MetricDef<L extends string = string> {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  readonly labelNames: readonly L[];
  readonly buckets?: readonly number[];
  readonly source: MetricSource;
}

export function defineMetric<const L extends string>(def: MetricDef<L>): MetricDef<L> {
  if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(def.name)) throw new Error(`invalid metric name: ${def.name}`);
  if (def.type === "counter" && !def.name.endsWith("_total")) {
    throw new Error(`counter ${def.name} must end in _total`);
  }
  return def;
}

/** Series names a histogram exposes, for queries: `histogramSeries(m).bucket`. */
export function histogramSeries(def: MetricDef): { bucket: string; sum: string; count: string } {
  if (def.type !== "histogram") throw new Error(`${def.name} is not a histogram`);
  return { bucket: `${def.name}_bucket`, sum: `${def.name}_sum`, count: `${def.name}_count` };
}
