import { describe, expect, it } from "vitest";
import { defineMetric } from "../../services/metric-def.js";
import { MetricsRegistry } from "../../services/metrics-registry.js";
import { APP_METRICS, jobsRetriesTotal, productsByStatus } from "../../services/metrics.js";

describe("the metric catalog", () => {
  it("declares each metric name once", () => {
    const names = APP_METRICS.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it("registers every declaration with prom-client exactly as declared", async () => {
    const reg = new MetricsRegistry();
    for (const def of APP_METRICS) {
      if (def.type === "counter") reg.counter(def);
      else if (def.type === "gauge") reg.gauge(def);
      else if (def.type === "histogram") reg.histogram(def);
    }
    const text = (await reg.expose()).body;
    for (const def of APP_METRICS) {
      expect(text).toContain(`# HELP ${def.name} ${def.help}`);
      expect(text).toContain(`# TYPE ${def.name} ${def.type}`);
    }
  });

  it("refuses to register a declaration as another type, and returns one object per name", () => {
    const reg = new MetricsRegistry();
    expect(() => reg.gauge(jobsRetriesTotal as never)).toThrow(/declared as a counter/);
    expect(reg.counter(jobsRetriesTotal)).toBe(reg.counter(jobsRetriesTotal));
    expect(reg.gauge(productsByStatus)).toBe(reg.gauge(productsByStatus));
  });

  it("rejects counters without _total and invalid names", () => {
    expect(() => defineMetric({ name: "jobs_done", help: "x", type: "counter", labelNames: [], source: "worker" })).toThrow(/_total/);
    expect(() => defineMetric({ name: "jobs-done", help: "x", type: "gauge", labelNames: [], source: "worker" })).toThrow(/invalid/);
  });
});
