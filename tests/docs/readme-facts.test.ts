/**
 * Facts the README states that the code decides: the Node version `engines` requires, the
 * dependency whose own `engines` makes `npm ci` warn on it, and the variables `npm run standins`
 * and the two listeners read. A change on either side fails here instead of surprising a reader.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import semver from "semver";
import { describe, expect, it } from "vitest";
import { STANDIN_PORTS } from "../pipeline/standins/index.js";

const ROOT = join(import.meta.dirname, "../..");
const read = (file: string) => readFile(join(ROOT, file), "utf8");

interface LockPackage {
  version?: string;
  engines?: { node?: string };
}

describe("the README", () => {
  it("says which Node version package.json's engines requires, and that this machine's Node has it", async () => {
    const pkg = JSON.parse(await read("package.json")) as { engines: { node: string } };
    const readme = await read("README.md");
    const range = pkg.engines.node;
    expect(readme).toContain(`\`engines\` in \`package.json\`: \`${range}\``);
    const min = semver.minVersion(range)!;
    expect(readme).toContain(`Node.js ${min.major}.${min.minor} or newer`);
    expect(semver.satisfies(process.version, range), `${process.version} against ${range}`).toBe(true);
  });

  it("names every installed package that does not run on the oldest Node that engines allows (npm ci's EBADENGINE warnings)", async () => {
    const lock = JSON.parse(await read("package-lock.json")) as { packages: Record<string, LockPackage> };
    const pkg = JSON.parse(await read("package.json")) as { engines: { node: string } };
    const oldest = semver.minVersion(pkg.engines.node)!.version;
    const refusing = Object.entries(lock.packages)
      .filter(([path, p]) => path !== "" && p.engines?.node && !semver.satisfies(oldest, p.engines.node))
      .map(([path]) => path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length));
    // Today that is one: @prisma/streams-local, under the Prisma CLI. A new one must be explained too.
    expect(refusing.length).toBeGreaterThan(0);
    const paragraph = (await read("README.md")).split("\n\n").find((p) => p.includes("EBADENGINE")) ?? "";
    for (const name of new Set(refusing)) expect(paragraph, name).toContain(`\`${name}\``);
  });

  it("documents every variable the stand-ins script reads, and the metrics listener's port", async () => {
    const script = await read("scripts/standins.ts");
    const readme = await read("README.md");
    const fromEnv = new Set([...script.matchAll(/process\.env\.([A-Z_]+)/g)].map((m) => m[1]!));
    const ports = Object.keys(STANDIN_PORTS);
    for (const name of ports) expect(script).toContain(`port("${name}")`);
    const names = [...ports, ...fromEnv, "PORT", "METRICS_PORT"];
    expect(names).toEqual(expect.arrayContaining(["STANDIN_SOURCE_PORT", "STANDIN_TRANSLATE_PORT", "STANDIN_STORE_PORT"]));
    for (const name of names) expect(readme, name).toContain(`\`${name}\``);
  });
});
