/**
 * The Dockerfiles as data, for the image tests: each parsed with dockerfile-ast into its stages
 * (base, ARGs, ENV, WORKDIR, USER, COPYs, RUNs, LABELs, ENTRYPOINT and CMD, with `${VAR}` resolved
 * the way the builder resolves them), and the final stage's filesystem materialized from what it
 * COPYs, honouring .dockerignore, so the tests can ask "is this file in the image?" and run the
 * image's own command on exactly those files.
 *
 * Materializing emulates the build without a Docker engine: a COPY from the build context copies
 * those files (a missing or ignored source fails, as `docker build` would); a COPY --from a build
 * stage under its WORKDIR /app takes what that stage produced, which on this machine is the
 * worktree after `npm ci` and `npm run prisma:generate` (node_modules is linked, not copied). The
 * one output no machine here can produce, Prisma's downloaded schema engine, is absent, and so are
 * system files copied from a stage outside /app (an apt keyring).
 */
import type { Ignore } from "@balena/dockerignore";
import { DockerfileParser, type Instruction } from "dockerfile-ast";
import { cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, symlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, posix, relative, resolve } from "node:path";

export const REPO_ROOT = resolve(import.meta.dirname, "../..");
// A CommonJS module whose typings declare an ES default export: required, typed by its declaration.
const dockerignore = createRequire(import.meta.url)("@balena/dockerignore") as (options?: { ignorecase?: boolean }) => Ignore;

export interface CopyInstruction {
  readonly line: number;
  /** The build stage named by --from, if any. */
  readonly from: string | undefined;
  readonly sources: readonly string[];
  /** Absolute, resolved against the stage's WORKDIR at that point. */
  readonly dest: string;
  readonly flags: readonly string[];
}

export interface Stage {
  readonly name: string | undefined;
  readonly index: number;
  /** The FROM argument, variables resolved: an image reference or an earlier stage's name. */
  readonly base: string;
  /** The earlier stage this one builds on, if any. */
  readonly baseStage: Stage | undefined;
  readonly instructions: readonly Instruction[];
  /** ARG defaults visible in the stage (global ARGs re-declared in it, and its own). */
  readonly args: Readonly<Record<string, string>>;
  /** ENV set by this stage and the stages it builds on (not the base image's own). */
  readonly env: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly workdir: string;
  /** The last USER, or undefined (root). */
  readonly user: string | undefined;
  readonly runs: readonly string[];
  readonly copies: readonly CopyInstruction[];
  /** Exec-form ENTRYPOINT/CMD as argv; a shell-form one is ["/bin/sh", "-c", <text>]. */
  readonly entrypoint: readonly string[] | undefined;
  readonly cmd: readonly string[] | undefined;
  /** Whether ENTRYPOINT/CMD used the exec (JSON) form. */
  readonly execForm: { readonly entrypoint: boolean; readonly cmd: boolean };
}

export interface ParsedDockerfile {
  readonly path: string;
  readonly text: string;
  /** ARGs declared before the first FROM, with their defaults. */
  readonly globalArgs: Readonly<Record<string, string>>;
  readonly stages: readonly Stage[];
  readonly final: Stage;
  stage(name: string): Stage;
}

/** `${VAR}`, `${VAR:-default}` and `$VAR` resolved against vars; unknown variables become "". */
export function expand(text: string, vars: Readonly<Record<string, string>>): string {
  return text
    .replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_m, name: string, def: string | undefined) => vars[name] ?? def ?? "")
    .replace(/\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, name: string) => vars[name] ?? "");
}

function jsonForm(instruction: Instruction): string[] | undefined {
  const content = instruction.getArgumentsContent()?.trim() ?? "";
  if (!content.startsWith("[")) return undefined;
  try {
    const parsed = JSON.parse(content) as unknown;
    return Array.isArray(parsed) && parsed.every((x) => typeof x === "string") ? (parsed as string[]) : undefined;
  } catch {
    return undefined;
  }
}

function properties(instruction: Instruction): [string, string][] {
  const withProps = instruction as unknown as { getProperties(): { getName(): string; getValue(): string | null }[] };
  return withProps.getProperties().map((p) => [p.getName(), p.getValue() ?? ""]);
}

