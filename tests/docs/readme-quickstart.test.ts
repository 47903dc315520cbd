/**
 * The README's local walkthrough ("Try it locally" and "Jobs and the dead-letter queue"), run
 * the way a reader runs it. Its ```sh blocks are read from README.md: `npm run standins` and
 * `npm start` start as child processes (on free ports, through the variables the README
 * documents; Postgres on a fresh empty database, as the README's `DATABASE_URL` variant says),
 * and every curl command runs through bash as written, with the README's default ports replaced
 * by the chosen ones and each <placeholder> filled from an earlier answer, as a reader fills it.
 * Each answer's HTTP status must be a 2xx, or the one the README promises with `# -> <status>`.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { configSchema, loadConfig } from "../../services/config.js";
import { createEmptyDatabase, type TestDatabase } from "../helpers/db.js";
import { freePort, startProcess, type Running } from "../helpers/processes.js";
import { waitFor } from "../helpers/wait.js";
import { STANDIN_PORTS } from "../pipeline/standins/index.js";
import { isAssignment, markdownSection, requestOf, shellBlocks, shellCommands, type ShellCommand } from "./readme-shell.js";

const ROOT = join(import.meta.dirname, "../..");
const execFileP = promisify(execFile);

/** What a fresh terminal has: none of the service's settings, none of the test runner's npm variables. */
function readerEnv(): NodeJS.ProcessEnv {
  const settings = new Set([...Object.keys(configSchema.shape), ...Object.keys(STANDIN_PORTS)]);
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !settings.has(k) && !k.startsWith("npm_") && !k.startsWith("VITEST")));
}

interface Answer {
  readonly request: string;
  readonly status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: any;
}

/** Where a reader takes each placeholder's value from: the newest answer that has it. */
const PLACEHOLDERS: Record<string, (a: Answer) => string | undefined> = {
  importId: (a) => a.body?.importId,
  id: (a) => (/^GET \/v1\/products\?/.test(a.request) ? a.body?.items?.[0]?.id : undefined),
  "job id": (a) => (/^GET \/v1\/(jobs\?|admin\/dead-jobs$)/.test(a.request) ? a.body?.items?.[0]?.id : undefined),
};

