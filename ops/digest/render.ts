/** The digest email: subject, plain-text body and HTML body, with the same facts in each. */
import type { AlertEpisode } from "./history.js";
import { TOP_NOISY, type Digest } from "./summary.js";

export interface RenderOptions {
  /** The environment's name, in the subject. */
  readonly environment?: string;
  /** The runbook page of an alert, when the environment is known. */
  readonly runbook?: (alertname: string) => string;
}

export function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  return r ? `${m}m ${r}s` : `${m}m`;
}

export const utc = (epochSeconds: number): string => new Date(Math.round(epochSeconds * 1000)).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");

const labelText = (labels: Readonly<Record<string, string>>): string =>
  Object.entries(labels)
    .filter(([k]) => k !== "team")
    .map(([k, v]) => `${k}=${v}`)
    .join(", ");

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function subject(d: Digest, opts: RenderOptions = {}): string {
  const prefix = opts.environment ? `[${opts.environment}] ` : "";
  const day = utc(d.window.now).slice(0, 10);
  const still = d.stillFiring ? `, ${d.stillFiring} still firing` : "";
  return `${prefix}Alert digest ${day}: ${plural(d.pages, "page")}, ${plural(d.warnings, "warning")}${still}`;
}

/** The headline facts, one per line, identical in both bodies. */
export function headline(d: Digest): string[] {
  return [
    `Window: ${utc(d.window.since)} to ${utc(d.window.now)} (${duration(d.window.now - d.window.since)})`,
    `Fired: ${d.fired}   Resolved: ${d.resolved}   Still firing: ${d.stillFiring}`,
    `Pages (critical): ${d.pages}   Warnings: ${d.warnings}`,
  ];
}

const episodeWhen = (e: AlertEpisode): string =>
  `${e.startedBefore ? "already firing" : utc(e.firingFrom)} -> ${e.resolved ? utc(e.until) : "still firing"}`;

export function textBody(d: Digest, opts: RenderOptions = {}): string {
  const lines = [...headline(d), ""];
  if (d.episodes.length === 0) return [...lines, "No critical or warning alert fired in this window.", ""].join("\n");
  const w = Math.max(...d.alerts.map((a) => a.alertname.length));
  lines.push(`Top noisy alerts:`);
  for (const a of d.alerts.slice(0, TOP_NOISY)) lines.push(`  ${a.alertname.padEnd(w)}  ${a.severity.padEnd(8)}  ${plural(a.episodes, "time")}, ${duration(a.seconds)} in total`);
  lines.push("", "Per alert:");
  for (const a of d.alerts) {
    lines.push(`  ${a.alertname.padEnd(w)}  ${a.severity.padEnd(8)}  fired ${plural(a.episodes, "time")}, resolved ${a.resolved}, firing ${a.firing}; ${duration(a.seconds)} in total, longest ${duration(a.longestSeconds)}`);
    if (opts.runbook) lines.push(`  ${"".padEnd(w)}  runbook: ${opts.runbook(a.alertname)}`);
  }
  lines.push("", "Every episode:");
  for (const e of d.episodes) lines.push(`  ${e.alertname} (${e.severity}${labelText(e.labels) ? `; ${labelText(e.labels)}` : ""}): ${episodeWhen(e)}, ${duration(e.seconds)}`);
  return [...lines, ""].join("\n");
}

const esc = (s: string): string => s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");

export function htmlBody(d: Digest, opts: RenderOptions = {}): string {
  const cell = (s: string, tag = "td") => `<${tag} style="padding:2px 8px;text-align:left">${esc(s)}</${tag}>`;
  const name = (alertname: string) => (opts.runbook ? `<a href="${esc(opts.runbook(alertname))}">${esc(alertname)}</a>` : esc(alertname));
  const parts = [`<!doctype html><html><body style="font-family:sans-serif">`, `<h2>${esc(subject(d, opts))}</h2>`, ...headline(d).map((l) => `<p>${esc(l)}</p>`)];
  if (d.episodes.length === 0) parts.push("<p>No critical or warning alert fired in this window.</p>");
  else {
    parts.push("<h3>Per alert (noisiest first)</h3>", "<table>", `<tr>${["Alert", "Severity", "Fired", "Resolved", "Firing", "Total", "Longest"].map((h) => cell(h, "th")).join("")}</tr>`);
    for (const a of d.alerts) {
      parts.push(
        `<tr><td style="padding:2px 8px">${name(a.alertname)}</td>${[a.severity, String(a.episodes), String(a.resolved), String(a.firing), duration(a.seconds), duration(a.longestSeconds)].map((c) => cell(c)).join("")}</tr>`,
      );
    }
    parts.push("</table>", "<h3>Every episode</h3>", "<table>", `<tr>${["Alert", "Severity", "Labels", "From", "Until", "Lasted"].map((h) => cell(h, "th")).join("")}</tr>`);
    for (const e of d.episodes) {
      parts.push(
        `<tr><td style="padding:2px 8px">${name(e.alertname)}</td>${[e.severity, labelText(e.labels), e.startedBefore ? "already firing" : utc(e.firingFrom), e.resolved ? utc(e.until) : "still firing", duration(e.seconds)].map((c) => cell(c)).join("")}</tr>`,
      );
    }
    parts.push("</table>");
  }
  parts.push("</body></html>");
  return parts.join("\n");
}