export function parseDockerfile(file: string): ParsedDockerfile {
  const path = resolve(REPO_ROOT, file);
  const text = readFileSync(path, "utf8");
  const ast = DockerfileParser.parse(text);
  const globalArgs: Record<string, string> = {};
  for (const arg of ast.getInitialARGs()) {
    const p = arg.getProperty();
    if (p) globalArgs[p.getName()] = p.getValue() ?? "";
  }
  const stages: Stage[] = [];
  const all = ast.getInstructions();
  const fromIndexes = all.map((ins, i) => (ins.getKeyword() === "FROM" ? i : -1)).filter((i) => i >= 0);
  fromIndexes.forEach((start, index) => {
    const end = fromIndexes[index + 1] ?? all.length;
    const from = all[start] as unknown as { getImage(): string | null; getBuildStage(): string | null };
    const base = expand(from.getImage() ?? "", globalArgs);
    const baseStage = stages.find((s) => s.name === base);
    const instructions = all.slice(start + 1, end);
    const args: Record<string, string> = {};
    const env: Record<string, string> = { ...(baseStage?.env ?? {}) };
    const labels: Record<string, string> = { ...(baseStage?.labels ?? {}) };
    let workdir = baseStage?.workdir ?? "/";
    let user = baseStage?.user;
    const runs: string[] = [];
    const copies: CopyInstruction[] = [];
    let entrypoint = baseStage?.entrypoint;
    let cmd = baseStage?.cmd;
    const execForm = { entrypoint: baseStage?.execForm.entrypoint ?? true, cmd: baseStage?.execForm.cmd ?? true };
    const vars = () => ({ ...args, ...env });
    for (const ins of instructions) {
      const keyword = ins.getKeyword();
      const content = ins.getArgumentsContent() ?? "";
      switch (keyword) {
        case "ARG":
          for (const [name, value] of properties(ins)) args[name] = value !== "" ? expand(value, vars()) : (globalArgs[name] ?? "");
          break;
        case "ENV":
          for (const [name, value] of properties(ins)) env[name] = expand(value, vars());
          break;
        case "LABEL":
          for (const [name, value] of properties(ins)) labels[name] = expand(value, vars());
          break;
        case "WORKDIR":
          workdir = posix.resolve(workdir, expand(content.trim(), vars()));
          break;
        case "USER":
          user = expand(content.trim(), vars());
          break;
        case "RUN":
          runs.push(content);
          break;
        case "COPY":
        case "ADD": {
          // dockerfile-ast keeps the flags (--from, --chown, ...) apart from the arguments.
          const flagList = (ins as unknown as { getFlags(): { getName(): string; getValue(): string | null }[] }).getFlags();
          const flags = flagList.map((f) => `--${f.getName()}${f.getValue() !== null ? `=${expand(f.getValue()!, vars())}` : ""}`);
          const paths = (jsonForm(ins) ?? ins.getArguments().map((a) => a.getValue())).map((w) => expand(w, vars())).filter((w) => !w.startsWith("--"));
          const fromFlag = flags.find((f) => f.startsWith("--from="))?.slice("--from=".length);
          const destRaw = paths[paths.length - 1] ?? "";
          const dest = posix.resolve(workdir, destRaw) + (destRaw.endsWith("/") ? "/" : "");
          copies.push({ line: ins.getRange().start.line + 1, from: fromFlag, sources: paths.slice(0, -1), dest, flags: keyword === "ADD" ? [...flags, "ADD"] : flags });
          break;
        }
        case "ENTRYPOINT": {
          const argv = jsonForm(ins);
          entrypoint = argv ?? ["/bin/sh", "-c", content];
          execForm.entrypoint = argv !== undefined;
          break;
        }
        case "CMD": {
          const argv = jsonForm(ins);
          cmd = argv ?? ["/bin/sh", "-c", content];
          execForm.cmd = argv !== undefined;
          break;
        }
      }
    }
    stages.push({ name: from.getBuildStage() ?? undefined, index, base, baseStage, instructions, args, env, labels, workdir, user, runs, copies, entrypoint, cmd, execForm });
  });
  const final = stages[stages.length - 1];
  if (!final) throw new Error(`${file}: no FROM`);
  return {
    path,
    text,
    globalArgs,
    stages,
    final,
    stage(name) {
      const s = stages.find((x) => x.name === name);
      if (!s) throw new Error(`${file}: no stage named ${name}`);
      return s;
    },
  };
}

