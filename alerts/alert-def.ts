/**
 * The typed alert definition: one object carries the rule, its routing labels, its annotations,
 * the examples promtool must confirm, and the runbook text. Rules, promtool tests and runbooks are
 * all rendered from it, so they cannot drift apart.
 */
import type { Severity, Team } from "./severity.js";
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
}

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
