/**
 * One source of truth for metric names: dashboards and alert code must build PromQL from the
 * catalog objects, never from a metric name typed as text. This scans their sources for any
 * declared series name (including histogram _bucket/_sum/_count) written out literally.
 */
import { readFile, readdir } from "node:fs/promises";
import { environment } from "../../model/environments.js";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { declaredSeries } from "./helpers.js";

const ROOT = join(import.meta.dirname, "../..");

async function tsFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith(".ts")).map((e) => join(e.parentPath, e.name));
}

describe("metric names are never retyped", () => {
  it("dashboards/ and alerts/ name no declared series in their source text", async () => {
    // Recording rules are named through sliErrorRecord(); single-word names such as `up` are too common to scan for.
    const names = [...declaredSeries(environment("prod")).entries()].filter(([n, d]) => d.metric !== undefined && n.includes("_")).map(([n]) => n);
    const offenders: string[] = [];
    for (const file of [...(await tsFiles(join(ROOT, "dashboards"))), ...(await tsFiles(join(ROOT, "alerts")))]) {
      const text = await readFile(file, "utf8");
      for (const name of names) {
        if (new RegExp(`(?<![A-Za-z0-9_])${name}(?![A-Za-z0-9_])`).test(text)) offenders.push(`${relative(ROOT, file)}: ${name}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
