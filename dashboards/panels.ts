/**
 * Shared dashboard building blocks: the `datasource` template variable every panel uses,
 * query and panel helpers that enforce title/description/unit, and the assembly that assigns
 * stable panel ids and a grid layout. Conventions (dashboard-linter rules):
 * - every rate/irate/increase uses `$__rate_interval` (RATE), except per-day figures, which use
 *   increase(...[1d]) on purpose (PER_DAY): the range is the bucket size, not a smoothing window;
 * - counters only appear inside rate/irate/increase.
 */
import type * as cog from "@grafana/grafana-foundation-sdk/cog";
import type { DataSourceRef } from "@grafana/grafana-foundation-sdk/common";
import type { GridPos, Panel } from "@grafana/grafana-foundation-sdk/dashboard";
import { DashboardBuilder, DashboardCursorSync, DatasourceVariableBuilder } from "@grafana/grafana-foundation-sdk/dashboard";
import { DataqueryBuilder, PromQueryFormat } from "@grafana/grafana-foundation-sdk/prometheus";
import type { DashboardJson, PanelJson } from "./dashboard-json.js";

/** Name of the single datasource template variable. */
export const DATASOURCE_VARIABLE = "datasource";
export const DATASOURCE: DataSourceRef = { type: "prometheus", uid: `\${${DATASOURCE_VARIABLE}}` };
/** The only range rate/irate/increase may use in panels... */
export const RATE = "$__rate_interval";
/** ...except per-day totals, which use a fixed one-day range with a one-day step. */
export const PER_DAY = "1d";

export interface QuerySpec {
  readonly expr: string;
  readonly legend?: string;
  readonly format?: "time_series" | "table" | "heatmap";
  /** Instant query (tables, pies, bar charts of the current value). */
  readonly instant?: boolean;
}

export interface PanelSpec {
  readonly title: string;
  readonly description: string;
  readonly unit: string;
  readonly queries: readonly QuerySpec[];
  /** Width in grid columns (24 per row); default 12. */
  readonly width?: number;
  readonly height?: number;
  /** Minimum query step, e.g. "1d" for per-day panels. */
  readonly interval?: string;
}

/** What every SDK panel builder offers that we use. */
export interface PanelLike extends cog.Builder<Panel> {
  title(title: string): this;
  description(description: string): this;
  unit(unit: string): this;
  datasource(datasource: DataSourceRef): this;
  withTarget(target: cog.Builder<cog.Dataquery>): this;
  gridPos(gridPos: GridPos): this;
  interval(interval: string): this;
}

const FORMATS: Record<NonNullable<QuerySpec["format"]>, PromQueryFormat> = {
  time_series: PromQueryFormat.TimeSeries,
  table: PromQueryFormat.Table,
  heatmap: PromQueryFormat.Heatmap,
};

function target(q: QuerySpec, index: number): DataqueryBuilder {
  const b = new DataqueryBuilder()
    .datasource(DATASOURCE)
    .refId(String.fromCharCode(65 + index))
    .expr(q.expr)
    .legendFormat(q.legend ?? "__auto");
  if (q.format) b.format(FORMATS[q.format]);
  if (q.instant) b.instant();
  else b.range();
  return b;
}

/** A sized panel: the builder plus its width and height, laid out by `dashboard()`. */
export interface SizedPanel {
  readonly builder: PanelLike;
  readonly width: number;
  readonly height: number;
}

/** Applies the common fields to an SDK panel builder. */
export function panel<B extends PanelLike>(builder: B, spec: PanelSpec): SizedPanel {
  builder.title(spec.title).description(spec.description).unit(spec.unit).datasource(DATASOURCE);
  spec.queries.forEach((q, i) => builder.withTarget(target(q, i)));
  if (spec.interval) builder.interval(spec.interval);
  return { builder, width: spec.width ?? 12, height: spec.height ?? 8 };
}

export interface DashboardSpec {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly panels: readonly SizedPanel[];
}

/** Lays panels out left to right in 24-column rows, builds, and numbers panels 1..n in order. */
export function dashboard(spec: DashboardSpec): DashboardJson {
  const b = new DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags([...spec.tags])
    .readonly()
    .timezone("utc")
    .refresh("1m")
    .tooltip(DashboardCursorSync.Crosshair)
    .time({ from: "now-6h", to: "now" })
    .withVariable(new DatasourceVariableBuilder(DATASOURCE_VARIABLE).label("Data source").type("prometheus"));
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  for (const p of spec.panels) {
    if (x + p.width > 24) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    p.builder.gridPos({ x, y, w: p.width, h: p.height });
    b.withPanel(p.builder);
    x += p.width;
    rowHeight = Math.max(rowHeight, p.height);
  }
  const built = b.build();
  const panels: PanelJson[] = (built.panels ?? []).map((panel, i) => ({ ...(panel as Panel), id: i + 1 }));
  // The SDK's query objects carry methods (_implementsDataqueryVariant): round-trip through JSON
  // so callers get a plain model, identical to what synth writes and infra deploys.
  return JSON.parse(JSON.stringify({ ...built, uid: spec.uid, title: spec.title, panels })) as DashboardJson;
}
