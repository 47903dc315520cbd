/**
 * Every `pulumi config set` an operator can copy from the README, infra/README.md, the runbooks or
 * the stack files' comments names a key the stack config accepts, with the flags it needs
 * (`--path` for nested keys, `--secret` for secrets). A renamed key fails here, not at 3 a.m.
 */
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configSetProblem } from "../../model/stack-config.js";

const ROOT = join(import.meta.dirname, "../..");

interface ConfigSet {
  readonly where: string;
  readonly line: string;
  readonly key: string;
  readonly path: boolean;
  readonly secret: boolean;
}

/** Flags of `pulumi config set` that take a value. */
const FLAGS_WITH_VALUE = new Set(["--stack", "-s", "--config-file", "--cwd", "-C"]);

/**
 * Parses `pulumi config set [flags] <key> [value]` out of text. Undefined when the text only names
 * the command (prose such as "set with `pulumi config set --secret`"): the command ends at a
 * backtick, a closing parenthesis or the end of the line before any key.
 */
export function parseConfigSet(text: string): Omit<ConfigSet, "where" | "line"> | undefined {
  const command = text.replace(/^pulumi config set/, "").split(/[`)]/)[0] ?? "";
  const tokens = command.trim().split(/\s+/).filter(Boolean);
  let path = false;
  let secret = false;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t === "--path") path = true;
    else if (t === "--secret") secret = true;
    else if (FLAGS_WITH_VALUE.has(t)) i++;
    else if (t.startsWith("-")) continue;
    else return { key: t, path, secret };
  }
  return undefined;
}

async function documentedCommands(): Promise<ConfigSet[]> {
  const files = [
    "README.md",
    "infra/README.md",
    ...(await readdir(join(ROOT, "infra/cluster"))).filter((f) => /^Pulumi\..+\.yaml$/.test(f)).map((f) => `infra/cluster/${f}`),
    ...(await readdir(join(ROOT, "runbooks"), { recursive: true })).filter((f) => f.endsWith(".md")).map((f) => `runbooks/${f}`),
    ...(await readdir(ROOT)).filter((f) => /^Pulumi\..+\.yaml$/.test(f)),
  ];
  const out: ConfigSet[] = [];
  for (const file of files) {
    const lines = (await readFile(join(ROOT, file), "utf8")).split("\n");
    for (const [i, line] of lines.entries()) {
      for (const part of line.split(/(?=pulumi config set)/)) {
        if (!part.startsWith("pulumi config set")) continue;
        const parsed = parseConfigSet(part);
        if (parsed) out.push({ where: `${file}:${i + 1}`, line: part.trim(), ...parsed });
      }
    }
  }
  return out;
}

describe("documented pulumi config commands", () => {
  it("name keys of the stack config, with --path for nested keys and --secret for secrets", async () => {
    const commands = await documentedCommands();
    expect(commands.length).toBeGreaterThan(10);
    const problems = commands.flatMap((c) => {
      const p = configSetProblem(c.key, c);
      return p ? [`${c.where}: ${p}  (${c.line})`] : [];
    });
    expect(problems).toEqual([]);
  });

  it("the checker rejects what the validator would reject", () => {
    expect(configSetProblem("platform:app.imageTag", { path: false, secret: false })).toMatch(/needs --path/);
    expect(configSetProblem("platform:app.imageTag", { path: true, secret: false })).toBeUndefined();
    expect(configSetProblem("platform:app.imageTags", { path: true, secret: false })).toMatch(/platform:app\.imageTags: unknown key/);
    expect(configSetProblem("platform:rds.backupWindow", { path: true, secret: false })).toBeUndefined();
    expect(configSetProblem("platform:app.api.canarySteps[0].setWeight", { path: true, secret: false })).toBeUndefined();
    expect(configSetProblem("platform:slackWebhookUrl", { path: false, secret: true })).toMatch(/a secret of the cluster stack: set platform-cluster:slackWebhookUrl/);
    expect(configSetProblem("platform-cluster:slackWebhookUrl", { path: false, secret: false })).toMatch(/--secret/);
    expect(configSetProblem("platform-cluster:slackWebhookUrl", { path: false, secret: true })).toBeUndefined();
    expect(configSetProblem("platform-cluster:app", { path: false, secret: false })).toMatch(/holds only its secrets/);
    expect(configSetProblem("platform:cluster.publicAccessCidrs[0]", { path: true, secret: false })).toBeUndefined();
    expect(configSetProblem("platform:dr.promoted", { path: true, secret: false })).toBeUndefined();
    expect(configSetProblem("platform:pagerdutyRoutingKey", { path: false, secret: true })).toMatch(/unknown key/);
    expect(configSetProblem("pagerduty:token", { path: false, secret: true })).toBeUndefined();
    expect(parseConfigSet("pulumi config set --secret platform:smtpPassword <password>")).toEqual({ key: "platform:smtpPassword", path: false, secret: true });
    expect(parseConfigSet("pulumi config set --stack prod --path platform:app.imageTag abc")).toEqual({ key: "platform:app.imageTag", path: true, secret: false });
    expect(parseConfigSet("pulumi config set platform:app.imageTag <sha>")).toEqual({ key: "platform:app.imageTag", path: false, secret: false });
    expect(parseConfigSet("pulumi config set --secret`, never committed")).toBeUndefined();
  });
});