describe("the README's local walkthrough", () => {
  const running: Running[] = [];
  let database: TestDatabase | undefined;
  let storageDir: string | undefined;
  afterAll(async () => {
    // The pipeline first (it drains), then the stand-ins; then its database.
    for (const p of running.reverse()) await p.stop();
    await database?.drop();
    if (storageDir) await rm(storageDir, { recursive: true, force: true });
  });

  it("runs every command as written and each answers with the status it should", async () => {
    const readme = await readFile(join(ROOT, "README.md"), "utf8");
    const blocks = shellBlocks(markdownSection(readme, "### Try it locally")).map(shellCommands);
    expect(blocks.length).toBeGreaterThanOrEqual(6);

    // The README's default ports, each moved to a free one through the variable the README names.
    const defaults = loadConfig({});
    const ports = new Map<number, number>();
    const env: Record<string, string> = {};
    for (const [name, port] of Object.entries(STANDIN_PORTS)) {
      const free = await freePort();
      ports.set(port, free);
      env[name] = String(free);
    }
    // "The defaults already point TRANSLATION_URL at http://127.0.0.1:5000 and STORE_URL at http://127.0.0.1:4000."
    expect(new URL(defaults.TRANSLATION_URL).port).toBe(String(STANDIN_PORTS.STANDIN_TRANSLATE_PORT));
    expect(new URL(defaults.STORE_URL).port).toBe(String(STANDIN_PORTS.STANDIN_STORE_PORT));
    for (const key of ["PORT", "METRICS_PORT"] as const) {
      const free = await freePort();
      ports.set(defaults[key], free);
      env[key] = String(free);
    }
    database = await createEmptyDatabase("readme");
    storageDir = await mkdtemp(join(tmpdir(), "readme-images-"));
    const pipelineEnv = {
      ...env,
      DATABASE_URL: database.url,
      TRANSLATION_URL: `http://127.0.0.1:${env.STANDIN_TRANSLATE_PORT}`,
      STORE_URL: `http://127.0.0.1:${env.STANDIN_STORE_PORT}`,
      STORAGE_DIR: storageDir,
    };

    const withPorts = (code: string) =>
      code.replace(/\b(localhost|127\.0\.0\.1):(\d+)\b/g, (_m, host: string, port: string) => {
        const to = ports.get(Number(port));
        if (to === undefined) throw new Error(`the README uses port ${port}, which no documented variable moves: ${code}`);
        return `${host}:${to}`;
      });
    const answers: Answer[] = [];
    const withValues = (code: string) =>
      code.replace(/<([^<>]+)>/g, (_m, name: string) => {
        const from = PLACEHOLDERS[name];
        if (!from) throw new Error(`the README's placeholder <${name}> has no earlier answer to take it from: ${code}`);
        const value = answers.toReversed().map(from).find((v) => v !== undefined);
        if (value === undefined) throw new Error(`no earlier answer gives <${name}> for: ${code}\n${JSON.stringify(answers.at(-1))}`);
        return value;
      });

    const started = async (command: ShellCommand) => {
      const p = startProcess("bash", ["-c", command.code], { cwd: ROOT, env: { ...readerEnv(), ...pipelineEnv }, group: true });
      running.push(p);
      const failed = () => new Error(`\`${command.code}\` did not come up:\n${p.output()}`);
      if (command.code === "npm run standins") {
        await waitFor("the stand-ins", () => p.output().includes("Ctrl-C to stop."), 30_000, 100).catch(() => Promise.reject(failed()));
      } else if (command.code === "npm start") {
        await waitFor("the pipeline", async () => (await fetch(`http://127.0.0.1:${env.PORT}/healthz`)).ok, 60_000, 200, true).catch(() => Promise.reject(failed()));
      } else {
        throw new Error(`the README starts \`${command.code}\`; this test knows how to wait for npm run standins and npm start`);
      }
    };

    const assignments: string[] = [];
    const ran: string[] = [];
    for (const command of blocks.flat()) {
      if (isAssignment(command.code)) {
        assignments.push(command.code);
        continue;
      }
      if (command.code.startsWith("npm ")) {
        await started(command);
        continue;
      }
      expect(command.code, "a walkthrough command").toMatch(/^curl /);
      const request = requestOf(command.code)!;
      ran.push(`${request.method} ${request.path}`);
      const code = withValues(withPorts(command.code));
      // Bash runs the README's command itself; curl only also prints the status after the body.
      const script = [`curl() { command curl --max-time 30 -w '\\n%{http_code}' "$@"; }`, ...assignments, code].join("\n");
      const run = async (): Promise<Answer> => {
        const { stdout } = await execFileP("bash", ["-c", script], { cwd: ROOT, env: readerEnv() });
        const lines = stdout.split("\n");
        const status = Number(lines.pop());
        const text = lines.join("\n");
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // metrics text
        }
        return { request: `${request.method} ${request.path}`, status, body };
      };
      // A progress answer that is not done yet is asked again, as a reader watching it would.
      const answer = await waitFor(`an answer to ${command.code}`, async () => {
        const a = await run();
        return a.body?.done === false ? undefined : a;
      }, 60_000, 250);
      answers.push(answer);
      const expected = command.expect;
      const summary = `${command.code}\n-> ${answer.status} ${typeof answer.body === "string" ? answer.body.slice(0, 300) : JSON.stringify(answer.body).slice(0, 300)}`;
      if (expected !== undefined) expect(answer.status, summary).toBe(expected);
      else expect(answer.status >= 200 && answer.status < 300, summary).toBe(true);
    }

    // Every documented path ran, so the test cannot pass by finding fewer commands.
    expect(ran).toEqual(
      expect.arrayContaining([
        "POST /v1/imports",
        "GET /v1/imports/<importId>",
        "GET /v1/products?status=in_review",
        "GET /v1/products/<id>",
        "POST /v1/products/<id>/review",
        "POST /v1/products/<id>/push",
        "GET /products",
        "POST /v1/source-checks",
        "GET /metrics",
        "GET /readyz",
        "GET /v1/jobs?type=image&status=dead",
        "GET /v1/jobs/<job id>",
        "GET /v1/admin/dead-jobs",
        "POST /v1/admin/dead-jobs/retry",
        "POST /v1/admin/dead-jobs/discard",
      ]),
    );
    // The walkthrough did what it says: the import settled with the broken product failed, and
    // the approved product reached the store, once.
    const progress = answers.find((a) => a.request === "GET /v1/imports/<importId>")!.body as { byStatus: Record<string, number> };
    expect(progress.byStatus).toEqual({ in_review: 3, failed: 1 });
    const pushed = await waitFor(
      "the approved product in the store",
      async () => {
        const items = (await (await fetch(`http://127.0.0.1:${env.STANDIN_STORE_PORT}/products`)).json()) as unknown[];
        return items.length > 0 ? items : undefined;
      },
      30_000,
      250,
    );
    expect(pushed).toHaveLength(1);
  }, 240_000);
});
