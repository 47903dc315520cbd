/**
 * Service level objectives and the multi-window, multi-burn-rate alerts generated from them
 * (Google SRE workbook, chapter 5; the same shape Sloth and Pyrra generate):
 *   page:   1h/5m at 14.4x  or  6h/30m at 6x
 *   ticket: 1d/2h at 3x     or  3d/6h at 1x
 * Each SLO records its error ratio per window as `slo:sli_error:ratio_rate<window>{slo="<name>"}`
 * and its event rate (the ratio's denominator, per second) as `slo:sli_events:rate<window>`; the
 * alerts compare the ratios with burn-rate x error budget, and only while the long window saw at
 * least the SLO's minimum event rate (one error among ten requests an hour is not a burn).
 */
import type { AlertDefinition, AlertExample, InputSeries, MinimumEvents, MissingInput, RecordingDefinition, RecordingExample, RunbookContent } from "./alert-def.js";
import type { Incident } from "./incidents.js";
import type { Severity } from "./severity.js";
import { SEVERITY, TEAMS } from "./severity.js";
import type { DashboardUid } from "../dashboards/uids.js";

export interface BurnRateWindow {
  readonly severity: Severity;
  readonly long: string;
  readonly short: string;
  readonly factor: number;
}

export const BURN_RATE_WINDOWS: readonly BurnRateWindow[] = [
  { severity: SEVERITY.critical, long: "1h", short: "5m", factor: 14.4 },
  { severity: SEVERITY.critical, long: "6h", short: "30m", factor: 6 },
  { severity: SEVERITY.warning, long: "1d", short: "2h", factor: 3 },
  { severity: SEVERITY.warning, long: "3d", short: "6h", factor: 1 },
];

/** How long a burn condition must hold before it notifies, per severity. */
export const BURN_RATE_FOR: Readonly<Partial<Record<Severity, string>>> = { critical: "2m", warning: "15m" };

/** Every window an SLO records (the union of long and short windows). */
export const SLO_WINDOWS: readonly string[] = [...new Set(BURN_RATE_WINDOWS.flatMap((w) => [w.short, w.long]))];

export const sliErrorRecord = (window: string): string => `slo:sli_error:ratio_rate${window}`;
export const sliEventsRecord = (window: string): string => `slo:sli_events:rate${window}`;

/** An example traffic pattern for an SLO: input series with a given share of bad events. */
export interface SloTraffic {
  readonly input: readonly InputSeries[];
  /** The description as it must render for this traffic (hand-computed). */
  readonly description?: string;
}

export interface SloDefinition {
  /** The `slo` label value, e.g. api-availability. */
  readonly name: string;
  readonly alertName: string;
  /** Target share of good events, e.g. 0.999. */
  readonly objective: number;
  readonly summary: string;
  readonly description: string;
  /** PromQL for the share of bad events over a window (a sum over a sum). */
  readonly errorRatio: (window: string) => string;
  /** The denominator of errorRatio and the least event rate at which a burn counts. */
  readonly minEvents: MinimumEvents;
  readonly incident: Incident;
  readonly missingInput: MissingInput;
  readonly dashboards: readonly DashboardUid[];
  readonly runbook: RunbookContent;
  /**
   * Traffic burning the budget fast (pages and tickets), slowly (tickets only), and within budget
   * (silent); one bad event at very low traffic (silent: below minEvents), and the same ratio at
   * normal traffic (pages and tickets).
   */
  readonly examples: {
    readonly fastBurn: SloTraffic;
    readonly slowBurn: SloTraffic;
    readonly withinBudget: SloTraffic;
    readonly oneBadEventAtLowTraffic: SloTraffic;
    readonly sameRatioAtNormalTraffic: SloTraffic;
  };
  /** Steady traffic and the error ratio every window must record (promtool promql_expr_test compares floats
   * exactly, so pick ratios exact in binary, such as 0.25 or 0.5). */
  readonly recordingExample: { readonly input: readonly InputSeries[]; readonly ratio: number };
}

