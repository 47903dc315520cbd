/**
 * Every AWS role a workflow assumes exists, and admits that workflow: each `role-to-assume` of
 * every workflow in .github/workflows (parsed with `yaml`), its role name resolved for every value
 * its expressions take (a job's matrix, a reusable workflow's callers), must be an aws:iam/role:Role
 * of the matching environment's rendered plan (infra/plan.ts renderPlan, the tests/infra mocks)
 * whose trust admits GitHub's OIDC token of exactly the way the job runs: its GitHub environment
 * (`repo:<repo>:environment:<env>`), a pull request (`repo:<repo>:pull_request`), or a push to a
 * branch (`repo:<repo>:ref:refs/heads/<branch>`), with AWS's audience (sts.amazonaws.com).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { renderPlan } from "../../infra/plan.js";
import { GITHUB_OIDC_AUDIENCE, GITHUB_OIDC_HOST } from "../../infra/settings.js";
import { ENVIRONMENTS, environment, type EnvironmentName } from "../../model/environments.js";
import { FRONTEND_DEPLOY_WORKFLOW } from "../../model/delivery.js";
import { planResources } from "./plan-containers.js";
import { loadWorkflow, workflowFiles, type Job, type Json, type Workflow } from "./workflows.js";


interface Assumption {
  readonly where: string;
  readonly env: EnvironmentName;
  readonly role: string;
  readonly subject: string;
}

type Values = Record<string, string>;

/** The value sets a job's `${{ matrix.* }}` expressions take (one per matrix include / combination). */
function matrixValues(job: Job): Values[] {
  const matrix = job.strategy?.matrix as Record<string, Json> | undefined;
  if (!matrix) return [{}];
  const include = (matrix["include"] ?? []) as Record<string, Json>[];
  const axes = Object.entries(matrix).filter(([k]) => k !== "include" && k !== "exclude");
  let combos: Values[] = [{}];
  for (const [k, vs] of axes) combos = combos.flatMap((c) => (vs as Json[]).map((v) => ({ ...c, [`matrix.${k}`]: String(v) })));
  const fromInclude = include.map((i) => Object.fromEntries(Object.entries(i).map(([k, v]) => [`matrix.${k}`, String(v)])));
  return axes.length > 0 ? [...combos, ...fromInclude] : fromInclude;
}

/** `${{ expr }}` replaced from `values`; undefined when an expression has no value there. */
function resolve(text: string, values: Values): string | undefined {
  let unresolved = false;
  const out = text.replace(/\$\{\{\s*(.*?)\s*\}\}/g, (_m, expr: string) => {
    const v = values[expr];
    if (v === undefined) unresolved = true;
    return v ?? "";
  });
  return unresolved ? undefined : out;
}

/** The environment a role name belongs to: the longest environment name it is prefixed with. */
function environmentOfRole(role: string): EnvironmentName | undefined {
  return [...ENVIRONMENTS].sort((a, b) => b.length - a.length).find((e) => role.startsWith(`${e}-`));
}

/** What cannot be resolved or is not as the rules say: collected, so that one run names every problem. */
const problems: string[] = [];
const check = (ok: boolean, message: string) => {
  if (!ok) problems.push(message);
  return ok;
};

/** How a workflow is started: by its own triggers in this repository, or by the jobs that call it. */
interface Start {
  /** The repository whose OIDC token the job gets (a called workflow runs in its caller's). */
  readonly repository: (env: EnvironmentName) => string;
  /** Values of `${{ inputs.* }}` (one set per caller). */
  readonly inputs: Values[];
  /** The triggers: what the `sub` is when the job has no GitHub environment. */
  readonly on: Json;
  readonly where: string;
}

function startsOf(wf: Workflow, all: readonly Workflow[]): Start[] {
  const own = environment(ENVIRONMENTS[0]).config.deploy.repository;
  if (!("workflow_call" in (wf.doc.on ?? {}))) return [{ repository: (e) => environment(e).config.deploy.repository, inputs: [{}], on: wf.doc.on, where: wf.file }];
  const callers = all.flatMap((c) =>
    Object.entries(c.doc.jobs)
      .filter(([, j]) => j.uses === `./.github/workflows/${wf.file}`)
      .map(([id, j]) => ({ caller: c, id, job: j })),
  );
  if (callers.length > 0) {
    return callers.map(({ caller, id, job }) => ({
      repository: (e: EnvironmentName) => environment(e).config.deploy.repository,
      inputs: [Object.fromEntries(Object.entries(job.with ?? {}).map(([k, v]) => [`inputs.${k}`, String(v)]))],
      on: caller.doc.on,
      where: `${caller.file} ${id} -> ${wf.file}`,
    }));
  }
  // Called from another repository: only the frontend's deploy workflow is, from the frontend's
  // repository, for any environment.
  if (!check(wf.file === FRONTEND_DEPLOY_WORKFLOW, `${wf.file} is a reusable workflow no workflow of ${own} calls`)) return [];
  return [
    {
      repository: (e) => environment(e).config.deploy.frontendRepository,
      inputs: ENVIRONMENTS.map((e) => ({ "inputs.environment": e })),
      on: { workflow_call: {} },
      where: `${wf.file} (called by the frontend's repository)`,
    },
  ];
}

