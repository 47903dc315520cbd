/**
 * Both Pulumi programs of every environment (the AWS stack, then the cluster stack reading its
 * outputs), run under the shared mocks (infra/testing/mocks.ts): what exists, the arguments that
 * matter, tags, ordering, and that monitoring deploys exactly what synth renders. Stacks are
 * rendered one at a time (setMocks is process-global).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ALERTMANAGER_SECRET_FILES, alertmanagerSecretNames } from "../../alerts/alertmanager.js";
import { PAGERDUTY_MODEL } from "../../alerts/pagerduty.js";
import { ruleGroups } from "../../alerts/rules/index.js";
import { buildDashboards } from "../../dashboards/index.js";
import { violations } from "../../infra/policies/rules.js";
import { ENVIRONMENT_POLICIES, stackViolations } from "../../infra/policies/stack-rules.js";
import { REDACTED } from "../../infra/testing/mocks.js";
import { STACKS, loadEnvironmentModel } from "../../infra/testing/stacks.js";
import { JOB_TYPES } from "../../services/jobs/types.js";
import { EXPORTER_METRICS, frontendDeploymentFailedMaximum, probeSuccess, rolloutInfo, rolloutInfoReplicasAvailable, rolloutInfoReplicasDesired } from "../../services/metrics-exporters.js";
import { API_SCRAPE_JOB, BLACKBOX_JOB, METRICS_PORT, PRODUCT_NAMESPACE, SCHEDULER_SCRAPE_JOB, WORKER_SCRAPE_JOB } from "../../model/workloads.js";
import type { EnvironmentModel } from "../../model/environments.js";
import { THRESHOLDS } from "../../alerts/thresholds.js";
import { cloudwatchLabelName, cloudwatchPrometheusName } from "../../model/cloudwatch.js";
import { FRONTEND_DEPLOY_QUERY, FRONTEND_DEPLOY_SIGNAL } from "../../model/delivery.js";
import { renderedEnvironments } from "./rendered.js";
import type { Any } from "./rendered.js";

const { renderAll, get, ofType, one, k8sKind, dependsOn, resourcesOf } = renderedEnvironments();

beforeAll(() => renderAll(), 120_000);

const release = (stack: (typeof STACKS)[number], name: string) => one(stack, "kubernetes:helm.sh/v3:Release", name);
const CRDS = "kubernetes:helm.sh/v3:Release::prometheus-operator-crds";
/** Whether the environment's database accepts writes (a standby's replica does not until promoted). */
const writable = (stack: (typeof STACKS)[number]) => get(stack).config.dr.role === "primary" || get(stack).config.dr.promoted === true;

/**
 * Where each chart accepts labels for the objects it renders (from the charts' values.yaml, at the
 * pinned versions). prometheus-operator-crds only ships CRDs and takes no labels.
 */
const CHART_LABEL_VALUES: Record<string, string[]> = {
  "prometheus-operator-crds": [],
  "kube-prometheus-stack": ["commonLabels"],
  "prometheus-postgres-exporter": ["deployment.labels", "podLabels", "serviceMonitor.labels"],
  "prometheus-cloudwatch-exporter": ["deployment.labels", "pod.labels", "service.labels", "serviceMonitor.labels"],
  "prometheus-rabbitmq-exporter": ["additionalLabels", "podLabels", "prometheus.monitor.additionalLabels"],
  "prometheus-blackbox-exporter": ["commonLabels", "pod.labels"],
  keda: ["additionalLabels", "podLabels.keda", "podLabels.metricsAdapter", "podLabels.webhooks"],
  "argo-rollouts": ["global.deploymentLabels", "podLabels", "controller.metrics.serviceMonitor.additionalLabels"],
  "aws-load-balancer-controller": ["additionalLabels", "podLabels"],
};
const at = (values: unknown, path: string): unknown => path.split(".").reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], values);

/** The equality matchers of every `metric{...}` selector in the rule expressions of an environment. */
function selectorsIn(exprs: string[], metric: string): Record<string, string>[] {
  const found: Record<string, string>[] = [];
  const re = new RegExp(`(?<![\\w:])${metric}\\{([^}]*)\\}`, "g");
  for (const expr of exprs) {
    for (const m of expr.matchAll(re)) {
      const matchers: Record<string, string> = {};
      for (const [, key, op, value] of m[1]!.matchAll(/(\w+)\s*(=~|!=|!~|=)\s*"((?:[^"\\]|\\.)*)"/g)) {
        expect(op, `${metric} matcher ${key} in ${expr}`).toBe("=");
        matchers[key!] = JSON.parse(`"${value}"`) as string;
      }
      found.push(matchers);
    }
  }
  return found;
}
const ruleExprs = (env: EnvironmentModel) => ruleGroups(env).flatMap((g) => g.rules.map((r) => r.expr));

