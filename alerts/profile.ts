/**
 * Rendering profiles: the production rules and routing, with their time scale changed for a run
 * on one machine (`npm run synth -- --env dev --profile local`, `npm run platform:local`, the
 * e2e suite). A profile is a pure function over what the renderers already produced:
 *   - every `for:` and every duration inside an expression (range windows, subquery ranges and
 *     steps, offsets) is divided by ONE factor; the rewriting works on the lezer-promql parse
 *     tree, so a number that is not a duration (a threshold, `* 60`) is never touched;
 *   - Alertmanager's group_wait, group_interval and repeat_interval, on every route, by the same
 *     factor;
 *   - short scrape and evaluation intervals for the local Prometheus.
 * Expressions, labels and annotations stay identical otherwise (tests/monitoring/profile.test.ts
 * compares both parse trees). Production never uses a profile.
 */
import { parser } from "@prometheus-io/lezer-promql";
import type { AlertmanagerConfig, AlertmanagerRoute } from "./alertmanager-types.js";
import type { RuleGroup } from "./rule-types.js";

export interface TimingProfile {
  readonly name: string;
  /** Every duration in rules and routing is divided by this. */
  readonly factor: number;
  /** Prometheus global scrape_interval and evaluation_interval for this profile. */
  readonly scrapeInterval: string;
  readonly evaluationInterval: string;
}

/**
 * One hour of production time is one minute locally: `for: 5m` becomes 5s, `rate(x[5m])` becomes
 * `rate(x[5s])` (five 1-second scrapes: at 40 requests/s about 180 requests, enough to tell 3% from
 * 6% errors), the 15-minute backlog warning 15s, group_wait 30s becomes 500ms, so the whole e2e
 * suite, with its two-minute soak, fits 10 minutes.
 */
export const LOCAL_PROFILE: TimingProfile = { name: "local", factor: 60, scrapeInterval: "1s", evaluationInterval: "1s" };

export const PROFILES = { local: LOCAL_PROFILE } as const satisfies Record<string, TimingProfile>;
export type ProfileName = keyof typeof PROFILES;

export function parseProfile(value: string | undefined): TimingProfile | undefined {
  if (value === undefined) return undefined;
  const p = (PROFILES as Record<string, TimingProfile>)[value];
  if (!p) throw new Error(`unknown profile "${value}": valid profiles are ${Object.keys(PROFILES).join(", ")}`);
  return p;
}

// ---- durations ---------------------------------------------------------------------------

const UNIT_MS = { y: 365 * 86_400_000, w: 7 * 86_400_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 } as const;
const DURATION = /^((\d+)y)?((\d+)w)?((\d+)d)?((\d+)h)?((\d+)m)?((\d+)s)?((\d+)ms)?$/;

/** Milliseconds of a Prometheus duration such as `1h30m`, `500ms` or `3d`. */
export function durationMs(text: string): number {
  const m = DURATION.exec(text);
  if (!m || text === "") throw new Error(`not a Prometheus duration: "${text}"`);
  const units = [UNIT_MS.y, UNIT_MS.w, UNIT_MS.d, UNIT_MS.h, UNIT_MS.m, UNIT_MS.s, UNIT_MS.ms];
  return units.reduce((sum, unit, i) => sum + Number(m[2 + 2 * i] ?? 0) * unit, 0);
}

/** The canonical Prometheus spelling of a duration in ms (largest units first: 72m -> 1h12m). */
export function formatDuration(ms: number): string {
  if (!Number.isInteger(ms) || ms <= 0) throw new Error(`cannot render ${ms} ms as a Prometheus duration`);
  let rest = ms;
  let out = "";
  for (const [unit, size] of [["d", UNIT_MS.d], ["h", UNIT_MS.h], ["m", UNIT_MS.m], ["s", UNIT_MS.s], ["ms", UNIT_MS.ms]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out;
}

/** A duration divided by the factor, rounded to whole milliseconds (never below 1 ms). */
export function scaleDuration(text: string, factor: number): string {
  return formatDuration(Math.max(1, Math.round(durationMs(text) / factor)));
}

// ---- PromQL ------------------------------------------------------------------------------

/** The lezer-promql node that holds a duration literal (ranges, subquery range/step, offsets). */
export const DURATION_NODE = "NumberDurationLiteralInDurationContext";

/** Every duration literal in an expression, with its position, found on the parse tree. */
export function durationLiterals(expr: string): { from: number; to: number; text: string }[] {
  const tree = parser.parse(expr);
  const out: { from: number; to: number; text: string }[] = [];
  tree.iterate({
    enter: (n) => {
      if (n.type.isError) throw new Error(`PromQL syntax error at ${n.from} in: ${expr}`);
      if (n.type.name === DURATION_NODE) out.push({ from: n.from, to: n.to, text: expr.slice(n.from, n.to) });
    },
  });
  return out;
}

/** The expression with every duration literal divided by the factor; everything else verbatim. */
export function scalePromql(expr: string, factor: number): string {
  let out = expr;
  // Back to front, so earlier positions stay valid.
  for (const d of durationLiterals(expr).reverse()) out = out.slice(0, d.from) + scaleDuration(d.text, factor) + out.slice(d.to);
  return out;
}

// ---- rules and routing -------------------------------------------------------------------

export function scaleRuleGroups(groups: readonly RuleGroup[], factor: number): RuleGroup[] {
  return groups.map((g) => ({
    ...g,
    ...(g.interval ? { interval: scaleDuration(g.interval, factor) } : {}),
    rules: g.rules.map((r) => ({
      ...r,
      expr: scalePromql(r.expr, factor),
      ...("alert" in r && r.for ? { for: scaleDuration(r.for, factor) } : {}),
    })),
  }));
}

const ROUTE_TIMINGS = ["group_wait", "group_interval", "repeat_interval"] as const;

function scaleRoute(route: AlertmanagerRoute, factor: number): AlertmanagerRoute {
  const out: AlertmanagerRoute = { ...route };
  for (const key of ROUTE_TIMINGS) {
    const v = route[key];
    if (v !== undefined) out[key] = v === "0s" ? v : scaleDuration(v, factor);
  }
  if (route.routes) out.routes = route.routes.map((r) => scaleRoute(r, factor));
  return out;
}

/** The Alertmanager config with every route's group_wait/group_interval/repeat_interval scaled. */
export function scaleAlertmanagerConfig(config: AlertmanagerConfig, factor: number): AlertmanagerConfig {
  return { ...config, route: scaleRoute(config.route, factor) };
}

/** Applies a profile to what the renderers produced. */
export function applyProfile(profile: TimingProfile, rendered: { groups: readonly RuleGroup[]; alertmanager: AlertmanagerConfig }) {
  return { groups: scaleRuleGroups(rendered.groups, profile.factor), alertmanager: scaleAlertmanagerConfig(rendered.alertmanager, profile.factor) };
}
