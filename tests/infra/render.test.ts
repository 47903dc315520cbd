/**
 * renderStack (infra/testing/mocks.ts) renders with stack traces and source maps off for speed:
 * both must come back afterwards, and a failing program must still report its error with a stack.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { renderStack } from "../../infra/testing/mocks.js";
import { loadStack } from "../../infra/testing/stacks.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

describe("renderStack", () => {
  it("restores Error.stackTraceLimit and source maps after a render", async () => {
    const cfg = await loadStack("dev");
    const [limit, sourceMaps] = [Error.stackTraceLimit, process.sourceMapsEnabled];
    const ok = await renderStack("dev", cfg.region, () => ({ answer: 42 }));
    expect(ok.outputs).toEqual({ answer: 42 });
    expect([Error.stackTraceLimit, process.sourceMapsEnabled]).toEqual([limit, sourceMaps]);
  });

  // In a child process: the Pulumi runtime leaves rejected promises behind a failed program.
  it("reports a failing program's error with its stack (rendered again with stack traces)", () => {
    const script = `
      const { renderStack } = await import("./infra/testing/mocks.ts");
      const { loadStack } = await import("./infra/testing/stacks.ts");
      process.on("unhandledRejection", () => {});
      const limit = Error.stackTraceLimit;
      let runs = 0;
      const failing = () => { runs++; throw new Error("program failed"); };
      const err = await renderStack("dev", (await loadStack("dev")).region, failing).then(() => undefined, (e) => e);
      console.log(JSON.stringify({ message: err?.message, stack: err?.stack, runs, restored: Error.stackTraceLimit === limit }));
    `;
    const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    const result = JSON.parse(out.trim().split("\n").pop()!) as { message: string; stack: string; runs: number; restored: boolean };
    expect(result.message).toBe("program failed");
    expect(result.stack).toMatch(/\n\s+at .*failing/);
    expect(result.runs).toBe(2);
    expect(result.restored).toBe(true);
  }, 60_000);
});