export function errorBudget(slo: SloDefinition): number {
  return Number((1 - slo.objective).toPrecision(12));
}

export function sloRecordings(slo: SloDefinition): RecordingDefinition[] {
  return SLO_WINDOWS.flatMap((w) => [
    { record: sliErrorRecord(w), expr: slo.errorRatio(w), labels: { slo: slo.name } },
    { record: sliEventsRecord(w), expr: slo.minEvents.rate(w), labels: { slo: slo.name } },
  ]);
}

/** Both windows burn faster than the factor allows, and the long window saw enough events to judge. */
function burnCondition(slo: SloDefinition, w: BurnRateWindow): string {
  const threshold = Number((w.factor * errorBudget(slo)).toPrecision(12));
  const s = (record: string) => `${record}{slo="${slo.name}"}`;
  return `(${s(sliErrorRecord(w.long))} > ${threshold} and ${s(sliErrorRecord(w.short))} > ${threshold} and ${s(sliEventsRecord(w.long))} > ${slo.minEvents.perSecond})`;
}

export function sloAlerts(slo: SloDefinition): AlertDefinition[] {
  const severities = [...new Set(BURN_RATE_WINDOWS.map((w) => w.severity))];
  const sloLabel = { slo: slo.name };
  const fast = slo.examples.fastBurn;
  const slow = slo.examples.slowBurn;
  const examples: AlertExample[] = [
    {
      name: "fast burn pages and tickets",
      at: "70m",
      input: fast.input,
      fires: [
        { labels: { ...sloLabel, severity: SEVERITY.critical }, description: fast.description ?? "" },
        { labels: { ...sloLabel, severity: SEVERITY.warning }, description: fast.description ?? "" },
      ],
    },
    { name: "slow burn only tickets", at: "70m", input: slow.input, fires: [{ labels: { ...sloLabel, severity: SEVERITY.warning }, description: slow.description ?? "" }] },
    { name: "within budget stays silent", at: "70m", input: slo.examples.withinBudget.input, fires: [] },
    { name: "one error at very low traffic stays silent", at: "70m", input: slo.examples.oneBadEventAtLowTraffic.input, fires: [] },
    {
      name: "the same ratio at normal traffic fires (page and ticket)",
      at: "70m",
      input: slo.examples.sameRatioAtNormalTraffic.input,
      fires: [
        { labels: { ...sloLabel, severity: SEVERITY.critical }, description: slo.examples.sameRatioAtNormalTraffic.description ?? "" },
        { labels: { ...sloLabel, severity: SEVERITY.warning }, description: slo.examples.sameRatioAtNormalTraffic.description ?? "" },
      ],
    },
  ];
  return severities.map((severity, i) => ({
    name: slo.alertName,
    expr: BURN_RATE_WINDOWS.filter((w) => w.severity === severity)
      .map((w) => burnCondition(slo, w))
      .join(" or "),
    ...(BURN_RATE_FOR[severity] ? { for: BURN_RATE_FOR[severity] } : {}),
    severity,
    team: TEAMS.platform,
    incident: slo.incident,
    ...(severity === SEVERITY.critical ? { missingInput: slo.missingInput } : {}),
    summary: slo.summary,
    description: slo.description,
    dashboards: slo.dashboards,
    // One runbook and one set of examples per alert name: they cover both severities.
    examples: i === 0 ? examples : [],
    ...(i === 0 ? { runbook: slo.runbook } : {}),
  }));
}

/** With steady traffic every window records the same ratio, even windows longer than the data. */
export function sloRecordingExamples(slo: SloDefinition): RecordingExample[] {
  return SLO_WINDOWS.map((w) => ({
    name: `${slo.name} records its ${w} error ratio`,
    input: slo.recordingExample.input,
    at: "10m",
    expr: `${sliErrorRecord(w)}{slo="${slo.name}"}`,
    expect: [{ labels: `${sliErrorRecord(w)}{slo="${slo.name}"}`, value: slo.recordingExample.ratio }],
  }));
}
