/**
 * The deploy workflow's other two checks, as it runs them:
 * - `npm run e2e:deployed` takes one product from a source page through the running pipeline
 *   (services/platform.ts through the pipeline harness: real Postgres and RabbitMQ, the stand-in
 *   source site, LibreTranslate and store) to in_review, and fails, naming the step, when the page
 *   does not exist or its image is corrupt;
 * - `npm run deploy:critical-alerts` asks a real Alertmanager (Debian's) for active critical
 *   alerts: none, a warning, or a silenced critical pass; an active critical one fails and is
 *   listed; an Alertmanager it cannot reach fails.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { SEVERITY } from "../../alerts/severity.js";
import { freePort } from "../helpers/processes.js";
import { waitFor } from "../helpers/wait.js";
import { startHarness, TOKEN, type PipelineHarness } from "../pipeline/harness.js";
import { checkLine, npmRun, removeTempFiles, tempFile } from "./cli.js";

describe("npm run e2e:deployed", () => {
  let h: PipelineHarness;
  const tokenFile = tempFile("token", `${TOKEN}\n`);
  beforeAll(async () => {
    h = await startHarness();
  }, 60_000);
  afterAll(async () => {
    await h?.close();
    removeTempFiles();
  });

  it("follows one product from its source page to in_review with translations and images", async () => {
    const url = h.site.setProduct("e2e-kettle", { title: "Electric kettle", description: "Boils water fast.", price: "29.90", currency: "EUR", images: ["red.jpg"], format: "json" });
    const r = await npmRun("e2e:deployed", ["--base-url", h.baseUrl, "--source-url", url, "--token-file", tokenFile, "--budget", "60s"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const step of ["import", "imported", "in-review", "translations", "images"]) expect(checkLine(r.stdout, step), step).toMatch(/^PASS/);
    expect(checkLine(r.stdout, "translations")).toMatch(/de, fr/);
    expect(checkLine(r.stdout, "images")).toMatch(/1 image\(s\), variants thumb, medium/);
  });

  it("fails at the import when the source page does not exist", async () => {
    const r = await npmRun("e2e:deployed", ["--base-url", h.baseUrl, "--source-url", `${h.site.url}/p/no-such-product`, "--token-file", tokenFile, "--budget", "60s"]);
    expect(r.code, r.stdout).toBe(1);
    expect(checkLine(r.stdout, "import")).toMatch(/^PASS/);
    expect(checkLine(r.stdout, "imported")).toMatch(/^FAIL/);
    expect(checkLine(r.stdout, "in-review")).toBeUndefined();
  });

  it("fails before in_review when the product's image is corrupt, with the reason", async () => {
    const url = h.site.setProduct("e2e-broken", { title: "Broken", description: "Its image is corrupt.", price: "1.00", currency: "EUR", images: ["corrupt.jpg"], format: "json" });
    const r = await npmRun("e2e:deployed", ["--base-url", h.baseUrl, "--source-url", url, "--token-file", tokenFile, "--budget", "60s"]);
    expect(r.code, r.stdout).toBe(1);
    expect(checkLine(r.stdout, "in-review")).toMatch(/^FAIL .*is failed/);
  });

  it("needs a token and a source URL", async () => {
    const r = await npmRun("e2e:deployed", ["--base-url", h.baseUrl, "--token-file", tokenFile]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--source-url is required/);
  });
});

describe("npm run deploy:critical-alerts", () => {
  let am: ChildProcess | undefined;
  let amUrl = "";
  let dir = "";
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "am-critical-"));
    writeFileSync(join(dir, "alertmanager.yaml"), stringify({ route: { receiver: "null", group_by: ["alertname"] }, receivers: [{ name: "null" }] }));
    const port = await freePort();
    amUrl = `http://127.0.0.1:${port}`;
    am = spawn("/usr/bin/prometheus-alertmanager", [`--config.file=${join(dir, "alertmanager.yaml")}`, `--storage.path=${join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`, "--cluster.listen-address="], { stdio: "ignore" });
    await waitFor("alertmanager ready", async () => (await fetch(`${amUrl}/-/ready`)).ok, 30_000, 100, true);
  }, 60_000);
  afterAll(async () => {
    if (am && am.exitCode === null) {
      am.kill("SIGTERM");
      await new Promise((r) => am?.once("exit", r));
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const post = async (alertname: string, severity: string, labels: Record<string, string> = {}) => {
    const body = [{ labels: { alertname, severity, namespace: "product-platform", ...labels }, annotations: { summary: `${alertname} fired.` }, startsAt: new Date(Date.now() - 60_000).toISOString() }];
    const res = await fetch(`${amUrl}/api/v2/alerts`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    await waitFor(`${alertname} to be active`, async () => {
      const list = (await (await fetch(`${amUrl}/api/v2/alerts?filter=alertname="${alertname}"`)).json()) as unknown[];
      return list.length > 0;
    }, 10_000, 100);
  };

  it("passes with no alert, and with warnings only", async () => {
    const none = await npmRun("deploy:critical-alerts", ["--alertmanager-url", amUrl]);
    expect(none.code, none.stdout + none.stderr).toBe(0);
    expect(checkLine(none.stdout, "no-critical-alert")).toMatch(/^PASS/);
    await post("QueueBacklogGrowing", SEVERITY.warning);
    const warning = await npmRun("deploy:critical-alerts", ["--alertmanager-url", amUrl]);
    expect(warning.code, warning.stdout).toBe(0);
  });

  it("fails while a critical alert is active, and lists it", async () => {
    await post("ApiHighErrorRate", SEVERITY.critical, { service: "api" });
    const r = await npmRun("deploy:critical-alerts", ["--alertmanager-url", amUrl]);
    expect(r.code).toBe(1);
    expect(checkLine(r.stdout, "ApiHighErrorRate")).toMatch(/^FAIL\s+ApiHighErrorRate\s+critical since .*\{namespace=product-platform,service=api\}: ApiHighErrorRate fired\./);
    expect(checkLine(r.stdout, "QueueBacklogGrowing")).toBeUndefined();
  });

  it("passes once the critical alert is silenced", async () => {
    const silence = { matchers: [{ name: "alertname", value: "ApiHighErrorRate", isRegex: false, isEqual: true }], startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 3_600_000).toISOString(), createdBy: "test", comment: "known" };
    expect((await fetch(`${amUrl}/api/v2/silences`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(silence) })).status).toBe(200);
    await waitFor("the silence to apply", async () => {
      const list = (await (await fetch(`${amUrl}/api/v2/alerts?silenced=false&filter=alertname="ApiHighErrorRate"`)).json()) as unknown[];
      return list.length === 0;
    }, 10_000, 100);
    const r = await npmRun("deploy:critical-alerts", ["--alertmanager-url", amUrl]);
    expect(r.code, r.stdout).toBe(0);
  });

  it("fails when Alertmanager cannot be asked", async () => {
    const r = await npmRun("deploy:critical-alerts", ["--alertmanager-url", `http://127.0.0.1:${await freePort()}`, "--budget", "5s"]);
    expect(r.code).toBe(1);
    expect(checkLine(r.stdout, "alertmanager")).toMatch(/^FAIL .*ECONNREFUSED/);
  });
});
