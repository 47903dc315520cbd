/** Shared helpers for the monitoring tests: real binaries, temp dirs, PromQL analysis. */
import { execFile } from "node:child_process";
import { mkdtemp, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { parser } from "@prometheus-io/lezer-promql";
import { APP_METRICS } from "../../services/metrics.js";
import { EXPORTER_METRICS } from "../../services/metrics-exporters.js";
import type { MetricDef } from "../../services/metric-def.js";
import { histogramSeries } from "../../services/metric-def.js";
import type { EnvironmentModel } from "../../model/environments.js";
import { ruleGroups } from "../../alerts/rules/index.js";

const execFileP = promisify(execFile);
/** lezer's SyntaxNode, without depending on @lezer/common directly. */
type SyntaxNode = ReturnType<typeof parser.parse>["topNode"];

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a binary without a shell; never throws on a non-zero exit. */
export async function run(bin: string, args: readonly string[], opts: { cwd?: string } = {}): Promise<RunResult> {
  try {
    const { stdout, stderr } = await execFileP(bin, [...args], { cwd: opts.cwd, maxBuffer: 32 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : 1, stdout: e.stdout ?? "", stderr: e.stderr ?? String(err) };
  }
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `${prefix}-`));
}

export async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    const file = join(dir, path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, content);
  }
}

/** Series name -> the declaration it comes from and whether it behaves as a counter. */
export interface DeclaredSeries {
  readonly metric: MetricDef | undefined;
  readonly counter: boolean;
}

/** Every series name a query may use: catalog metrics, histogram series and recording rules. */
export function declaredSeries(env: EnvironmentModel): Map<string, DeclaredSeries> {
  const out = new Map<string, DeclaredSeries>();
  for (const m of [...APP_METRICS, ...EXPORTER_METRICS] as readonly MetricDef[]) {
    if (m.type === "histogram") {
      const s = histogramSeries(m);
      out.set(s.bucket, { metric: m, counter: true });
      out.set(s.count, { metric: m, counter: true });
      out.set(s.sum, { metric: m, counter: true });
    } else {
      out.set(m.name, { metric: m, counter: m.type === "counter" });
    }
  }
  for (const g of ruleGroups(env)) for (const r of g.rules) if ("record" in r) out.set(r.record, { metric: undefined, counter: false });
  return out;
}

export interface PromqlAnalysis {
  readonly syntaxErrors: string[];
  readonly metricNames: string[];
  /** Counters used outside rate/irate/increase. */
  readonly bareCounters: string[];
  /** Range of each matrix selector, with the function that consumes it. */
  readonly ranges: { fn: string; range: string }[];
}

const RATE_FUNCTIONS = new Set(["rate", "irate", "increase"]);

function functionOf(matrix: SyntaxNode, src: string): string {
  const body = matrix.parent;
  const call = body?.parent;
  if (!body || body.type.name !== "FunctionCallBody" || !call || call.type.name !== "FunctionCall") return "";
  const ident = call.getChild("FunctionIdentifier");
  return ident ? src.slice(ident.from, ident.to) : "";
}

/** Parses one PromQL expression with the real Prometheus grammar (lezer-promql). */
export function analysePromql(expr: string, declared: Map<string, DeclaredSeries>): PromqlAnalysis {
  const tree = parser.parse(expr);
  const syntaxErrors: string[] = [];
  const metricNames: string[] = [];
  const bareCounters: string[] = [];
  const ranges: { fn: string; range: string }[] = [];
  tree.iterate({
    enter: (ref) => {
      const node = ref.node;
      if (node.type.isError) syntaxErrors.push(`syntax error at ${node.from}: "${expr.slice(Math.max(0, node.from - 20), node.to + 20)}"`);
      if (node.type.name === "VectorSelector") {
        const ident = node.getChild("Identifier");
        if (!ident) return;
        const name = expr.slice(ident.from, ident.to);
        metricNames.push(name);
        if (declared.get(name)?.counter) {
          const matrix = node.parent;
          const fn = matrix && matrix.type.name === "MatrixSelector" ? functionOf(matrix, expr) : "";
          if (!RATE_FUNCTIONS.has(fn)) bareCounters.push(name);
        }
      }
      if (node.type.name === "MatrixSelector") {
        const text = expr.slice(node.from, node.to);
        const m = /\[([^\]]+)\]\s*$/.exec(text);
        ranges.push({ fn: functionOf(node, expr), range: m?.[1] ?? "" });
      }
    },
  });
  return { syntaxErrors, metricNames, bareCounters, ranges };
}

/** Metric names in an expression that the catalog does not declare. */
export function undeclared(analysis: PromqlAnalysis, declared: Map<string, DeclaredSeries>): string[] {
  return analysis.metricNames.filter((n) => !declared.has(n));
}

/** Stands in for $__rate_interval so the grammar accepts it and the linter can still recognise it. */
export const RATE_INTERVAL_SENTINEL = "7777s";
/** Grafana's range variables, replaced by durations the grammar accepts. */
export const grafanaToPromql = (expr: string): string =>
  expr.replaceAll("$__rate_interval", RATE_INTERVAL_SENTINEL).replaceAll("$__range", "1d").replaceAll("$__interval", "1m");

/** Whether a subtree calls rate(), irate() or increase(). */
function callsRate(node: SyntaxNode, src: string): boolean {
  let found = false;
  const cursor = node.cursor();
  const end = node.to;
  do {
    if (cursor.from >= end) break;
    if (cursor.type.name === "FunctionIdentifier" && RATE_FUNCTIONS.has(src.slice(cursor.from, cursor.to))) found = true;
  } while (!found && cursor.next() && cursor.from < end);
  return found;
}

/** Every division of a rate by a rate in an expression (an event ratio), as source text. */
export function ratiosOfRates(expr: string): string[] {
  const out: string[] = [];
  parser.parse(expr).iterate({
    enter: (ref) => {
      const node = ref.node;
      if (node.type.name !== "BinaryExpr" || !node.getChild("Div")) return;
      const left = node.firstChild;
      const right = node.lastChild;
      if (left && right && callsRate(left, expr) && callsRate(right, expr)) out.push(expr.slice(node.from, node.to));
    },
  });
  return out;
}
