/**
 * What alerted in a time window, from Prometheus's own record of its alerts: the `ALERTS` series
 * (one sample per rule evaluation while an alert is pending or firing) and `ALERTS_FOR_STATE`
 * (the same evaluations, valued with the time the alert became active). Alertmanager only knows
 * what is firing now; these series also hold the alerts that fired and resolved within the day.
 *
 * One raw-sample query per series name over the whole window and LOOKBEHIND_SECONDS before it
 * (an instant query of a range selector, so no step can skip a short alert; the look-behind tells
 * an alert that was already firing when the window began from one that fired inside it). An episode is a run of firing samples of one
 * label set with the same active-since time (a new activation is a new episode); where that time
 * is missing, a gap of more than 1.5 evaluation intervals ends an episode.
 */
import { z } from "zod";

export interface AlertEpisode {
  readonly alertname: string;
  readonly severity: string;
  /** The alert's labels without alertname, alertstate and severity. */
  readonly labels: Readonly<Record<string, string>>;
  /** First evaluation that saw it firing (seconds since the epoch). */
  readonly firingFrom: number;
  /** Resolution time (the evaluation after the last firing one), or the window's end if still firing. */
  readonly until: number;
  readonly resolved: boolean;
  /** It was already firing when the window began: its duration counts only the part inside the window. */
  readonly startedBefore: boolean;
  readonly seconds: number;
}

export interface Window {
  /** Seconds since the epoch. */
  readonly since: number;
  readonly now: number;
}

/** How far before the window samples are read, to see which episodes began earlier. */
export const LOOKBEHIND_SECONDS = 900;

const matrix = z.object({
  status: z.literal("success"),
  data: z.object({
    resultType: z.literal("matrix"),
    result: z.array(z.object({ metric: z.record(z.string(), z.string()), values: z.array(z.tuple([z.number(), z.string()])) })),
  }),
});
export type Series = z.infer<typeof matrix>["data"]["result"][number];

/** Raw samples of `selector` in (since, now], through /api/v1/query. */
export async function rawSamples(prometheusUrl: string, selector: string, w: Window): Promise<Series[]> {
  const range = Math.max(1, Math.ceil(w.now - w.since));
  const body = new URLSearchParams({ query: `${selector}[${range}s]`, time: String(w.now) });
  const res = await fetch(new URL("/api/v1/query", prometheusUrl), { method: "POST", body, signal: AbortSignal.timeout(60_000) });
  const text = await res.text();
  if (!res.ok) throw new Error(`Prometheus answered ${res.status} to ${selector}: ${text.slice(0, 500)}`);
  const parsed = matrix.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`unexpected answer from Prometheus to ${selector}: ${text.slice(0, 500)}`);
  return parsed.data.data.result;
}

const IGNORED = new Set(["__name__", "alertstate"]);
function seriesKey(metric: Readonly<Record<string, string>>): string {
  return JSON.stringify(
    Object.entries(metric)
      .filter(([k]) => !IGNORED.has(k))
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

/** The rule evaluation interval: the most common spacing of consecutive samples (60 s if nothing tells). */
export function evaluationInterval(series: readonly Series[]): number {
  const counts = new Map<number, number>();
  for (const s of series) {
    for (let i = 1; i < s.values.length; i++) {
      const d = Math.round((s.values[i]![0] - s.values[i - 1]![0]) * 1000) / 1000;
      if (d > 0) counts.set(d, (counts.get(d) ?? 0) + 1);
    }
  }
  let best = 60;
  let bestCount = 0;
  for (const [d, n] of counts) if (n > bestCount || (n === bestCount && d < best)) [best, bestCount] = [d, n];
  return best;
}

/** Splits firing samples (which may begin before the window) into the episodes that overlap the window. */
export function episodesFrom(firing: readonly Series[], forState: readonly Series[], w: Window, interval = evaluationInterval([...firing, ...forState])): AlertEpisode[] {
  const activeAt = new Map<string, Map<number, string>>();
  for (const s of forState) {
    const byTime = new Map<number, string>();
    for (const [t, v] of s.values) byTime.set(t, v);
    activeAt.set(seriesKey(s.metric), byTime);
  }
  const out: AlertEpisode[] = [];
  for (const s of firing) {
    const key = seriesKey(s.metric);
    const since = activeAt.get(key);
    const { alertname = "", severity = "", ...rest } = Object.fromEntries(Object.entries(s.metric).filter(([k]) => !IGNORED.has(k)));
    const close = (first: number, last: number) => {
      const resolved = last < w.now - 1.5 * interval;
      const until = resolved ? last + interval : w.now;
      if (until <= w.since) return; // over before the window began
      out.push({ alertname, severity, labels: rest, firingFrom: first, until, resolved, startedBefore: first <= w.since, seconds: until - Math.max(first, w.since) });
    };
    const values = [...s.values].sort((a, b) => a[0] - b[0]);
    let first: number | undefined;
    let last = 0;
    let active: string | undefined;
    for (const [t] of values) {
      const a = since?.get(t);
      const newEpisode = first === undefined || (a !== undefined && active !== undefined ? a !== active : t - last > 1.5 * interval);
      if (newEpisode) {
        if (first !== undefined) close(first, last);
        first = t;
        active = a;
      }
      last = t;
      if (a !== undefined) active = a;
    }
    if (first !== undefined) close(first, last);
  }
  return out.sort((a, b) => a.firingFrom - b.firingFrom || a.alertname.localeCompare(b.alertname));
}

/** Every firing episode in the window. */
export async function alertHistory(prometheusUrl: string, w: Window): Promise<{ episodes: AlertEpisode[]; interval: number }> {
  const read = { since: w.since - LOOKBEHIND_SECONDS, now: w.now };
  const [firing, forState] = await Promise.all([rawSamples(prometheusUrl, 'ALERTS{alertstate="firing"}', read), rawSamples(prometheusUrl, "ALERTS_FOR_STATE", read)]);
  const interval = evaluationInterval([...firing, ...forState]);
  return { episodes: episodesFrom(firing, forState, w, interval), interval };
}
