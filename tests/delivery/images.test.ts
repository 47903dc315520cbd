/**
 * The rules every image follows, read from the Dockerfiles (dockerfile-ast) and held against the
 * manifests that run them (the rendered infra plan): a base pinned by digest, multi-stage with
 * production dependencies only, the pods' non-root uid, a filesystem that works read-only with
 * /tmp as the only writable mount, tini as PID 1, OCI labels with the git SHA, no secrets in a
 * layer, the Prisma client generated and the schema engine fetched at build time, and for the ops
 * image the PostgreSQL client of the RDS major version and the AWS CLI.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IMAGES, type ImageName } from "../../model/delivery.js";
import { ENVIRONMENTS, environments } from "../../model/environments.js";
import { REPO_ROOT, contextFilter, lineage, parseDockerfile, type ParsedDockerfile, type Stage } from "./dockerfile.js";
import { aptPackages, buildTree, type ImageTree } from "./image-contents.js";
import { plannedContainers, type PlannedContainer } from "./plan-containers.js";

const NAMES = Object.keys(IMAGES) as ImageName[];
const DIGEST_PINNED = /^[\w.\-/:]+:[\w.-]+@sha256:[0-9a-f]{64}$/;

const containers: PlannedContainer[] = [];
const trees = {} as Record<ImageName, ImageTree>;
const files = Object.fromEntries(NAMES.map((n) => [n, parseDockerfile(IMAGES[n].dockerfile)])) as Record<ImageName, ParsedDockerfile>;

beforeAll(async () => {
  // One environment after another: the plan renders under process-wide Pulumi mocks.
  for (const e of ENVIRONMENTS) containers.push(...(await plannedContainers(e)));
  for (const n of NAMES) trees[n] = buildTree(n);
}, 120_000);
afterAll(() => {
  for (const t of Object.values(trees)) t.remove();
});

const externalBases = (df: ParsedDockerfile) => df.stages.filter((s) => !s.baseStage).map((s) => s.base);
const runsOf = (stages: readonly Stage[]) => stages.flatMap((s) => s.runs);
/** The stages the final stage copies `path` from (via --from), with their own lineage. */
function producers(df: ParsedDockerfile, path: string): Stage[] {
  const copy = df.final.copies.find((c) => c.from !== undefined && c.sources.includes(path));
  return copy ? lineage(df.stage(copy.from!)) : [];
}

