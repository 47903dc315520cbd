/**
 * Registers catalog declarations with prom-client. A process creates one MetricsRegistry
 * and asks it for the prom-client object behind a declaration; the name, help, labels and
 * buckets always come from the declaration itself.
 */
import client from "prom-client";
import type { MetricDef } from "./metric-def.js";

export class MetricsRegistry {
  readonly registry: client.Registry;
  private readonly metrics = new Map<string, client.Metric>();

  constructor(opts: { defaultMetrics?: boolean; prefixLabels?: Record<string, string> } = {}) {
    this.registry = new client.Registry();
    if (opts.prefixLabels) this.registry.setDefaultLabels(opts.prefixLabels);
    if (opts.defaultMetrics) client.collectDefaultMetrics({ register: this.registry });
  }

  counter<L extends string>(def: MetricDef<L>): client.Counter<L> {
    return this.get(def, "counter", () => new client.Counter<L>({ ...this.base(def) }));
  }

  gauge<L extends string>(def: MetricDef<L>, collect?: (g: client.Gauge<L>) => Promise<void> | void): client.Gauge<L> {
    return this.get(def, "gauge", () => {
      const cfg: client.GaugeConfiguration<L> = { ...this.base(def) };
      if (collect) {
        cfg.collect = async function (this: client.Gauge<L>) {
          await collect(this);
        };
      }
      return new client.Gauge<L>(cfg);
    });
  }

  histogram<L extends string>(def: MetricDef<L>): client.Histogram<L> {
    return this.get(def, "histogram", () => new client.Histogram<L>({ ...this.base(def), buckets: [...(def.buckets ?? [])] }));
  }

  /** Prometheus text exposition of every registered metric. */
  async expose(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private base<L extends string>(def: MetricDef<L>) {
    return { name: def.name, help: def.help, labelNames: [...def.labelNames] as L[], registers: [this.registry] };
  }

  private get<M extends client.Metric>(def: MetricDef, type: MetricDef["type"], make: () => M): M {
    if (def.type !== type) throw new Error(`${def.name} is declared as a ${def.type}, not a ${type}`);
    const existing = this.metrics.get(def.name);
    if (existing) return existing as M;
    const m = make();
    this.metrics.set(def.name, m);
    return m;
  }
}
