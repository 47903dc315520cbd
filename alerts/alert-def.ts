/**
 * The typed alert definition: one object carries the rule, its routing labels, its annotations,
 * the examples promtool must confirm, and the runbook text. Rules, promtool tests and runbooks are
 * all rendered from it, so they cannot drift apart.
 */
import type { Severity, Team } from "./severity.js";
import type { Incident } from "./incidents.js";
import type { DashboardUid } from "../dashboards/uids.js";

/** One input series for `promtool test rules`: a series selector and its values in expanding notation. */
export interface InputSeries {
  readonly series: string;
  readonly values: string;
}

/** An alert promtool must see firing: the labels the expression yields, and the rendered description. */
export interface ExpectedAlert {
  /** Labels produced by the expression (the rule's static labels are added by the renderer). */
  readonly labels?: Readonly<Record<string, string>>;
  /** The description as it must render, with $value and $labels expanded: written by hand. */
  readonly description: string;
}

/** An example: input series and, at `at`, the alerts that must fire (none = must stay silent). */
export interface AlertExample {
  readonly name: string;
  readonly input: readonly InputSeries[];
  /** Evaluation time, e.g. "15m". */
  readonly at: string;
  readonly fires: readonly ExpectedAlert[];
  /** An "input missing" example: an input series of a critical alert is absent (see MissingInput). */
  readonly missingInput?: boolean;
}

/**
 * The least traffic at which a ratio means anything. Below it the alert stays silent: with ten
 * requests an hour, one error is 10% of them, and nothing anyone should be woken for.
 */
export interface MinimumEvents {
  /** PromQL: the rate, per second, of every event the ratio counts (its denominator) over a window. */
  readonly rate: (window: string) => string;
  /** Below this many events per second over the window the ratio is not judged. */
  readonly perSecond: number;
}

/**
 * What a critical alert does when its input series are missing (an exporter that stopped, a
 * Deployment that was renamed, a CronJob that never succeeded). Silence is never the answer by
 * accident: either this rule fires (it renders absent_over_time() or `or vector(0)`), or the
 * absence means zero and another alert fires for whatever made the series vanish, or the input
 * does not exist in this environment. alerts/README.md lists each decision.
 */
export type MissingInput =
  | { readonly kind: "fires"; readonly decision: string }
  | { readonly kind: "covered"; readonly by: string; readonly decision: string }
  | { readonly kind: "not-deployed"; readonly decision: string };

export interface RunbookContent {
  /** What is happening, in plain words (the summary is printed above it). */
  readonly whatIsHappening: string;
  readonly impact: string;
  /** Extra PromQL queries to run (the alert's own expression is always listed first). */
  readonly queries?: readonly { readonly purpose: string; readonly promql: string }[];
  /** kubectl / psql / aws commands, each with what it shows. */
  readonly commands: readonly { readonly purpose: string; readonly command: string }[];
  readonly mitigation: readonly string[];
  readonly escalation: string;
  /** Procedure pages (runbooks/procedures/<name>.md) worth following. */
  readonly procedures?: readonly string[];
}

export interface AlertDefinition {
  /** CamelCase alert name; the runbook is runbooks/<name lowercased>.md. */
  readonly name: string;
  readonly expr: string;
  readonly for?: string;
  readonly severity: Severity;
  readonly team: Team;
  /** Extra static labels (e.g. slo, window). */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * The incident this alert belongs to: critical alerts that share a cause share an incident and
   * reach PagerDuty as one (alerts/incidents.ts). Required for critical alerts.
   */
  readonly incident?: Incident;
  /**
   * For a ratio: the denominator and the least traffic that makes it meaningful, over `window`.
   * Rendered once, by the rule renderer: `(<expr>) and <rate(window)> > <perSecond>`.
   */
  readonly minEvents?: MinimumEvents & { readonly window: string };
  /** What happens when the input series are missing. Required for critical alerts. */
  readonly missingInput?: MissingInput;
  /** One static sentence ending with a period. */
  readonly summary: string;
  /** Templated with $labels and $value. */
  readonly description: string;
  /** The dashboards to open first; the first one goes into the PagerDuty/Slack link. */
  readonly dashboards: readonly DashboardUid[];
  readonly examples: readonly AlertExample[];
  /**
   * Runbook content. Alerts that share a name (an SLO's page and ticket rules) share one runbook:
   * only the first definition with that name needs to carry it.
   */
  readonly runbook?: RunbookContent;
}

export interface RecordingDefinition {
  readonly record: string;
  readonly expr: string;
  readonly labels?: Readonly<Record<string, string>>;
}

/** A group of alert and recording definitions, rendered as one Prometheus rule group. */
export interface DefinitionGroup {
  readonly name: string;
  readonly interval?: string;
  readonly recordings?: readonly RecordingDefinition[];
  readonly alerts: readonly AlertDefinition[];
  /** Examples for recording rules (promtool promql_expr_test). */
  readonly recordingExamples?: readonly RecordingExample[];
}

export interface RecordingExample {
  readonly name: string;
  readonly input: readonly InputSeries[];
  readonly at: string;
  readonly expr: string;
  readonly expect: readonly { readonly labels: string; readonly value: number }[];
}
