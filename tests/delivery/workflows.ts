/**
 * The GitHub Actions workflows as data for the tests, and a runner for their shell steps: a step's
 * `run` executed the way a Linux runner executes it (`bash --noprofile --norc -eo pipefail`), with
 * its `env` after `${{ }}` expressions are replaced from a given context, $GITHUB_OUTPUT /
 * $GITHUB_ENV / $GITHUB_PATH / $RUNNER_TEMP files, and stand-ins for the cloud CLIs (aws, kubectl,
 * pulumi, docker) first on the PATH: each records its argv and answers what the test scripts.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDocument } from "yaml";
import { REPO_ROOT } from "./dockerfile.js";

/* eslint-disable @typescript-eslint/no-explicit-any -- workflow files are YAML documents */
export type Json = any;

export interface Step {
  readonly id?: string;
  readonly name?: string;
  readonly uses?: string;
  readonly run?: string;
  readonly if?: string;
  readonly with?: Record<string, Json>;
  readonly env?: Record<string, string>;
}

export interface Job {
  readonly name?: string;
  readonly needs?: string | string[];
  readonly "runs-on"?: string;
  readonly uses?: string;
  readonly with?: Record<string, Json>;
  readonly secrets?: Record<string, string> | "inherit";
  readonly permissions?: Record<string, string> | string;
  readonly concurrency?: { group: string; "cancel-in-progress"?: boolean } | string;
  readonly environment?: string | { name: string; url?: string };
  readonly strategy?: { matrix?: Json };
  readonly services?: Record<string, { image: string }>;
  readonly steps?: Step[];
  readonly env?: Record<string, string>;
  readonly if?: string;
}

export interface Workflow {
  readonly file: string;
  readonly text: string;
  readonly doc: { name?: string; on: Json; permissions?: Json; concurrency?: Json; env?: Record<string, string>; jobs: Record<string, Job> };
}

export const WORKFLOWS_DIR = join(REPO_ROOT, ".github/workflows");

export function loadWorkflow(file: string): Workflow {
  const text = readFileSync(join(WORKFLOWS_DIR, file), "utf8");
  const document = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (document.errors.length > 0) throw new Error(`${file}: ${document.errors.map((e) => e.message).join("; ")}`);
  return { file, text, doc: document.toJS() as Workflow["doc"] };
}

export function workflowFiles(): string[] {
  return readdirSync(WORKFLOWS_DIR).filter((f) => /\.ya?ml$/.test(f)).sort();
}

export const needsOf = (job: Job): string[] => (job.needs === undefined ? [] : Array.isArray(job.needs) ? job.needs : [job.needs]);

/** Every job a job waits for, directly or through others. */
export function transitiveNeeds(jobs: Record<string, Job>, id: string, seen = new Set<string>()): Set<string> {
  for (const n of needsOf(jobs[id] ?? {})) {
    if (!seen.has(n)) {
      seen.add(n);
      transitiveNeeds(jobs, n, seen);
    }
  }
  return seen;
}

/** `${{ expr }}` replaced by context[expr] (trimmed); an expression the context lacks fails. */
export function substitute(value: string, context: Record<string, string>): string {
  return value.replace(/\$\{\{\s*(.*?)\s*\}\}/g, (_m, expr: string) => {
    if (!(expr in context)) throw new Error(`no value for \${{ ${expr} }} in the test's context`);
    return context[expr]!;
  });
}

export function findStep(job: Job, idOrName: string): Step {
  const step = (job.steps ?? []).find((s) => s.id === idOrName || s.name === idOrName);
  if (!step) throw new Error(`no step ${idOrName}`);
  return step;
}

export interface StepRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Each stand-in's argv, in call order: "aws s3 sync ...". */
  readonly calls: string[];
  readonly outputs: Record<string, string>;
  readonly githubEnv: string;
  readonly runnerTemp: string;
}

export interface StepOptions {
  readonly context?: Record<string, string>;
  readonly env?: Record<string, string>;
  /** Stand-ins: command name -> bash that decides what it prints and returns ("$*" is its argv). */
  readonly fakes?: Record<string, string>;
  readonly cwd?: string;
}

const stepDirs: string[] = [];

/** Removes the directories the step runs used (their RUNNER_TEMP included): call it in afterAll. */
export function cleanupStepDirs(): void {
  for (const d of stepDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Runs a `run` script as a step (or a script file's text), with stand-ins for the cloud CLIs. */
export function runScript(script: string, stepEnv: Record<string, string> = {}, opts: StepOptions = {}): StepRun {
  const dir = mkdtempSync(join(tmpdir(), "workflow-step-"));
  stepDirs.push(dir);
  {
    const bin = join(dir, "bin");
    const temp = join(dir, "runner-temp");
    mkdirSync(bin);
    mkdirSync(temp);
    const log = join(dir, "calls.log");
    writeFileSync(log, "");
    for (const [name, body] of Object.entries(opts.fakes ?? {})) {
      const file = join(bin, name);
      writeFileSync(file, `#!/usr/bin/env bash\nprintf '%s\\n' "${name} $*" >> "$FAKE_CALLS"\n${body}\n`);
      chmodSync(file, 0o755);
    }
    const files = { GITHUB_OUTPUT: join(dir, "output"), GITHUB_ENV: join(dir, "env"), GITHUB_PATH: join(dir, "path") };
    for (const f of Object.values(files)) writeFileSync(f, "");
    const env = Object.fromEntries(Object.entries(stepEnv).map(([k, v]) => [k, substitute(String(v), opts.context ?? {})]));
    const scriptFile = join(dir, "step.sh");
    writeFileSync(scriptFile, script);
    const result = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", scriptFile], {
      cwd: opts.cwd ?? REPO_ROOT,
      encoding: "utf8",
      env: { PATH: `${bin}:${process.env["PATH"]}`, HOME: dir, FAKE_CALLS: log, RUNNER_TEMP: temp, ...files, ...opts.env, ...env },
      timeout: 60_000,
    });
    const outputs = Object.fromEntries(
      readFileSync(files.GITHUB_OUTPUT, "utf8")
        .split("\n")
        .filter((l) => l.includes("="))
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
    return {
      code: result.status,
      stdout: result.stdout,
      stderr: result.stderr,
      calls: readFileSync(log, "utf8").split("\n").filter(Boolean),
      outputs,
      githubEnv: readFileSync(files.GITHUB_ENV, "utf8"),
      runnerTemp: temp,
    };
  }
}

/** Runs a workflow step's `run` with its own `env`. */
export function runStep(step: Step, opts: StepOptions = {}): StepRun {
  if (!step.run) throw new Error(`step ${step.id ?? step.name} has no run`);
  return runScript(step.run, step.env ?? {}, opts);
}