describe.each(NAMES)("the %s image", (name) => {
  const df = files[name];
  const mine = () => containers.filter((c) => c.imageName === name);

  it("is run by the plan (so these rules are about something real)", () => {
    expect(mine().length, `no planned container runs the ${name} image`).toBeGreaterThan(0);
  });

  it("pins every base image by digest", () => {
    expect(externalBases(df).length).toBeGreaterThan(0);
    for (const base of externalBases(df)) expect(base, `${IMAGES[name].dockerfile}: FROM ${base}`).toMatch(DIGEST_PINNED);
    // Written out, not through an ARG: Dependabot's docker updater reads FROM lines as they are.
    for (const line of df.text.split("\n").filter((l) => /^FROM\s/i.test(l))) expect(line).not.toContain("$");
  });

  it("is a multi-stage build whose final stage starts from the base image and builds nothing", () => {
    expect(df.stages.length).toBeGreaterThanOrEqual(2);
    expect(df.final.baseStage, "the final stage must start from the base image, not from a build stage").toBeUndefined();
    for (const run of df.final.runs) expect(run, "the final stage installs no dependencies and compiles nothing").not.toMatch(/\bnpm (ci|install|i)\b|\bnpx\b|\bprisma generate\b/);
    for (const p of aptPackages(df)) expect(["curl", "wget", "gnupg", "git", "build-essential", "gcc", "make", "python3-pip"], `apt package ${p} in the final stage`).not.toContain(p);
  });

  it("installs production dependencies only, from the lockfile", () => {
    const installs = runsOf(df.stages).filter((r) => /\bnpm (ci|install|i)\b/.test(r));
    expect(installs.length).toBeGreaterThan(0);
    for (const run of installs) {
      expect(run).toMatch(/\bnpm ci\b/);
      expect(run).toMatch(/--omit=dev\b/);
    }
    const deps = producers(df, "/app/node_modules");
    expect(deps.length, "node_modules must come from a build stage").toBeGreaterThan(0);
    expect(runsOf(deps).some((r) => /\bnpm ci\b.*--omit=dev/.test(r)), "the copied node_modules is the --omit=dev install").toBe(true);
  });

  it("runs as the non-root uid and gid the pods run as", () => {
    const uids = new Set(mine().map((c) => c.podSecurity["runAsUser"]));
    const gids = new Set(mine().map((c) => c.podSecurity["runAsGroup"]));
    expect(uids.size).toBe(1);
    expect(gids.size).toBe(1);
    const [uid] = [...uids] as number[];
    const [gid] = [...gids] as number[];
    expect(uid).not.toBe(0);
    expect(df.final.user, "the final stage sets USER").toBe(`${uid}:${gid}`);
    expect(df.final.runs.some((r) => new RegExp(`useradd[^&]*--uid ${uid}\\b`).test(r)), `a user with uid ${uid} exists in /etc/passwd`).toBe(true);
    const lastUser = df.final.instructions.map((i) => i.getKeyword()).lastIndexOf("USER");
    const lastRun = df.final.instructions.map((i) => i.getKeyword()).lastIndexOf("RUN");
    expect(lastUser, "USER comes after the last RUN").toBeGreaterThan(lastRun);
  });

  it("writes only where the pods mount a writable volume (read-only root filesystem)", () => {
    for (const c of mine()) expect(c.containerSecurity["readOnlyRootFilesystem"], c.where).toBe(true);
    const writable = (c: PlannedContainer) =>
      c.mounts.filter((m) => c.volumes.some((v) => v["name"] === m.name && v["emptyDir"] !== undefined)).map((m) => m.mountPath.replace(/\/?$/, "/"));
    const env = df.final.env;
    for (const key of ["HOME", "TMPDIR", "NPM_CONFIG_CACHE", "STORAGE_DIR"]) {
      expect(env[key], `ENV ${key}`).toBeDefined();
      for (const c of mine()) expect(writable(c).some((w) => `${env[key]}/`.startsWith(w)), `${key}=${env[key]} is not on a writable mount of ${c.where}`).toBe(true);
    }
    expect(df.text, "VOLUME would create a writable volume the pods do not have").not.toMatch(/^\s*VOLUME\b/m);
    // Nothing is generated at runtime: the Prisma client is in the image.
    expect(trees[name].has("services/db/generated/client.ts")).toBe(true);
  });

  it("starts tini as PID 1, in exec form, so SIGTERM reaches node and the drain runs", () => {
    expect(df.final.execForm).toEqual({ entrypoint: true, cmd: true });
    expect(df.final.entrypoint).toEqual(["/usr/bin/tini", "--"]);
    expect(aptPackages(df)).toContain("tini");
    expect(df.final.cmd?.length).toBeGreaterThan(0);
  });

  it("carries OCI labels with the git SHA from a build argument", () => {
    const labelText = df.final.instructions.filter((i) => i.getKeyword() === "LABEL").map((i) => i.getArgumentsContent() ?? "").join("\n");
    expect(labelText).toMatch(/org\.opencontainers\.image\.revision="\$\{GIT_SHA\}"/);
    expect(df.final.args["GIT_SHA"], "ARG GIT_SHA in the final stage").toBeDefined();
    for (const label of ["org.opencontainers.image.source", "org.opencontainers.image.title", "org.opencontainers.image.revision"]) expect(df.final.labels[label], label).toBeTruthy();
  });

  it("keeps secrets out of its layers", () => {
    const secretName = /SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL|PRIVATE|ACCESS_KEY/i;
    for (const s of df.stages) {
      for (const k of [...Object.keys(s.args), ...Object.keys(s.env)]) expect(k, `${IMAGES[name].dockerfile}: ARG/ENV ${k}`).not.toMatch(secretName);
      for (const c of s.copies) for (const src of c.sources) expect(src).not.toMatch(/(^|\/)\.env|\.pem$|\.key$|\.npmrc$|id_rsa|\.aws/);
      expect(s.copies.some((c) => c.flags.includes("ADD")), "ADD (URLs, archives) is not used").toBe(false);
    }
    // Whatever the image copies from the build context holds no key material.
    const offenders: string[] = [];
    const scan = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const full = join(dir, entry.name);
        if (entry.name === "node_modules") continue;
        if (entry.isDirectory()) scan(full);
        else if (statSync(full).size < 2_000_000 && /-----BEGIN [A-Z ]*PRIVATE KEY-----|AKIA[0-9A-Z]{16}|xox[bap]-[0-9A-Za-z-]{10,}/.test(readFileSync(full, "utf8"))) offenders.push(full);
      }
    };
    scan(trees[name].root);
    expect(offenders).toEqual([]);
  });

  it("generates the Prisma client at build time and fetches Prisma's schema engine in a build stage", () => {
    const generated = producers(df, "/app/services/db/generated");
    expect(runsOf(generated).some((r) => /prisma-generate\.mjs|prisma generate/.test(r)), "a build stage generates the client").toBe(true);
    const modules = producers(df, "/app/node_modules");
    const fetch = runsOf(modules).find((r) => /prisma\/build\/index\.js --version|prisma (--)?version/.test(r));
    expect(fetch, "a build stage runs the Prisma CLI, which downloads the schema engine for the image's platform").toBeDefined();
    expect(fetch).toMatch(/ln -s .* node_modules\/@prisma\/engines\/schema-engine/);
    expect(df.final.env["PRISMA_SCHEMA_ENGINE_BINARY"]).toBe(`${df.final.workdir}/node_modules/@prisma/engines/schema-engine`);
    expect(df.text, "the Dockerfile says where the engine is fetched").toMatch(/schema engine[\s\S]{0,300}download|download[\s\S]{0,300}schema engine/i);
  });
});