/** The OIDC `sub` GitHub gives the job: its environment's, else its trigger's. */
function subjectsOf(job: Job, start: Start, values: Values, env: EnvironmentName): string[] {
  const repository = start.repository(env);
  const environmentName = typeof job.environment === "string" ? job.environment : job.environment?.name;
  if (environmentName !== undefined) {
    const name = resolve(environmentName, values);
    if (!check(name !== undefined, `${start.where}: cannot resolve the GitHub environment ${environmentName}`)) return [];
    return [`repo:${repository}:environment:${name}`];
  }
  const on = start.on as Record<string, Json>;
  if (job.if?.includes("github.event_name == 'pull_request'") || (Object.keys(on).length === 1 && "pull_request" in on)) return [`repo:${repository}:pull_request`];
  const branches = (on["push"]?.branches ?? []) as string[];
  check(branches.length > 0, `${start.where}: a job without a GitHub environment assumes a role on push, to named branches`);
  for (const b of branches) check(!b.includes("*"), `${start.where}: a role trusts one branch, not the pattern ${b}`);
  return branches.filter((b) => !b.includes("*")).map((b) => `repo:${repository}:ref:refs/heads/${b}`);
}

/** Every (role, subject) a workflow assumes, for every value its expressions take. */
function assumptions(): Assumption[] {
  problems.length = 0;
  const all = workflowFiles().map(loadWorkflow);
  const out: Assumption[] = [];
  for (const wf of all) {
    for (const start of startsOf(wf, all)) {
      for (const [id, job] of Object.entries(wf.doc.jobs)) {
        for (const step of job.steps ?? []) {
          const arn = step.with?.["role-to-assume"];
          if (arn === undefined) continue;
          for (const inputs of start.inputs) {
            for (const matrix of matrixValues(job)) {
              const values: Values = { ...inputs, ...matrix };
              const where = `${start.where} job ${id} step "${step.name ?? step.uses}"`;
              const role = /:role\/(.+)$/.exec(String(arn))?.[1];
              if (!check(role !== undefined, `${where}: role-to-assume ${String(arn)} names no role (arn:aws:iam::<account>:role/<name>)`)) continue;
              const name = resolve(role!, values);
              if (!check(name !== undefined, `${where}: cannot resolve the role name ${role} (values: ${JSON.stringify(values)})`)) continue;
              const env = environmentOfRole(name!);
              if (!check(env !== undefined, `${where}: role ${name} belongs to no environment`)) continue;
              for (const subject of subjectsOf(job, start, values, env!)) out.push({ where, env: env!, role: name!, subject });
            }
          }
        }
      }
    }
  }
  return out;
}

type PlannedRole = { type: string; name: string; args: Json };
const roles = new Map<EnvironmentName, PlannedRole[]>();

beforeAll(async () => {
  for (const env of ENVIRONMENTS) roles.set(env, planResources(await renderPlan(env)).filter((r) => r.type === "aws:iam/role:Role"));
}, 240_000);

/** The OIDC statements of a role's trust: the `sub` and `aud` each admits. */
function oidcTrust(role: PlannedRole): { sub: string[]; aud: string[] }[] {
  const doc = JSON.parse(String(role.args.assumeRolePolicy)) as { Statement: Json[] };
  return doc.Statement.filter((s) => s.Effect === "Allow" && [s.Action].flat().includes("sts:AssumeRoleWithWebIdentity")).map((s) => {
    const eq = (s.Condition?.StringEquals ?? {}) as Record<string, Json>;
    return { sub: [eq[`${GITHUB_OIDC_HOST}:sub`] ?? []].flat().map(String), aud: [eq[`${GITHUB_OIDC_HOST}:aud`] ?? []].flat().map(String) };
  });
}

describe("the roles the workflows assume", () => {
  it("reads role-to-assume in every workflow that uses AWS credentials", () => {
    const withRoles = workflowFiles().filter((f) => loadWorkflow(f).text.includes("role-to-assume:"));
    expect(withRoles.length).toBeGreaterThan(2);
    const files = new Set(assumptions().flatMap((a) => a.where.split(" ").filter((w) => w.endsWith(".yml"))));
    for (const f of withRoles) expect(files, f).toContain(f);
  });

  it("exist in the environment's plan and trust exactly the way the workflow runs", () => {
    const seen = assumptions();
    expect(seen.length).toBeGreaterThan(10);
    for (const a of seen) {
      const role = roles.get(a.env)!.find((r) => r.args.name === a.role);
      if (!role) {
        problems.push(`${a.where}: assumes ${a.role}, which the ${a.env} plan does not create (its roles: ${roles.get(a.env)!.map((r) => String(r.args.name)).filter((n) => n !== "undefined").join(", ")})`);
        continue;
      }
      const trust = oidcTrust(role);
      if (!trust.some((t) => t.sub.length === 1 && t.sub[0] === a.subject && t.aud.length === 1 && t.aud[0] === GITHUB_OIDC_AUDIENCE)) {
        problems.push(`${a.where}: ${a.role} does not trust ${a.subject} with audience ${GITHUB_OIDC_AUDIENCE} (it trusts ${JSON.stringify(trust)})`);
      }
    }
    expect(problems).toEqual([]);
  });
});