/** Prometheus relabelling (replace and labeldrop only) applied to one label set, as metric_relabel_configs does. */
function relabel(labels: Record<string, string>, configs: Any[]): Record<string, string> {
  let out = { ...labels };
  for (const c of configs) {
    const regex = new RegExp(`^(?:${c.regex ?? "(.*)"})$`);
    if (c.action === "labeldrop") {
      out = Object.fromEntries(Object.entries(out).filter(([k]) => !regex.test(k)));
    } else if ((c.action ?? "replace") === "replace") {
      const source = (c.sourceLabels ?? []).map((l: string) => out[l] ?? "").join(c.separator ?? ";");
      const m = regex.exec(source);
      if (m) out[c.targetLabel] = String(c.replacement ?? "$1").replace(/\$(\d+)/g, (_, i: string) => m[Number(i)] ?? "");
    } else throw new Error(`relabel action ${c.action} not simulated`);
  }
  return out;
}

/** Whether @pulumi/aws declares `tags` on the resource's Args: read from the package's .d.ts, not from infra code. */
const awsRoot = dirname(createRequire(import.meta.url).resolve("@pulumi/aws/package.json"));
const taggableCache = new Map<string, boolean>();
function awsTypeIsTaggable(type: string): boolean {
  const cached = taggableCache.get(type);
  if (cached !== undefined) return cached;
  const [, mod = "", cls = ""] = type.split(":");
  const [dir = "", file = ""] = mod.split("/");
  const dts = readFileSync(join(awsRoot, dir === "index" ? "" : dir, `${file}.d.ts`), "utf8");
  const start = dts.indexOf(`export interface ${cls}Args {`);
  const block = start < 0 ? "" : dts.slice(start, dts.indexOf("\n}", start));
  const taggable = /\n\s+tags\?:/.test(block);
  taggableCache.set(type, taggable);
  return taggable;
}