/** The stages a stage builds on, nearest first, ending with the one that starts from an image. */
export function lineage(stage: Stage): Stage[] {
  const out: Stage[] = [];
  for (let s: Stage | undefined = stage; s; s = s.baseStage) out.push(s);
  return out;
}

/** The build context's .dockerignore as a predicate on context-relative paths. */
export function contextFilter(contextDir = REPO_ROOT): (relPath: string) => boolean {
  const file = join(contextDir, ".dockerignore");
  const patterns = existsSync(file) ? readFileSync(file, "utf8").split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#")) : [];
  const ig = dockerignore({ ignorecase: false }).add(patterns);
  return (relPath) => !ig.ignores(relPath);
}

export class BuildError extends Error {}

/** Every file under dir (relative to base), not following symlinked directories. */
function walk(dir: string, base: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) walk(full, base, out);
    else out.push(relative(base, full));
  }
  return out;
}

/**
 * Writes the final stage's filesystem (what its COPYs put there) under root, e.g. <root>/app/...
 * Throws BuildError where `docker build` would fail (a source missing or excluded from the context).
 */
export function materialize(df: ParsedDockerfile, root: string, contextDir = REPO_ROOT): void {
  const included = contextFilter(contextDir);
  const place = (rel: string, sourceFile: string, dest: string) => {
    const target = join(root, dest, rel);
    mkdirSync(dirname(target), { recursive: true });
    cpSync(sourceFile, target, { dereference: false, preserveTimestamps: true });
  };
  for (const copy of df.final.copies) {
    if (copy.sources.some((s) => /[*?[]/.test(s))) throw new BuildError(`${df.path}:${copy.line}: wildcards are not emulated here`);
    const multiple = copy.sources.length > 1 || copy.dest.endsWith("/");
    for (const src of copy.sources) {
      if (copy.from !== undefined) {
        const stage = df.stages.find((s) => s.name === copy.from);
        if (!stage) throw new BuildError(`${df.path}:${copy.line}: --from=${copy.from} names no stage of this file`);
        // System files a stage prepared (an apt keyring) are outside the application tree: not emulated.
        if (!src.startsWith("/app/")) continue;
        const produced = stage.workdir === "/app" ? join(contextDir, src.slice("/app/".length)) : undefined;
        if (!produced || !existsSync(produced)) throw new BuildError(`${df.path}:${copy.line}: ${src} from stage ${copy.from} has no counterpart on this machine`);
        const target = join(root, copy.dest);
        mkdirSync(dirname(target), { recursive: true });
        // The production dependencies are large and already installed here: a link stands in for them.
        if (src === "/app/node_modules") symlinkSync(produced, target);
        else cpSync(produced, target, { recursive: true });
        continue;
      }
      const rel = posix.normalize(src).replace(/^\.\/?/, "");
      const abs = join(contextDir, rel);
      if (!existsSync(abs)) throw new BuildError(`${df.path}:${copy.line}: COPY ${src}: not in the build context`);
      if (!included(rel)) throw new BuildError(`${df.path}:${copy.line}: COPY ${src}: excluded by .dockerignore`);
      if (lstatSync(abs).isDirectory()) {
        for (const file of walk(abs, abs)) {
          if (included(posix.join(rel, file))) place(file, join(abs, file), copy.dest);
        }
      } else {
        place("", abs, multiple ? posix.join(copy.dest, posix.basename(rel)) : copy.dest);
      }
    }
  }
}

/** The argv an image runs for a container: Kubernetes' command replaces ENTRYPOINT, args replace CMD. */
export function containerArgv(df: ParsedDockerfile, command?: readonly string[], args?: readonly string[]): string[] {
  if (command && command.length > 0) return [...command, ...(args ?? [])];
  return [...(df.final.entrypoint ?? []), ...(args && args.length > 0 ? args : (df.final.cmd ?? []))];
}