describe("the two images", () => {
  it("share one base image and identical dependency and Prisma stages", () => {
    expect(externalBases(files.ops)).toContain(externalBases(files.app)[0]);
    expect(new Set([...externalBases(files.app), ...externalBases(files.ops)]).size).toBe(1);
    for (const stage of ["deps", "prisma"]) {
      const text = (df: ParsedDockerfile) => df.stage(stage).instructions.map((i) => `${i.getKeyword()} ${i.getArgumentsContent() ?? ""}`);
      expect(text(files.ops), `stage ${stage}`).toEqual(text(files.app));
    }
  });

  it("have a .dockerignore that keeps the repository's history, local secrets and local builds out of the context", () => {
    const included = contextFilter();
    for (const p of [".git/config", ".env", "infra/cluster/.env", "certs/tls.pem", ".npmrc", "node_modules/x/index.js", "services/db/generated/client.ts", "out/prod/infra-plan.json", "data/images/a.jpg"]) {
      expect(included(p), p).toBe(false);
    }
    for (const p of ["package.json", "package-lock.json", "services/main.ts", "ops/db-backup.ts", "prisma/schema.prisma", "scripts/prisma-generate.mjs"]) expect(included(p), p).toBe(true);
  });
});

describe("the ops image", () => {
  const df = files.ops;

  it("has the PostgreSQL client of the RDS major version, from PGDG, with the key checked", () => {
    const majors = new Set(environments().map((e) => String(e.config.rds.engineVersion).split(".")[0]));
    expect(majors.size, "every stack runs one PostgreSQL major version").toBe(1);
    const [major] = [...majors];
    expect(df.final.args["PG_MAJOR"]).toBe(major);
    expect(aptPackages(df)).toContain(`postgresql-client-${major}`);
    for (const tool of ["PG_DUMP", "PG_RESTORE"]) expect(df.final.env[tool]).toMatch(new RegExp(`^/usr/lib/postgresql/${major}/bin/`));
    expect(df.final.env["PATH"]).toMatch(new RegExp(`^/usr/lib/postgresql/${major}/bin:`));
    // Debian bookworm ships PostgreSQL 15: the repository is PGDG's, for the base image's release.
    const codename = /bookworm|bullseye|trixie/.exec(externalBases(df)[0]!)?.[0];
    expect(codename).toBeDefined();
    expect(runsOf(df.stages).join("\n")).toMatch(new RegExp(`deb \\[signed-by=[^\\]]+\\] https://apt\\.postgresql\\.org/pub/repos/apt ${codename}-pgdg main`));
    expect(df.stage("pgdg-key").args["PGDG_KEY_FINGERPRINT"]).toBe("B97B0AFCAA1A47F044F244A07FCC7D46ACCC4CF8");
    expect(runsOf([df.stage("pgdg-key")]).join("\n")).toMatch(/gpg --show-keys --with-colons[\s\S]*PGDG_KEY_FINGERPRINT/);
  });

  it("has the AWS CLI and the committed ops scripts", () => {
    expect(aptPackages(df)).toContain("awscli");
    const ops = (dir: string): string[] => readdirSync(join(REPO_ROOT, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? ops(join(dir, e.name)) : [join(dir, e.name)]));
    for (const f of ops("ops")) expect(trees.ops.has(f), f).toBe(true);
  });

  it("carries the stack file of every environment (the digest reads the environment model)", () => {
    for (const e of ENVIRONMENTS) expect(trees.ops.has(`Pulumi.${e}.yaml`), `Pulumi.${e}.yaml`).toBe(true);
  });
});
