/**
 * The daily digest's content: what fired and resolved in the window, how long each alert lasted,
 * pages (critical) against warnings, and the noisiest alerts. Only routed severities count
 * (critical and warning; the Watchdog and info alerts are not notifications).
 */
import { SEVERITY } from "../../alerts/severity.js";
import type { AlertEpisode, Window } from "./history.js";

export const DIGEST_SEVERITIES = [SEVERITY.critical, SEVERITY.warning] as const;

export interface AlertTotals {
  readonly alertname: string;
  readonly severity: string;
  readonly episodes: number;
  readonly resolved: number;
  readonly firing: number;
  readonly seconds: number;
  readonly longestSeconds: number;
}

export interface Digest {
  readonly window: Window;
  readonly episodes: readonly AlertEpisode[];
  /** Episodes that began inside the window. */
  readonly fired: number;
  readonly resolved: number;
  readonly stillFiring: number;
  /** Episodes of critical alerts (each one paged, or posted to the incidents channel where nobody is paged). */
  readonly pages: number;
  readonly warnings: number;
  /** Per alert name and severity, noisiest first (most episodes, then longest in total). */
  readonly alerts: readonly AlertTotals[];
}

export const TOP_NOISY = 5;

export function summarize(all: readonly AlertEpisode[], window: Window): Digest {
  const episodes = all.filter((e) => (DIGEST_SEVERITIES as readonly string[]).includes(e.severity));
  const totals = new Map<string, AlertTotals>();
  for (const e of episodes) {
    const key = `${e.alertname}\u0000${e.severity}`;
    const t = totals.get(key) ?? { alertname: e.alertname, severity: e.severity, episodes: 0, resolved: 0, firing: 0, seconds: 0, longestSeconds: 0 };
    totals.set(key, {
      ...t,
      episodes: t.episodes + 1,
      resolved: t.resolved + (e.resolved ? 1 : 0),
      firing: t.firing + (e.resolved ? 0 : 1),
      seconds: t.seconds + e.seconds,
      longestSeconds: Math.max(t.longestSeconds, e.seconds),
    });
  }
  const alerts = [...totals.values()].sort((a, b) => b.episodes - a.episodes || b.seconds - a.seconds || a.alertname.localeCompare(b.alertname));
  return {
    window,
    episodes,
    fired: episodes.filter((e) => !e.startedBefore).length,
    resolved: episodes.filter((e) => e.resolved).length,
    stillFiring: episodes.filter((e) => !e.resolved).length,
    pages: episodes.filter((e) => e.severity === SEVERITY.critical).length,
    warnings: episodes.filter((e) => e.severity === SEVERITY.warning).length,
    alerts,
  };
}
