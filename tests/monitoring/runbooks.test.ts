/** Runbooks: one committed page per alert with every section, matching what the definitions render. */
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { alertDefinitions, ruleGroups } from "../../alerts/rules/index.js";
import type { AlertingRule } from "../../alerts/rules/index.js";
import { PROCEDURES, RUNBOOK_SECTIONS, renderAllRunbooks, renderRunbookTree } from "../../alerts/runbooks.js";
import { ENVIRONMENTS, environment, environments } from "../../model/environments.js";
import { withCriticalAlertTable } from "../../alerts/decisions.js";
import type { EnvironmentModel } from "../../model/environments.js";

const RUNBOOK_DIR = join(import.meta.dirname, "../../runbooks");
const alertNames = [...new Set(alertDefinitions(environment("prod")).map((d) => d.name))];

/** The `## ` headings of a Markdown page, in order. */
const headings = (md: string): string[] => [...md.matchAll(/^## (.+)$/gm)].map((m) => m[1]!.trim());

const pages = ENVIRONMENTS.flatMap((env) => alertNames.map((name) => [env, name] as const));

describe("alert runbooks", () => {
  it.each(pages)("%s/%s has a committed runbook with every section, in order", async (env, name) => {
    const md = await readFile(join(RUNBOOK_DIR, env, `${name.toLowerCase()}.md`), "utf8");
    expect(headings(md)).toEqual([...RUNBOOK_SECTIONS]);
    for (const section of RUNBOOK_SECTIONS) {
      const body = md.split(`## ${section}`)[1]?.split(/^## /m)[0]?.trim() ?? "";
      expect(body.length, `${name}: ${section} is empty`).toBeGreaterThan(20);
    }
    const diagnosis = md.split("## Diagnosis")[1]!.split("## Mitigation")[0]!;
    expect(diagnosis).toContain("```promql");
    expect(diagnosis).toMatch(/```bash\n(kubectl|psql|aws|curl|amtool)/);
  });

  it.each([...ENVIRONMENTS])("every runbook_url in the %s rules points at that environment's committed page", async (name) => {
    for (const r of ruleGroups(environment(name)).flatMap((g) => g.rules.filter((x): x is AlertingRule => "alert" in x))) {
      const url = r.annotations?.runbook_url ?? "";
      const [env, file] = url.split("/").slice(-2);
      expect(env, url).toBe(name);
      await expect(readFile(join(RUNBOOK_DIR, name, file!), "utf8"), url).resolves.toContain(`# ${r.alert} (${name})`);
    }
  });

  it.each([...ENVIRONMENTS])("%s: FrontendDeploymentFailed tells its three causes apart by label and says how to recover a failed frontend deployment", async (name) => {
    const md = await readFile(join(RUNBOOK_DIR, name, "frontenddeploymentfailed.md"), "utf8");
    const what = md.split("## What is happening")[1]!.split(/^## /m)[0]!;
    const examples = alertDefinitions(environment(name)).find((d) => d.name === "FrontendDeploymentFailed")!.examples;
    // Every label set the rule's examples fire with (other than input-missing ones) is a cause the page names.
    const causeLabels = new Set(examples.filter((e) => !e.missingInput).flatMap((e) => e.fires.flatMap((f) => Object.keys(f.labels ?? {}))));
    expect([...causeLabels].sort()).toEqual(["environment", "instance", "name", "namespace"]);
    for (const label of causeLabels) expect(what, label).toContain(`\`${label}\``);
    const mitigation = md.split("## Mitigation")[1]!.split(/^## /m)[0]!;
    expect(mitigation).toContain(environment(name).config.deploy.frontendRepository);
    expect(mitigation).toMatch(/re-run the failed jobs/);
    expect(mitigation).toMatch(/redeploy the previous good build/);
  });

  it("the committed files are exactly what the alert definitions render (regenerate with npx tsx runbooks/generate.ts)", async () => {
    for (const [file, content] of renderRunbookTree()) expect(await readFile(join(RUNBOOK_DIR, file), "utf8"), file).toBe(content);
  });

  it("alerts/README.md lists every critical alert's incident and missing-input decision as the definitions render them (regenerate with npx tsx runbooks/generate.ts)", async () => {
    const readme = await readFile(join(RUNBOOK_DIR, "../alerts/README.md"), "utf8");
    expect(readme).toBe(withCriticalAlertTable(readme));
    const critical = new Set(alertDefinitions(environment("prod")).filter((d) => d.severity === "critical").map((d) => d.name));
    for (const name of critical) expect(readme, name).toMatch(new RegExp(`^\\| ${name} \\| \`[a-z-]+\` \\| (([a-z-]+, )*[a-z-]+: )?(fires|quiet|no such input)`, "m"));
  });

  it("has no stale page for an alert or environment that no longer exists", async () => {
    const expected = new Set(renderRunbookTree().keys());
    const present = (await readdir(RUNBOOK_DIR, { recursive: true })).filter((f) => f.endsWith(".md") && !f.startsWith("procedures/"));
    expect(present.filter((f) => !expected.has(f))).toEqual([]);
  });

  it.each([...ENVIRONMENTS])("the %s pages name no other environment's host or channel", (name) => {
    const env = environment(name);
    const own = new Set([...hostsOfEnv(env), env.monitoring.slack.alerts, env.monitoring.slack.critical, env.monitoring.slack.admins]);
    const foreign = environments()
      .filter((e) => e.name !== name)
      .flatMap((e) => [...hostsOfEnv(e), e.monitoring.slack.alerts, e.monitoring.slack.critical, e.monitoring.slack.admins])
      .filter((h) => !own.has(h));
    for (const [file, md] of renderAllRunbooks(env)) {
      for (const h of foreign) expect(mentions(md, h), `${name}/${file} names ${h}`).toBe(false);
    }
  });
});

describe("procedures", () => {
  it.each([...PROCEDURES])("%s exists with steps", async (name) => {
    const md = await readFile(join(RUNBOOK_DIR, "procedures", `${name}.md`), "utf8");
    expect(md).toMatch(/^# Procedure: /);
    expect(md).toMatch(/```bash/);
  });

  it("every procedure a runbook links to exists", async () => {
    const procs = new Set<string>(PROCEDURES);
    let links = 0;
    for (const content of renderRunbookTree().values()) {
      for (const m of content.matchAll(/\((?:\.\.\/)?procedures\/([a-z-]+)\.md\)/g)) {
        links++;
        expect(procs, m[1]).toContain(m[1]);
      }
    }
    expect(links).toBeGreaterThan(20);
  });

  it.each([...PROCEDURES])("%s names no environment's host: it uses the variables of environments.md", async (name) => {
    const md = await readFile(join(RUNBOOK_DIR, "procedures", `${name}.md`), "utf8");
    for (const e of environments()) for (const h of hostsOfEnv(e)) expect(mentions(md, h), `${name} names ${h}`).toBe(false);
  });

  it("the DLQ procedure documents the admin API with a bearer token", async () => {
    const md = await readFile(join(RUNBOOK_DIR, "procedures", "dlq-review-and-replay.md"), "utf8");
    expect(md).toContain("GET");
    expect(md).toContain("/v1/admin/dead-jobs");
    expect(md).toContain("/v1/admin/dead-jobs/retry");
    expect(md).toContain("/v1/admin/dead-jobs/discard");
    expect(md).toContain("Authorization: Bearer");
  });
});

/** Every host an environment owns: its API, frontend and Grafana. */
function hostsOfEnv(e: EnvironmentModel): string[] {
  return [e.hosts.api, e.hosts.frontend, new URL(e.monitoring.grafanaUrl).host];
}

/** Whether the page names `token` as a whole host or channel (#incidents-prod is not in #incidents-prod-dr). */
function mentions(md: string, token: string): boolean {
  const escaped = token.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(?<![a-z0-9.-])${escaped}(?![a-z0-9-]|\\.[a-z0-9])`).test(md);
}
