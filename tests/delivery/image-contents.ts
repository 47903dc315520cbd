/**
 * What an image must contain to run a command, checked against the files the Dockerfile copies
 * (dockerfile.ts materialize): the executable and where it comes from (the build context, the
 * base image, an apt package the final stage installs, or a volume the manifest mounts), and for
 * `node` the script with everything it imports and spawns, every package it imports being a
 * production dependency (devDependencies are not in the image).
 */
import { builtinModules } from "node:module";
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, posix, resolve } from "node:path";
import ts from "typescript";
import { IMAGES, type ImageName } from "../../model/delivery.js";
import { REPO_ROOT, materialize, parseDockerfile, type ParsedDockerfile } from "./dockerfile.js";

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
const lock = JSON.parse(readFileSync(join(REPO_ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, { dev?: boolean; bin?: Record<string, string> | string }> };

export interface ImageTree {
  readonly name: ImageName;
  readonly df: ParsedDockerfile;
  /** The materialized root filesystem (its own files only; the base image's are not there). */
  readonly root: string;
  /** The final stage's WORKDIR inside the image, e.g. /app. */
  readonly workdir: string;
  /** The host path of an image path (absolute, or relative to WORKDIR). */
  path(imagePath: string): string;
  has(imagePath: string): boolean;
  remove(): void;
}

/** Materializes an image's files in a temporary directory; `dockerfile` replaces IMAGES[name].dockerfile (tests of the checks). */
export function buildTree(name: ImageName, dockerfile: string = IMAGES[name].dockerfile): ImageTree {
  const df = parseDockerfile(dockerfile);
  const root = mkdtempSync(join(tmpdir(), `image-${name}-`));
  // The image's files are root's and world-readable, as the builder leaves them; uid 10001 can read, not write.
  chmodSync(root, 0o755);
  try {
    materialize(df, root);
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
  const workdir = df.final.workdir;
  const path = (p: string) => join(root, posix.resolve(workdir, p));
  return { name, df, root, workdir, path, has: (p) => existsSync(path(p)), remove: () => rmSync(root, { recursive: true, force: true }) };
}

/** A package name from an import specifier (`@scope/name/sub` -> `@scope/name`), or undefined for a builtin. */
export function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith("node:") || builtinModules.includes(specifier.split("/")[0]!)) return undefined;
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

/** Whether npm ci --omit=dev installs the package (the lockfile marks dev-only packages dev: true). */
export function installedInProduction(name: string): boolean {
  const entry = lock.packages[`node_modules/${name}`];
  return entry !== undefined && entry.dev !== true;
}

export const isProductionDependency = (name: string): boolean => name in pkg.dependencies;

export interface ModuleGraph {
  /** Image paths (relative to WORKDIR) of every module reached. */
  readonly files: readonly string[];
  /** Packages imported at runtime (type-only imports left out). */
  readonly packages: readonly string[];
  readonly problems: readonly string[];
}

const SPAWNERS = new Set(["spawn", "spawnSync", "execFile", "execFileSync", "fork"]);

/** Runtime imports of a module, and the repository scripts it starts (a spawn's argument list naming a .ts file). */
function moduleReferences(source: string, fileName: string): { imports: string[]; spawned: string[] } {
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const imports: string[] = [];
  const spawned: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      if (!node.importClause?.isTypeOnly) imports.push(node.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      if (!node.isTypeOnly) imports.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node)) {
      if (node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) imports.push(node.arguments[0].text);
      const callee = ts.isIdentifier(node.expression) ? node.expression.text : ts.isPropertyAccessExpression(node.expression) ? node.expression.name.text : "";
      if (SPAWNERS.has(callee)) {
        for (const arg of node.arguments) {
          if (ts.isArrayLiteralExpression(arg)) for (const el of arg.elements) if (ts.isStringLiteral(el) && /\.(ts|mts|js|mjs)$/.test(el.text)) spawned.push(el.text);
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return { imports, spawned };
}

function resolveRelative(tree: ImageTree, fromImagePath: string, specifier: string): string | undefined {
  const base = posix.resolve(posix.dirname(posix.resolve(tree.workdir, fromImagePath)), specifier);
  const candidates = [base, base.replace(/\.js$/, ".ts"), base.replace(/\.mjs$/, ".mts"), `${base}.ts`, `${base}/index.ts`];
  return candidates.find((c) => existsSync(join(tree.root, c)) && !lstatSync(join(tree.root, c)).isDirectory());
}

/** Follows every runtime import (and spawned script) from the entry points, inside the image's files. */
export function moduleGraph(tree: ImageTree, entries: readonly string[]): ModuleGraph {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const problems: string[] = [];
  const queue = entries.map((e) => ({ file: posix.resolve(tree.workdir, e), via: "(command)" }));
  while (queue.length > 0) {
    const { file, via } = queue.shift()!;
    if (seen.has(file)) continue;
    const host = join(tree.root, file);
    if (!existsSync(host)) {
      problems.push(`${posix.relative(tree.workdir, file)} (needed by ${via}) is not in the image${existsSync(join(REPO_ROOT, posix.relative(tree.workdir, file))) ? ": add it to a COPY" : " nor in the build context"}`);
      continue;
    }
    seen.add(file);
    if (!/\.(ts|mts|js|mjs)$/.test(file)) continue;
    const rel = posix.relative(tree.workdir, file);
    const { imports, spawned } = moduleReferences(readFileSync(host, "utf8"), file);
    for (const spec of imports) {
      if (spec.startsWith(".")) {
        const target = resolveRelative(tree, rel, spec);
        if (target) queue.push({ file: target, via: rel });
        else problems.push(`${spec} (imported by ${rel}) is not in the image${resolveRelativeInRepo(rel, spec) ? ": add it to a COPY" : ""}`);
        continue;
      }
      const name = packageOf(spec);
      if (name) packages.add(name);
    }
    for (const script of spawned) queue.push({ file: posix.resolve(tree.workdir, script), via: `${rel} (spawned)` });
  }
  for (const name of packages) {
    if (isProductionDependency(name)) continue;
    problems.push(
      installedInProduction(name)
        ? `package ${name} is imported at runtime but is not a production dependency (only another package's dependency: declare it)`
        : `package ${name} is imported at runtime but is not a production dependency (npm ci --omit=dev leaves it out)`,
    );
  }
  return { files: [...seen].map((f) => posix.relative(tree.workdir, f)), packages: [...packages].sort(), problems };
}

function resolveRelativeInRepo(fromRel: string, spec: string): boolean {
  const base = resolve(REPO_ROOT, dirname(fromRel), spec);
  return [base, base.replace(/\.js$/, ".ts"), `${base}.ts`].some((c) => existsSync(c));
}

/** What provides an executable that is not in the build context: the base image, or an apt package of the final stage. */
const BASE_IMAGE_EXECUTABLES = new Set(["node", "npx", "npm", "/usr/local/bin/node", "/bin/sh", "sh"]);
const APT_EXECUTABLES: Record<string, RegExp> = {
  "/usr/bin/tini": /^tini$/,
  tini: /^tini$/,
  aws: /^awscli$/,
  pg_dump: /^postgresql-client(-\d+)?$/,
  pg_restore: /^postgresql-client(-\d+)?$/,
  psql: /^postgresql-client(-\d+)?$/,
};

/** The packages `apt-get install` names in the final stage's RUNs, variables resolved. */
export function aptPackages(df: ParsedDockerfile): string[] {
  const vars = { ...df.final.args, ...df.final.env };
  return df.final.runs.flatMap((run) => {
    const out: string[] = [];
    for (const m of run.matchAll(/apt-get install((?:\s+(?:-[\w-]+|"[^"]+"|[\w.${}+:-]+))+)/g)) {
      for (const word of m[1]!.trim().split(/\s+/)) {
        const w = word.replace(/^"|"$/g, "");
        if (w.startsWith("-")) continue;
        out.push(w.replace(/\$\{([A-Za-z_]\w*)\}|\$([A-Za-z_]\w*)/g, (_x, a: string | undefined, b: string | undefined) => vars[(a ?? b)!] ?? ""));
      }
    }
    return out;
  });
}

export interface Mount {
  readonly mountPath: string;
  readonly name: string;
}

/**
 * Problems with running argv in the image (empty when it can run), plus notes on what a volume provides.
 * `mounts` are the container's volumeMounts: an executable under one comes from the volume, not the image.
 */
export function commandProblems(tree: ImageTree, argv: readonly string[], mounts: readonly Mount[] = []): { problems: string[]; providedByVolume: string[] } {
  const problems: string[] = [];
  const providedByVolume: string[] = [];
  const apt = aptPackages(tree.df);
  const provided = (exe: string): boolean => {
    const pattern = APT_EXECUTABLES[exe] ?? APT_EXECUTABLES[posix.basename(exe)];
    if (BASE_IMAGE_EXECUTABLES.has(exe)) return true;
    if (/^\/usr\/lib\/postgresql\/(\d+)\/bin\//.test(exe)) return apt.includes(`postgresql-client-${/\/(\d+)\//.exec(exe)![1]}`);
    return pattern !== undefined && apt.some((p) => pattern.test(p));
  };
  const check = (words: readonly string[]): void => {
    const [exe, ...rest] = words;
    if (!exe) {
      problems.push("empty command");
      return;
    }
    if (posix.isAbsolute(exe)) {
      const mount = mounts.find((m) => exe.startsWith(m.mountPath.replace(/\/?$/, "/")));
      if (mount) {
        providedByVolume.push(`${exe} (volume ${mount.name})`);
        return;
      }
    }
    if (exe === "/usr/bin/tini" || exe === "tini") {
      if (!provided(exe)) problems.push(`${exe}: no apt-get install tini in the final stage`);
      check(rest[0] === "--" ? rest.slice(1) : rest);
      return;
    }
    if (exe === "node") {
      let i = 0;
      const imports: string[] = [];
      while (i < rest.length && rest[i]!.startsWith("-")) {
        const flag = rest[i]!;
        if (["--import", "--require", "-r", "--loader"].includes(flag)) {
          imports.push(rest[i + 1] ?? "");
          i += 2;
        } else i += 1;
      }
      for (const spec of imports) {
        if (spec.startsWith(".") || spec.startsWith("/")) {
          if (!tree.has(spec)) problems.push(`node ${spec}: not in the image`);
        } else if (!tree.has(`node_modules/${spec}/package.json`) || !(isProductionDependency(packageOf(spec)!) || installedInProduction(packageOf(spec)!))) {
          problems.push(`node --import ${spec}: not a production dependency in the image's node_modules`);
        }
      }
      const script = rest[i];
      if (script === undefined) return;
      const graph = moduleGraph(tree, [script]);
      problems.push(...graph.problems.map((p) => `node ${script}: ${p}`));
      return;
    }
    if (exe === "npx") {
      const bin = rest.find((w) => !w.startsWith("-"));
      if (!bin) return void problems.push("npx without a package");
      if (!tree.has(`node_modules/.bin/${bin}`)) problems.push(`npx ${bin}: no node_modules/.bin/${bin} in the image (npx would download it at runtime)`);
      else if (!installedInProduction(bin)) problems.push(`npx ${bin}: ${bin} is dev-only, npm ci --omit=dev leaves it out`);
      return;
    }
    if (posix.isAbsolute(exe) && exe.startsWith(`${tree.workdir}/`)) {
      if (!tree.has(exe)) problems.push(`${exe}: not in the image`);
      return;
    }
    if (!provided(exe)) problems.push(`${exe}: neither in the build context nor provided by the base image or an apt package of the final stage`);
  };
  check(argv);
  return { problems, providedByVolume };
}