describe.each(STACKS)("stack %s", (stack) => {
  it("tags every taggable AWS resource and labels every Kubernetes object with environment and owner", () => {
    const { resources, config } = get(stack);
    const env = loadEnvironmentModel(stack);
    const aws = resources.filter((r) => r.type.startsWith("aws:") && awsTypeIsTaggable(r.type));
    expect(aws.length).toBeGreaterThan(40);
    for (const r of aws) expect(r.args["tags"], `${r.type} ${r.name}`).toMatchObject({ environment: env.tier, owner: config.owner });
    const k8s = resources.filter((r) => r.type.startsWith("kubernetes:") && r.args["metadata"] !== undefined);
    expect(k8s.length).toBeGreaterThan(30);
    for (const r of k8s) expect((r.args["metadata"] as Any).labels, `${r.type} ${r.name}`).toMatchObject({ environment: env.tier, owner: config.owner });
    // Helm releases: the standard labels wherever the chart accepts labels.
    const releases = ofType(stack, "kubernetes:helm.sh/v3:Release");
    expect(releases.length).toBeGreaterThanOrEqual(9);
    for (const r of releases) {
      const chart = String(r.args["chart"]);
      const paths = CHART_LABEL_VALUES[chart];
      expect(paths, `label values of chart ${chart} (add it to CHART_LABEL_VALUES)`).toBeDefined();
      if (chart !== "prometheus-operator-crds") expect(paths!.length, chart).toBeGreaterThan(0);
      for (const path of paths!) expect(at(r.args["values"], path), `${r.name} values.${path}`).toMatchObject({ environment: env.tier, owner: config.owner });
    }
  });

  it("puts every AWS and Kubernetes resource on an explicit provider (no default region or kubeconfig)", () => {
    const implicit = get(stack).resources.filter((r) => (r.type.startsWith("aws:") || r.type.startsWith("kubernetes:")) && r.provider === undefined);
    expect(implicit.map((r) => `${r.type} ${r.name}`)).toEqual([]);
  });

  it("passes every policy, in each project's stack and across the environment's two stacks", () => {
    for (const project of ["platform", "platform-cluster"] as const) {
      const resources = resourcesOf(stack, project);
      expect([...violations(resources), ...stackViolations(resources)], project).toEqual([]);
    }
    expect(stackViolations(get(stack).resources, ENVIRONMENT_POLICIES)).toEqual([]);
  });

  it("runs RDS PostgreSQL encrypted and private, backups 30 days at 03:00 UTC, maintenance Sunday 02:00-04:00, slow statements logged", () => {
    const db = one(stack, "aws:rds/instance:Instance", `${stack}-postgres`).args;
    expect(db).toMatchObject({ storageEncrypted: true, publiclyAccessible: false, performanceInsightsEnabled: true });
    if (writable(stack)) {
      expect(db).toMatchObject({ engine: "postgres", backupRetentionPeriod: 30, backupWindow: "03:00-03:30" });
    } else {
      // A replica's backups are its source's; it gets its own when promoted.
      expect(db).toMatchObject({ backupRetentionPeriod: 0, replicateSourceDb: expect.stringMatching(/^arn:aws:rds:/) });
    }
    const m = /^sun:(\d\d):(\d\d)-sun:(\d\d):(\d\d)$/.exec(String(db["maintenanceWindow"]));
    expect(m).not.toBeNull();
    const [start, end] = [Number(m![1]) * 60 + Number(m![2]), Number(m![3]) * 60 + Number(m![4])];
    expect(start).toBeGreaterThanOrEqual(120);
    expect(end).toBeLessThanOrEqual(240);
    expect(end <= 180 || start >= 210).toBe(true); // clear of the 03:00-03:30 backup window
    const params = one(stack, "aws:rds/parameterGroup:ParameterGroup").args;
    expect(params["parameters"]).toContainEqual({ name: "log_min_duration_statement", value: "100" });
    expect(db["parameterGroupName"]).toBe(params["name"] ?? one(stack, "aws:rds/parameterGroup:ParameterGroup").name);
  });

  it("lets only the cluster reach the database and the broker", () => {
    const rules = ofType(stack, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
    const internal = rules.filter((r) => [5432, 5671].includes(Number(r.args["fromPort"])));
    expect(internal.length).toBe(2);
    for (const r of internal) {
      expect(r.args["cidrIpv4"]).toBeUndefined();
      expect(String(r.args["referencedSecurityGroupId"])).toMatch(/-cluster$/);
    }
    expect(one(stack, "aws:mq/broker:Broker").args).toMatchObject({ publiclyAccessible: false, engineType: "RabbitMQ" });
  });

  it("backs up the database with AWS Backup: daily 30 days, weekly 1 year, in warm storage (RDS has no cold storage)", () => {
    const plan = one(stack, "aws:backup/plan:Plan").args as Any;
    const daily = plan.rules.find((r: Any) => r.ruleName === "daily");
    const weekly = plan.rules.find((r: Any) => r.ruleName === "weekly");
    expect(daily.lifecycle).toEqual({ deleteAfter: 30 });
    expect(weekly.lifecycle).toEqual({ deleteAfter: 365 });
    expect(weekly.recoveryPointTags).toMatchObject({ "storage-class": "warm", "retention-days": "365" });
    if (writable(stack)) {
      const db = ofType(stack, "aws:rds/instance:Instance").find((r) => r.args["replicateSourceDb"] === undefined)!;
      expect((one(stack, "aws:backup/selection:Selection").args as Any).resources).toEqual([expect.stringMatching(new RegExp(`:db:${db.args["identifier"]}$`))]);
    } else {
      expect(ofType(stack, "aws:backup/selection:Selection")).toEqual([]);
    }
    const rule = one(stack, "aws:cloudwatch/eventRule:EventRule").args;
    expect(JSON.parse(String(rule["eventPattern"]))).toMatchObject({ source: ["aws.backup"], detail: { state: expect.arrayContaining(["FAILED"]) } });
  });

  it("serves the frontend from a private bucket through CloudFront with OAC", () => {
    const dist = one(stack, "aws:cloudfront/distribution:Distribution").args as Any;
    const oac = one(stack, "aws:cloudfront/originAccessControl:OriginAccessControl");
    expect(dist.origins[0].originAccessControlId).toBe(`${oac.name}-id`);
    expect(dist.defaultCacheBehavior.viewerProtocolPolicy).toBe("redirect-to-https");
    const policy = ofType(stack, "aws:s3/bucketPolicy:BucketPolicy").find((p) => p.name.endsWith("-frontend"))!;
    const statements = JSON.parse(String(policy.args["policy"])).Statement as Any[];
    expect(statements.find((s) => s.Principal?.Service === "cloudfront.amazonaws.com").Condition.StringEquals["AWS:SourceArn"]).toContain("distribution/");
    // CloudFront (OAC) can read SSE-S3 objects; with the AWS-managed aws/s3 KMS key it could not.
    const sse = ofType(stack, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").find((r) => r.name.endsWith("-frontend"))!;
    expect((sse.args as Any).rules[0].applyServerSideEncryptionByDefault.sseAlgorithm).toBe("AES256");
    for (const v of ofType(stack, "aws:s3/bucketVersioning:BucketVersioning")) expect((v.args as Any).versioningConfiguration.status).toBe("Enabled");
    expect(ofType(stack, "aws:s3/bucketVersioning:BucketVersioning").length).toBe(ofType(stack, "aws:s3/bucket:Bucket").length);
    expect(ofType(stack, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").length).toBe(ofType(stack, "aws:s3/bucket:Bucket").length);
  });

  it("builds EKS with a managed node group, IRSA and a provider from the cluster's kubeconfig", () => {
    const { config } = get(stack);
    expect(one(stack, "aws:eks/cluster:Cluster").args).toMatchObject({ version: config.cluster.version, encryptionConfig: { resources: ["secrets"] } });
    expect(one(stack, "aws:eks/nodeGroup:NodeGroup").args["scalingConfig"]).toEqual({ minSize: config.cluster.minSize, desiredSize: config.cluster.desiredSize, maxSize: config.cluster.maxSize });
    const api = ofType(stack, "aws:iam/role:Role").find((r) => r.name.endsWith("-irsa-product-platform-api"))!;
    const assume = JSON.parse(String(api.args["assumeRolePolicy"]));
    expect(Object.values(assume.Statement[0].Condition.StringEquals)).toContain(`system:serviceaccount:product-platform:api`);
    // The cluster stack's provider: the AWS stack's endpoint and CA, a token from aws eks get-token.
    const k8sProvider = one(stack, "pulumi:providers:kubernetes");
    expect(k8sProvider.project).toBe("platform-cluster");
    const kubeconfig = JSON.parse(String(k8sProvider.args["kubeconfig"]));
    expect(kubeconfig.users[0].user.exec.args).toContain("get-token");
    expect(kubeconfig.clusters[0].cluster.server).toBe(get(stack).aws.outputs["clusterEndpoint"]);
  });

  it("installs the CRDs before anything that uses them", () => {
    const crds = one(stack, "kubernetes:helm.sh/v3:Release", "prometheus-operator-crds");
    const kps = one(stack, "kubernetes:helm.sh/v3:Release", "kube-prometheus-stack");
    expect(kps.args["skipCrds"]).toBe(true);
    expect(dependsOn(stack, kps)).toContain(`${crds.type}::${crds.name}`);
    const needs: Record<string, string> = { "monitoring.coreos.com": "prometheus-operator-crds", "keda.sh": "keda", "argoproj.io": "argo-rollouts" };
    const crs = get(stack).resources.filter((r) => Object.keys(needs).some((g) => r.type.startsWith(`kubernetes:${g}/`)));
    expect(crs.length).toBeGreaterThan(8);
    for (const r of crs) {
      const group = Object.keys(needs).find((g) => r.type.startsWith(`kubernetes:${g}/`))!;
      expect(dependsOn(stack, r), `${r.type} ${r.name}`).toContain(`kubernetes:helm.sh/v3:Release::${needs[group]}`);
    }
  });

  it("deploys the same dashboards and rules synth renders", () => {
    const env = loadEnvironmentModel(stack);
    const maps = ofType(stack, "kubernetes:core/v1:ConfigMap").filter((r) => (r.args["metadata"] as Any).labels?.grafana_dashboard === "1");
    const byUid = (a: { uid: string }, b: { uid: string }) => a.uid.localeCompare(b.uid);
    const deployed = maps.flatMap((m) => Object.values(m.args["data"] as Record<string, string>).map((json) => JSON.parse(json) as { uid: string })).sort(byUid);
    const expected = buildDashboards(env);
    expect(expected.length).toBeGreaterThan(0);
    expect(deployed).toEqual(JSON.parse(JSON.stringify([...expected].sort(byUid))));
    const rule = one(stack, "kubernetes:monitoring.coreos.com/v1:PrometheusRule");
    expect((rule.args["spec"] as Any).groups).toEqual(JSON.parse(JSON.stringify(ruleGroups(env))));
  });

  it("gives Alertmanager its config and its secrets as files from a Kubernetes secret", () => {
    const secret = ofType(stack, "kubernetes:core/v1:Secret").find((s) => (s.args["metadata"] as Any).name === "alertmanager-secrets")!;
    const env = loadEnvironmentModel(stack);
    // Exactly the files the environment's config reads: no PagerDuty routing key where nobody is paged.
    expect(Object.keys(secret.args["stringData"] as object).sort()).toEqual(alertmanagerSecretNames(env).map((n) => ALERTMANAGER_SECRET_FILES[n].split("/").pop()).sort());
    expect(Object.keys(secret.args["stringData"] as object).includes("pagerduty-routing-key")).toBe(env.monitoring.pages === "pagerduty");
    for (const v of Object.values(secret.args["stringData"] as object)) expect(v).toBe(REDACTED);
    const values = one(stack, "kubernetes:helm.sh/v3:Release", "kube-prometheus-stack").args["values"] as Any;
    expect(values.alertmanager.alertmanagerSpec.volumes[0].secret.secretName).toBe("alertmanager-secrets");
    expect(values.alertmanager.config.receivers.length).toBeGreaterThan(0);
    expect(JSON.stringify(values.alertmanager.config)).not.toContain("mock-");
  });

  it("scrapes the API, the workers, the scheduler, postgres, CloudWatch (replica lag, AWS Backup) and RabbitMQ", () => {
    const monitors = k8sKind(stack, "ServiceMonitor").map((r) => (r.args["metadata"] as Any).name);
    expect(monitors.sort()).toEqual([API_SCRAPE_JOB, SCHEDULER_SCRAPE_JOB, WORKER_SCRAPE_JOB].sort());
    // The ServiceMonitors scrape the Services' `metrics` port, which is the processes' metrics listener.
    for (const m of k8sKind(stack, "ServiceMonitor")) expect((m.args["spec"] as Any).endpoints).toEqual([expect.objectContaining({ port: "metrics", path: "/metrics" })]);
    // Every process Deployment or Rollout is behind a Service a ServiceMonitor selects: no process goes unscraped.
    const services = k8sKind(stack, "Service").filter((r) => (r.args["spec"] as Any).ports.some((p: Any) => p.name === "metrics" && p.port === METRICS_PORT && p.targetPort === "metrics"));
    const selected = (labels: Record<string, string>) =>
      k8sKind(stack, "ServiceMonitor").some((m) => Object.entries((m.args["spec"] as Any).selector.matchLabels).every(([k, v]) => labels[k] === v));
    const scraped = services.filter((svc) => selected((svc.args["metadata"] as Any).labels));
    for (const workload of [...k8sKind(stack, "Deployment"), ...k8sKind(stack, "Rollout")].filter((w) => (w.args["metadata"] as Any).namespace === PRODUCT_NAMESPACE)) {
      const podLabels = ((workload.args["spec"] as Any).template?.metadata?.labels ?? {}) as Record<string, string>;
      const behind = scraped.some((svc) => Object.entries((svc.args["spec"] as Any).selector as Record<string, string>).every(([k, v]) => podLabels[k] === v));
      expect(behind, `${(workload.args["metadata"] as Any).name} has no scraped metrics Service`).toBe(true);
    }
    const releases = ofType(stack, "kubernetes:helm.sh/v3:Release").map((r) => r.name);
    expect(releases).toEqual(expect.arrayContaining(["postgres-exporter", "cloudwatch-exporter", "rabbitmq-exporter"]));
    const cw = JSON.parse((one(stack, "kubernetes:helm.sh/v3:Release", "cloudwatch-exporter").args["values"] as Any).config);
    expect(cw.metrics.map((m: Any) => m.aws_metric_name)).toContain("NumberOfBackupJobsFailed");
  });

  it("probes the external API /healthz and the frontend with exactly the job and instance labels the rules select", () => {
    const env = loadEnvironmentModel(stack);
    const probes = k8sKind(stack, "Probe");
    // What Prometheus gets from a Probe with static targets: job = spec.jobName, instance = the target URL.
    const produced = probes.flatMap((p) => {
      const spec = p.args["spec"] as Any;
      return (spec.targets.staticConfig.static as string[]).map((url) => ({ job: spec.jobName as string, instance: url }));
    });
    expect(produced).toEqual(expect.arrayContaining([{ job: BLACKBOX_JOB, instance: env.urls.apiProbe }, { job: BLACKBOX_JOB, instance: env.urls.frontendProbe }]));
    const selectors = selectorsIn(ruleExprs(env), probeSuccess.name);
    // Each URL is selected by its failure condition and by its missing-input condition (absent_over_time).
    expect([...new Set(selectors.map((s) => s["instance"]))].sort()).toEqual([env.urls.apiProbe, env.urls.frontendProbe].sort());
    for (const s of selectors) {
      expect(s["job"], JSON.stringify(s)).toBe(BLACKBOX_JOB);
      expect(produced, JSON.stringify(s)).toContainEqual(s);
    }
    // Every Probe goes through the blackbox exporter's Service with a module its config defines,
    // and is created after the CRDs and the exporter; Prometheus selects Probes outside the chart.
    const blackbox = release(stack, "blackbox-exporter");
    const bv = blackbox.args["values"] as Any;
    expect(blackbox.args).toMatchObject({ chart: "prometheus-blackbox-exporter", namespace: "monitoring", version: expect.stringMatching(/^\d+\.\d+\.\d+$/) });
    expect(dependsOn(stack, blackbox)).toContain(CRDS);
    for (const p of probes) {
      const spec = p.args["spec"] as Any;
      expect(spec.prober.url).toBe(`${bv.fullnameOverride}.monitoring.svc:${bv.service.port}`);
      expect(Object.keys(bv.config.modules)).toContain(spec.module);
      expect(dependsOn(stack, p)).toEqual(expect.arrayContaining([CRDS, `${blackbox.type}::${blackbox.name}`]));
    }
    expect((release(stack, "kube-prometheus-stack").args["values"] as Any).prometheus.prometheusSpec.probeSelectorNilUsesHelmValues).toBe(false);
  });

  it("scrapes the Argo Rollouts controller (rollout_info*) through the chart's ServiceMonitor, after the CRDs, keeping the Rollout's namespace", () => {
    const env = loadEnvironmentModel(stack);
    const argo = release(stack, "argo-rollouts");
    const metrics = (argo.args["values"] as Any).controller.metrics;
    expect(metrics.enabled).toBe(true);
    expect(metrics.serviceMonitor.enabled).toBe(true);
    expect(dependsOn(stack, argo)).toContain(CRDS);
    // The rules select the API's Rollout by its namespace and name; the controller exports them as
    // labels, and the target's namespace (argo-rollouts) must not replace the Rollout's.
    const rollout = k8sKind(stack, "Rollout")[0]!.args["metadata"] as Any;
    const argoNamespace = String(argo.args["namespace"]);
    for (const metric of [rolloutInfo, rolloutInfoReplicasAvailable, rolloutInfoReplicasDesired]) {
      const selectors = selectorsIn(ruleExprs(env), metric.name);
      expect(selectors.length, metric.name).toBeGreaterThan(0);
      for (const s of selectors) {
        expect(s, metric.name).toMatchObject({ namespace: rollout.namespace, name: rollout.name });
        // After scraping without honor_labels: exported_namespace holds the Rollout's, namespace the target's.
        const stored = relabel({ __name__: metric.name, namespace: argoNamespace, exported_namespace: rollout.namespace, name: rollout.name }, metrics.serviceMonitor.metricRelabelings ?? []);
        expect(stored, metric.name).toMatchObject({ namespace: s["namespace"], name: s["name"] });
        expect(stored["exported_namespace"]).toBeUndefined();
      }
    }
  });

  it("runs the API as a canary Rollout with probes, limits, a PDB and an HPA 70% CPU", () => {
    const { config } = get(stack);
    const rollout = k8sKind(stack, "Rollout")[0]!.args as Any;
    const steps = rollout.spec.strategy.canary.steps;
    expect(steps.filter((s: Any) => s.setWeight !== undefined).map((s: Any) => s.setWeight)).toEqual(config.app.api.canarySteps.map((s) => s.setWeight));
    expect(steps.filter((s: Any) => s.pause).length).toBe(config.app.api.canarySteps.length);
    expect(rollout.spec.strategy.canary.analysis.templates[0].templateName).toBe("api-error-rate");
    const template = k8sKind(stack, "AnalysisTemplate")[0]!.args as Any;
    expect(template.spec.metrics[0].provider.prometheus.query).toMatch(/sum\(rate\(http_requests_total\{[^}]*status_code=~"5.."/);
    const c = rollout.spec.template.spec.containers[0];
    expect(c.readinessProbe.httpGet.path).toBe("/readyz");
    expect(c.livenessProbe.httpGet.path).toBe("/healthz");
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, runAsNonRoot: true });
    const hpas = k8sKind(stack, "HorizontalPodAutoscaler");
    expect(hpas).toHaveLength(1); // the API's; workers are scaled by KEDA only
    const hpa = hpas[0]!.args as Any;
    expect(hpa.spec).toMatchObject({ scaleTargetRef: { kind: "Rollout", name: "api" }, minReplicas: 2, maxReplicas: config.app.api.maxReplicas });
    expect(hpa.spec.metrics[0].resource.target.averageUtilization).toBe(70);
    expect(k8sKind(stack, "PodDisruptionBudget")).toHaveLength(1);
  });

  it("scales one worker Deployment per job type with KEDA on its RabbitMQ queue", () => {
    const { config } = get(stack);
    const scaled = k8sKind(stack, "ScaledObject").map((r) => r.args as Any);
    expect(scaled).toHaveLength(JOB_TYPES.length);
    for (const type of JOB_TYPES) {
      const so = scaled.find((s) => s.spec.triggers[0].metadata.queueName === `jobs.${type}`);
      expect(so, type).toBeDefined();
      expect(so.spec.triggers[0].type).toBe("rabbitmq");
      expect(so.spec).toMatchObject({ minReplicaCount: config.app.workers[type].minReplicas, maxReplicaCount: config.app.workers[type].maxReplicas });
      const deployment = k8sKind(stack, "Deployment").find((d) => (d.args["metadata"] as Any).name === so.spec.scaleTargetRef.name)!;
      expect((deployment.args["spec"] as Any).replicas).toBeUndefined();
    }
  });

  it("creates the component database roles, then migrates, before the new version rolls out (where the database is writable)", () => {
    const jobs = k8sKind(stack, "Job");
    const dependents = [...k8sKind(stack, "Rollout"), ...k8sKind(stack, "Deployment")];
    expect(dependents.length).toBe(JOB_TYPES.length + 2);
    if (!writable(stack)) {
      expect(jobs).toEqual([]); // a replica is read-only: nothing to migrate until it is promoted
      return;
    }
    const migrate = jobs.find((j) => (j.args["metadata"] as Any).labels["app.kubernetes.io/name"] === "migrate")!;
    const roles = jobs.find((j) => (j.args["metadata"] as Any).labels["app.kubernetes.io/name"] === "db-roles")!;
    expect((migrate.args["spec"] as Any).template.spec.containers[0].command).toEqual(["npx", "prisma", "migrate", "deploy"]);
    expect((roles.args["spec"] as Any).template.spec.containers[0].command).toEqual(["node", "--import", "tsx", "ops/db-roles.ts"]);
    expect(dependsOn(stack, migrate)).toContain(`${roles.type}::${roles.name}`);
    for (const d of dependents) expect(dependsOn(stack, d), d.name).toContain(`${migrate.type}::${migrate.name}`);
  });

  it("isolates the app namespace: default deny plus explicit allows", () => {
    const policies = k8sKind(stack, "NetworkPolicy").map((r) => r.args as Any);
    const app = policies.filter((p) => p.metadata.namespace === "product-platform");
    const deny = app.find((p) => p.metadata.name === "default-deny");
    expect(deny.spec).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    expect(app.length).toBeGreaterThan(3);
    // Outside the app namespace only the digest's own policy (monitoring).
    expect(policies.filter((p) => p.metadata.namespace !== "product-platform").map((p) => `${p.metadata.namespace}/${p.metadata.name}`)).toEqual(["monitoring/alert-digest"]);
  });

  it("dumps the database every 30 minutes and drills a restore monthly where it is writable, and mails the alert digest daily", () => {
    const crons = k8sKind(stack, "CronJob").map((r) => r.args as Any);
    if (writable(stack)) {
      expect(crons.find((c) => c.metadata.name === "db-backup").spec.schedule).toBe("*/30 * * * *");
      expect(crons.find((c) => c.metadata.name === "restore-drill").spec.schedule).toBe("0 6 1 * *");
    } else {
      expect(crons.map((c) => c.metadata.name)).toEqual(["alert-digest"]);
    }
    expect(crons.find((c) => c.metadata.name === "alert-digest").spec.schedule).toBe("0 7 * * *");
  });
});

describe("per-environment sizing", () => {
  it("dev: 2 AZs, one NAT, single-AZ database without replica, single-instance broker, no PagerDuty", () => {
    expect(ofType("dev", "aws:ec2/subnet:Subnet")).toHaveLength(4);
    expect(ofType("dev", "aws:ec2/natGateway:NatGateway")).toHaveLength(1);
    expect(ofType("dev", "aws:rds/instance:Instance")).toHaveLength(1);
    expect(one("dev", "aws:eks/cluster:Cluster").args["vpcConfig"]).toMatchObject({ endpointPublicAccess: true, publicAccessCidrs: get("dev").config.cluster.publicAccessCidrs });
    expect(one("dev", "aws:rds/instance:Instance").args).toMatchObject({ multiAz: false, deletionProtection: false });
    expect(ofType("dev", "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication")).toHaveLength(0);
    expect(one("dev", "aws:mq/broker:Broker").args).toMatchObject({ deploymentMode: "SINGLE_INSTANCE", subnetIds: [expect.any(String)] });
    expect(get("dev").resources.filter((r) => r.type.startsWith("pagerduty:"))).toHaveLength(0);
  });

  it("staging: 3 AZs, replicated backups, but single-AZ database", () => {
    expect(ofType("staging", "aws:ec2/subnet:Subnet")).toHaveLength(6);
    expect(one("staging", "aws:rds/instance:Instance").args["multiAz"]).toBe(false);
    expect(ofType("staging", "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication")).toHaveLength(1);
  });

  it("prod: highly available, protected, replica and cross-region backups", () => {
    expect(ofType("prod", "aws:ec2/natGateway:NatGateway")).toHaveLength(3);
    const primary = one("prod", "aws:rds/instance:Instance", "prod-postgres").args;
    expect(primary).toMatchObject({ multiAz: true, deletionProtection: true, skipFinalSnapshot: false });
    const replica = one("prod", "aws:rds/instance:Instance", "prod-postgres-replica").args;
    expect(replica).toMatchObject({ replicateSourceDb: "prod-postgres", storageEncrypted: true, publiclyAccessible: false });
    const replication = one("prod", "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication");
    expect(replication.provider).toBe("prod-aws-secondary");
    expect(replication.args).toMatchObject({ retentionPeriod: 30, sourceDbInstanceArn: expect.stringContaining(":eu-west-1:"), kmsKeyId: expect.stringContaining(":eu-central-1:") });
    expect(one("prod", "pulumi:providers:aws", "prod-aws-secondary").args["region"]).toBe("eu-central-1");
    const plan = one("prod", "aws:backup/plan:Plan").args as Any;
    for (const rule of plan.rules) expect(rule.copyActions[0].destinationVaultArn).toContain(":eu-central-1:");
    expect(one("prod", "aws:mq/broker:Broker").args).toMatchObject({ deploymentMode: "CLUSTER_MULTI_AZ" });
    expect((one("prod", "aws:mq/broker:Broker").args["subnetIds"] as string[]).length).toBe(3);
  });

  it("prod: the CloudWatch exporter produces every CloudWatch metric the catalog declares", () => {
    const cw = JSON.parse((one("prod", "kubernetes:helm.sh/v3:Release", "cloudwatch-exporter").args["values"] as Any).config);
    const produced = new Set(cw.metrics.flatMap((m: Any) => m.aws_statistics.map((st: string) => cloudwatchPrometheusName(m.aws_namespace, m.aws_metric_name, st))));
    const declared = EXPORTER_METRICS.filter((m) => m.source === "cloudwatch-exporter");
    expect(declared.length).toBeGreaterThan(3);
    expect(declared).toContain(frontendDeploymentFailedMaximum);
    for (const { name } of declared) expect(produced, name).toContain(name);
    // Each declared label is a dimension the exporter fans out over, named as the exporter names it.
    for (const m of declared) {
      const rules = cw.metrics.filter((r: Any) => r.aws_statistics.some((st: string) => cloudwatchPrometheusName(r.aws_namespace, r.aws_metric_name, st) === m.name));
      for (const r of rules) expect(r.aws_dimensions.map((d: string) => cloudwatchLabelName(d)), m.name).toEqual(expect.arrayContaining([...m.labelNames]));
    }
  });

  it.each(STACKS)("%s: the CloudWatch exporter keeps the last frontend deployment's outcome, of this environment only, at scrape time", (stack) => {
    const cw = JSON.parse((one(stack, "kubernetes:helm.sh/v3:Release", "cloudwatch-exporter").args["values"] as Any).config);
    const s = FRONTEND_DEPLOY_SIGNAL;
    const rule = cw.metrics.find((m: Any) => m.aws_namespace === s.namespace && m.aws_metric_name === s.metricName);
    expect(rule).toMatchObject({ aws_dimensions: [s.dimension], aws_dimension_select: { [s.dimension]: [stack] }, aws_statistics: [s.statistic], set_timestamp: false, use_get_metric_data: true });
    expect(rule).toMatchObject({ period_seconds: FRONTEND_DEPLOY_QUERY.periodSeconds, range_seconds: FRONTEND_DEPLOY_QUERY.rangeSeconds, delay_seconds: FRONTEND_DEPLOY_QUERY.delaySeconds });
    // Longer than a week of no deployments; no longer than CloudWatch lists the metric (two weeks) and keeps one-minute data (15 days).
    expect(rule.range_seconds).toBeGreaterThanOrEqual(7 * 86400);
    expect(rule.range_seconds).toBeLessThanOrEqual(14 * 86400);
    expect(rule.period_seconds).toBe(60);
    // The rule reads the same environment label the exporter sets.
    expect(selectorsIn(ruleExprs(get(stack).env), frontendDeploymentFailedMaximum.name)).toEqual([{ environment: stack }]);
  });

  it("keeps the RPO of the config, the alerts and the dump schedule consistent", () => {
    for (const stack of STACKS) expect(get(stack).config.dr.rpoHours * 3600).toBe(THRESHOLDS.rpoSeconds);
    const cron = k8sKind("prod", "CronJob").find((c) => (c.args["metadata"] as Any).name === "db-backup")!;
    const minutes = Number(/^\*\/(\d+) /.exec((cron.args["spec"] as Any).schedule)![1]);
    expect(minutes * 60).toBeLessThan(THRESHOLDS.rpoSeconds);
  });

  it("prod: PagerDuty services, escalation policies and an Events API v2 key in Alertmanager's secret (an output of the AWS stack)", () => {
    expect(ofType("prod", "pagerduty:index/service:Service")).toHaveLength(PAGERDUTY_MODEL.services.length);
    expect(ofType("prod", "pagerduty:index/escalationPolicy:EscalationPolicy")).toHaveLength(PAGERDUTY_MODEL.escalationPolicies.length);
    const integrations = ofType("prod", "pagerduty:index/serviceIntegration:ServiceIntegration");
    const events = integrations.filter((i) => i.args["type"] === "events_api_v2_inbound_integration");
    expect(events).toHaveLength(PAGERDUTY_MODEL.services.length);
    const sms = ofType("prod", "pagerduty:index/userContactMethod:UserContactMethod").filter((m) => m.args["type"] === "sms_contact_method");
    expect(sms).toHaveLength(PAGERDUTY_MODEL.users.filter((u) => u.smsOptIn).length);
    // The routing key the AWS stack exports is the first service's Events API v2 integration key (the mock derives it from the name) ...
    expect(get("prod").aws.outputs["pagerdutyRoutingKey"]).toBe(`mock-integration-key-prod-pd-service-${PAGERDUTY_MODEL.services[0]!.key}-alertmanager`);
    // ... and the cluster stack puts what it reads from the AWS stack into Alertmanager's secret.
    const ref = one("prod", "pulumi:pulumi:StackReference");
    expect(ref).toMatchObject({ project: "platform-cluster", args: { name: "organization/platform/prod" } });
    const secret = ofType("prod", "kubernetes:core/v1:Secret").find((s) => s.name === "prod-alertmanager-secrets")!;
    expect(Object.keys(secret.args["stringData"] as object)).toContain("pagerduty-routing-key");
    expect(dependsOn("prod", secret)).toContain(`pulumi:pulumi:StackReference::${ref.name}`);
  });

  it("prod-dr: a cross-region read replica of prod's database, no failover record until promoted", () => {
    const refs = ofType("prod-dr", "pulumi:pulumi:StackReference");
    expect(refs.map((r) => `${r.project} ${String(r.args["name"])}`).sort()).toEqual(["platform organization/platform/prod", "platform-cluster organization/platform/prod-dr"]);
    const db = one("prod-dr", "aws:rds/instance:Instance").args as Any;
    expect(db.restoreToPointInTime).toBeUndefined();
    expect(db.replicateSourceDb).toBe(get("prod").aws.outputs["databaseArn"]);
    expect(db.replicateSourceDb).toMatch(/^arn:aws:rds:eu-west-1:\d{12}:db:prod-postgres$/);
    expect(db.kmsKeyId).toMatch(/^arn:aws:kms:eu-central-1:/);
    expect(db.dbName).toBeUndefined();
    expect(db.username).toBeUndefined();
    for (const p of ["platform", "platform-cluster"] as const) expect(ofType("prod-dr", "pulumi:providers:aws").find((r) => r.name === "prod-dr-aws" && r.project === p)!.args["region"]).toBe("eu-central-1");
    expect(ofType("prod-dr", "aws:route53/record:Record").filter((r) => r.args["failoverRoutingPolicies"] !== undefined)).toEqual([]);
    const primaryRecord = ofType("prod", "aws:route53/record:Record").find((r) => r.args["failoverRoutingPolicies"] !== undefined)!;
    expect(primaryRecord.args).toMatchObject({ name: "api.acme.example", failoverRoutingPolicies: [{ type: "PRIMARY" }], healthCheckId: expect.any(String) });
    expect(primaryRecord.project).toBe("platform-cluster");
    expect(one("prod-dr", "aws:route53/healthCheck:HealthCheck").args).toMatchObject({ type: "HTTPS", resourcePath: "/readyz" });
    expect(get("prod-dr").resources.filter((r) => r.type.startsWith("pagerduty:"))).toHaveLength(0);
  });
});
