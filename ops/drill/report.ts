/** The drill's report as people read it in a Job's log, and as one JSON line for machines. */
import type { TableComparison } from "../backup/manifest.js";
import type { SmokeCheck } from "./api-smoke.js";

export const seconds = (s: number): string => (s < 60 ? `${s.toFixed(1)} s` : s < 3600 ? `${(s / 60).toFixed(1)} min` : `${(s / 3600).toFixed(2)} h`);
export const mebibytes = (b: number): string => `${(b / 1024 / 1024).toFixed(2)} MiB`;

export interface ReportLines {
  readonly ok: boolean;
  /** label -> text, printed in order. */
  readonly facts: readonly (readonly [string, string])[];
  readonly tables: readonly TableComparison[];
  readonly smoke: readonly SmokeCheck[];
  readonly problems: readonly string[];
}

export function formatReport(r: ReportLines, title = "restore drill"): string {
  const lines = [`${title}: ${r.ok ? "OK" : "FAILED"}`];
  const width = Math.max(...r.facts.map(([k]) => k.length));
  for (const [k, v] of r.facts) lines.push(`  ${k.padEnd(width)}  ${v}`);
  if (r.tables.length > 0) {
    const nameWidth = Math.max(5, ...r.tables.map((t) => t.table.length));
    lines.push("", `  ${"table".padEnd(nameWidth)}  ${"source rows".padStart(11)}  ${"restored".padStart(9)}  check`);
    for (const t of r.tables) {
      lines.push(`  ${t.table.padEnd(nameWidth)}  ${String(t.source?.rows ?? "-").padStart(11)}  ${String(t.restored?.rows ?? "-").padStart(9)}  ${t.problem ? `MISMATCH: ${t.problem}` : "rows and checksum match"}`);
    }
    const total = r.tables.reduce((n, t) => n + (t.restored?.rows ?? 0), 0);
    lines.push(`  ${"total".padEnd(nameWidth)}  ${String(r.tables.reduce((n, t) => n + (t.source?.rows ?? 0), 0)).padStart(11)}  ${String(total).padStart(9)}`);
  }
  if (r.smoke.length > 0) {
    lines.push("", "  smoke checks on the restored copy:");
    for (const s of r.smoke) lines.push(`    ${s.ok ? "ok  " : "FAIL"} ${s.name} -> ${s.status}${s.detail ? ` (${s.detail})` : ""}`);
  }
  if (r.problems.length > 0) {
    lines.push("", "  problems:");
    for (const p of r.problems) lines.push(`    - ${p}`);
  }
  return lines.join("\n");
}
