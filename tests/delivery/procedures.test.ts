/**
 * The deploy and rollback procedures, and the README's delivery section, describe what the
 * workflows do, with the workflows' own job names; and no procedure names an environment's host
 * or namespace: they use the variables of runbooks/environments.md ($ENV, $API, $GRAFANA,
 * $NAMESPACE), so one page serves every environment.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { environments } from "../../model/environments.js";
import { REPO_ROOT } from "./dockerfile.js";
import { loadWorkflow } from "./workflows.js";

const read = (file: string) => readFileSync(join(REPO_ROOT, file), "utf8");
const PROCEDURES = "runbooks/procedures";
const deployMd = read(`${PROCEDURES}/deploy.md`);
const rollbackMd = read(`${PROCEDURES}/rollback.md`);
const readme = read("README.md");
const delivery = readme.slice(readme.indexOf("## Delivery"), readme.indexOf("\n## ", readme.indexOf("## Delivery") + 5));

describe("runbooks/procedures/deploy.md", () => {
  it("names every job of deploy.yml and deploy-stack.yml, by id and by name", () => {
    for (const file of ["deploy.yml", "deploy-stack.yml"]) {
      for (const [id, job] of Object.entries(loadWorkflow(file).doc.jobs)) {
        expect(deployMd, `${file} job ${id}`).toContain(`\`${id}\``);
        if (job.name) expect(deployMd, `${file} job ${id}'s name`).toContain(job.name);
      }
    }
  });

  it("names the ci.yml checks a pull request must pass", () => {
    for (const id of Object.keys(loadWorkflow("ci.yml").doc.jobs)) expect(deployMd, `ci.yml job ${id}`).toContain(`\`${id}\``);
  });

  it("gives the commands the cluster job runs", () => {
    const run = Object.values(loadWorkflow("deploy-stack.yml").doc.jobs).flatMap((j) => (j.steps ?? []).map((s) => s.run ?? "")).join("\n");
    expect(run).toContain('kubectl argo rollouts status "$ROLLOUT" -n "$NAMESPACE" --timeout 45m');
    expect(deployMd).toContain("kubectl argo rollouts status api -n $NAMESPACE --timeout 45m");
    expect(run).toContain("--policy-pack infra/policies/pack");
    expect(deployMd).toContain("--policy-pack infra/policies/pack");
    expect(deployMd).toContain("npm run smoke -- --base-url $API");
    expect(deployMd).toContain("npm run deploy:critical-alerts");
  });
});

describe("runbooks/procedures/rollback.md", () => {
  it("describes the automatic rollback step by step, as scripts/delivery/rollback.sh does it", () => {
    const script = read("scripts/delivery/rollback.sh");
    for (const [inScript, inDoc] of [
      ['kubectl argo rollouts abort "$rollout" -n "$namespace"', "kubectl argo rollouts abort api -n $NAMESPACE"],
      ["pulumi config set --path 'platform:app.imageTag' \"$previous\"", "pulumi config set --path platform:app.imageTag <previous-tag>"],
      ['pulumi up --yes --stack "$stack" --cwd infra/cluster', "pulumi up --stack $ENV --cwd infra/cluster"],
      ['kubectl argo rollouts status "$rollout" -n "$namespace" --timeout 20m', "kubectl argo rollouts status api -n $NAMESPACE --timeout 20m"],
    ]) {
      expect(script, inScript).toContain(inScript);
      expect(rollbackMd, inDoc).toContain(inDoc);
    }
    expect(rollbackMd).toContain("scripts/delivery/rollback.sh");
  });
});

describe("the README's delivery section", () => {
  it("names every job of deploy.yml", () => {
    expect(delivery.length).toBeGreaterThan(1000);
    for (const id of Object.keys(loadWorkflow("deploy.yml").doc.jobs)) expect(delivery, id).toContain(`\`${id}\``);
  });
});

describe("every procedure", () => {
  const files = readdirSync(join(REPO_ROOT, PROCEDURES)).filter((f) => f.endsWith(".md"));
  const hosts = [...new Set(environments().flatMap((e) => [e.hosts.api, e.hosts.frontend, new URL(e.monitoring.grafanaUrl).host]))];
  const namespaces = [...new Set(environments().map((e) => e.namespace))];
  const hostsIn = (text: string) => hosts.filter((h) => text.includes(h));
  const namespacesIn = (text: string) => namespaces.filter((ns) => new RegExp(`(-n|--namespace[ =]|namespace:?)\\s*${ns}\\b`).test(text));

  it("names no environment's host: it uses $API, $GRAFANA and the other variables of environments.md", () => {
    expect(hosts.length).toBeGreaterThan(4);
    for (const f of files) expect(hostsIn(read(`${PROCEDURES}/${f}`)), f).toEqual([]);
  });

  it("names no namespace: it uses $NAMESPACE", () => {
    for (const f of files) expect(namespacesIn(read(`${PROCEDURES}/${f}`)), f).toEqual([]);
  });

  it("would be caught naming a host or a namespace (the checks read what they claim to)", () => {
    const prod = environments().find((e) => e.name === "prod")!;
    expect(hostsIn(`curl -s https://${prod.hosts.api}/healthz`)).toEqual([prod.hosts.api]);
    expect(hostsIn(`open ${prod.monitoring.grafanaUrl}/d/pp-api`)).toEqual([new URL(prod.monitoring.grafanaUrl).host]);
    expect(namespacesIn(`kubectl -n ${prod.namespace} get pods`)).toEqual([prod.namespace]);
    expect(namespacesIn("kubectl -n $NAMESPACE get pods")).toEqual([]);
  });
});
