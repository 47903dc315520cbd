/**
 * Every command an image is asked to run can run from what that image contains: its own CMD and
 * ENTRYPOINT, every container of the rendered infra plan (each environment) that uses the image,
 * with its `command`/`args` as Kubernetes applies them, and every ops command (ops/commands.ts).
 * For `node` that is the script and everything it imports or spawns, from the files the Dockerfile
 * copies (honouring .dockerignore), each package a production dependency; for `npx` the package's
 * bin in the production node_modules; for the migration, its config, schema and migrations.
 */
import { writeFileSync, readFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IMAGES, type ImageName } from "../../model/delivery.js";
import { ENVIRONMENTS } from "../../model/environments.js";
import { OPS_COMMANDS } from "../../ops/commands.js";
import prismaConfig from "../../prisma.config.js";
import { BuildError, REPO_ROOT, containerArgv } from "./dockerfile.js";
import { buildTree, commandProblems, type ImageTree } from "./image-contents.js";
import { plannedContainers, type PlannedContainer } from "./plan-containers.js";

const NAMES = Object.keys(IMAGES) as ImageName[];
const trees = {} as Record<ImageName, ImageTree>;
const containers: PlannedContainer[] = [];
const scratch: string[] = [];

beforeAll(async () => {
  for (const e of ENVIRONMENTS) containers.push(...(await plannedContainers(e)));
  for (const n of NAMES) trees[n] = buildTree(n);
}, 120_000);
afterAll(() => {
  for (const t of Object.values(trees)) t.remove();
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});

/** A copy of a Dockerfile with one edit, for showing that the checks catch what they claim to. */
function mutated(name: ImageName, edit: (text: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), "dockerfile-mutant-"));
  scratch.push(dir);
  const file = join(dir, IMAGES[name].dockerfile);
  const original = readFileSync(join(REPO_ROOT, IMAGES[name].dockerfile), "utf8");
  const text = edit(original);
  if (text === original) throw new Error("the edit changed nothing");
  writeFileSync(file, text);
  return file;
}

describe.each(NAMES)("the %s image", (name) => {
  it("can run its own ENTRYPOINT and CMD", () => {
    const argv = containerArgv(trees[name].df);
    expect(argv.length).toBeGreaterThan(0);
    expect(commandProblems(trees[name], argv).problems).toEqual([]);
  });

  it("can run every command the plan's containers run from it, in every environment", () => {
    const mine = containers.filter((c) => c.imageName === name);
    expect(mine.length).toBeGreaterThan(0);
    const problems = mine.flatMap((c) => {
      const argv = containerArgv(trees[name].df, c.command, c.args);
      const result = commandProblems(trees[name], argv, c.mounts);
      // A script a volume provides (a ConfigMap) must come from a volume the pod really has.
      for (const v of result.providedByVolume) {
        const volume = /\(volume (.+)\)$/.exec(v)![1];
        expect(c.volumes.some((x) => x["name"] === volume && (x["configMap"] || x["secret"])), `${c.where}: ${v}`).toBe(true);
      }
      return result.problems.map((p) => `${c.where} (${argv.join(" ")}): ${p}`);
    });
    expect(problems).toEqual([]);
  });
});

describe("the ops image", () => {
  it.each(Object.entries(OPS_COMMANDS))("can run OPS_COMMANDS.%s", (_name, argv) => {
    expect(commandProblems(trees.ops, argv).problems).toEqual([]);
  });
});

describe("migrations (`npx prisma migrate deploy`)", () => {
  const runsMigrate = (n: ImageName) => n === "ops" || containers.some((c) => c.imageName === n && c.command?.join(" ") === OPS_COMMANDS.migrate.join(" "));

  it.each(NAMES)("find their config, schema, migrations and schema engine in the %s image when it runs them", (name) => {
    if (!runsMigrate(name)) return;
    const tree = trees[name];
    expect(tree.has("prisma.config.ts")).toBe(true);
    expect(tree.has(prismaConfig.schema!)).toBe(true);
    expect(tree.has(join(prismaConfig.migrations!.path!, "migration_lock.toml"))).toBe(true);
    const committed = readFileSync(join(REPO_ROOT, "prisma/migrations/migration_lock.toml"), "utf8");
    expect(readFileSync(tree.path(join(prismaConfig.migrations!.path!, "migration_lock.toml")), "utf8")).toBe(committed);
    expect(tree.df.final.env["PRISMA_SCHEMA_ENGINE_BINARY"], "the engine fetched at build time, so the Job never downloads").toMatch(/node_modules\/@prisma\/engines\/schema-engine$/);
  });
});

describe("the checks themselves", () => {
  it("catch a directory the code imports but the Dockerfile does not copy", () => {
    const tree = buildTree("app", mutated("app", (t) => t.replace("COPY model ./model\n", "")));
    try {
      const problems = commandProblems(tree, containerArgv(tree.df)).problems;
      expect(problems.join("\n")).toMatch(/model\/workloads\.js \(imported by services\/config\.ts\) is not in the image: add it to a COPY/);
    } finally {
      tree.remove();
    }
  });

  it("catch a script the manifest names that is not in the image", () => {
    expect(commandProblems(trees.ops, ["node", "--import", "tsx", "ops/no-such-command.ts"]).problems.join("\n")).toMatch(/ops\/no-such-command\.ts.*not in the image/);
    expect(commandProblems(trees.app, ["pg_dump", "--version"]).problems.join("\n")).toMatch(/pg_dump: neither in the build context nor provided/);
    expect(commandProblems(trees.app, ["npx", "vitest"]).problems.join("\n")).toMatch(/dev-only|no node_modules\/\.bin\/vitest/);
  });

  it("catch a COPY of something .dockerignore excludes, as docker build would", () => {
    expect(() => buildTree("app", mutated("app", (t) => t.replace("COPY services ./services\n", "COPY services ./services\nCOPY tests ./tests\n")))).toThrow(BuildError);
  });

  it("catch a runtime import of a devDependency", () => {
    const tree = buildTree("ops");
    try {
      writeFileSync(tree.path("ops/uses-dev.ts"), 'import { describe } from "vitest";\nimport { parse } from "semver";\nconsole.log(describe, parse("1.0.0"));\n');
      expect(commandProblems(tree, ["node", "--import", "tsx", "ops/uses-dev.ts"]).problems.join("\n")).toMatch(/package semver is imported at runtime but is not a production dependency \(only another package's dependency/);
      expect(commandProblems(tree, ["node", "--import", "tsx", "ops/uses-dev.ts"]).problems.join("\n")).toMatch(/package vitest is imported at runtime but is not a production dependency \(npm ci --omit=dev leaves it out\)/);
    } finally {
      tree.remove();
    }
  });
});
