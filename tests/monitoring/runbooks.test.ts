/** Runbooks: one committed page per alert with every section, matching what the definitions render. */
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { alertDefinitions, ruleGroups } from "../../alerts/rules/index.js";
import type { AlertingRule } from "../../alerts/rules/index.js";
import { PROCEDURES, RUNBOOK_SECTIONS, renderAllRunbooks, renderRunbookIndex } from "../../alerts/runbooks.js";

const RUNBOOK_DIR = join(import.meta.dirname, "../../runbooks");
const alertNames = [...new Set(alertDefinitions("prod").map((d) => d.name))];

/** The `## ` headings of a Markdown page, in order. */
const headings = (md: string): string[] => [...md.matchAll(/^## (.+)$/gm)].map((m) => m[1]!.trim());

describe("alert runbooks", () => {
  it.each(alertNames)("%s has a committed runbook with every section, in order", async (name) => {
    const md = await readFile(join(RUNBOOK_DIR, `${name.toLowerCase()}.md`), "utf8");
    expect(headings(md)).toEqual([...RUNBOOK_SECTIONS]);
    for (const section of RUNBOOK_SECTIONS) {
      const body = md.split(`## ${section}`)[1]?.split(/^## /m)[0]?.trim() ?? "";
      expect(body.length, `${name}: ${section} is empty`).toBeGreaterThan(20);
    }
    const diagnosis = md.split("## Diagnosis")[1]!.split("## Mitigation")[0]!;
    expect(diagnosis).toContain("```promql");
    expect(diagnosis).toMatch(/```bash\n(kubectl|psql|aws|curl|amtool)/);
  });

  it("every runbook_url in the rules points at one of these files", () => {
    const files = new Set(alertNames.map((n) => `${n.toLowerCase()}.md`));
    for (const r of ruleGroups("prod").flatMap((g) => g.rules.filter((x): x is AlertingRule => "alert" in x))) {
      expect(files).toContain(r.annotations?.runbook_url?.split("/").pop());
    }
  });

  it("the committed files are exactly what the alert definitions render (regenerate with npx tsx runbooks/generate.ts)", async () => {
    for (const [file, content] of renderAllRunbooks()) expect(await readFile(join(RUNBOOK_DIR, file), "utf8"), file).toBe(content);
    expect(await readFile(join(RUNBOOK_DIR, "README.md"), "utf8")).toBe(renderRunbookIndex());
  });

  it("has no stale runbook for an alert that no longer exists", async () => {
    const expected = new Set([...alertNames.map((n) => `${n.toLowerCase()}.md`), "README.md"]);
    const present = (await readdir(RUNBOOK_DIR)).filter((f) => f.endsWith(".md"));
    expect(present.filter((f) => !expected.has(f))).toEqual([]);
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
    for (const content of renderAllRunbooks().values()) {
      for (const m of content.matchAll(/\(procedures\/([a-z-]+)\.md\)/g)) expect(procs, m[1]).toContain(m[1]);
    }
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
