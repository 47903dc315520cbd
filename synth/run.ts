import { mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { EnvironmentModel } from "../model/environments.js";
import type { Artifact, RenderOptions } from "./artifact.js";
import { ARTIFACT_SOURCES } from "./sources.js";
import { createHash } from "node:crypto";

export interface SynthResult {
  readonly outDir: string;
  readonly artifacts: readonly Artifact[];
}

/**
 * Renders every artifact for one environment into outRoot/<env>/, plus manifest.json. With a
 * profile, into outRoot/<env>-<profile>/, and only the artifacts a profile applies to.
 */
export async function synth(env: EnvironmentModel, outRoot = "out", opts: RenderOptions = {}): Promise<SynthResult> {
  const outDir = join(outRoot, opts.profile ? `${env.name}-${opts.profile.name}` : env.name);
  const artifacts: Artifact[] = [];
  for (const source of ARTIFACT_SOURCES) {
    if (opts.profile && !source.profiled) continue;
    const render = await source.load();
    artifacts.push(...(await render(env, opts)));
  }
  const seen = new Set<string>();
  for (const a of artifacts) {
    if (seen.has(a.path)) throw new Error(`two artifacts render to ${a.path}`);
    seen.add(a.path);
  }
  await rm(outDir, { recursive: true, force: true });
  for (const a of artifacts) {
    const file = join(outDir, a.path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, a.content);
  }
  const manifest = {
    environment: env.name,
    ...(opts.profile ? { profile: opts.profile } : {}),
    artifacts: artifacts.map((a) => ({
      path: a.path,
      kind: a.kind,
      bytes: Buffer.byteLength(a.content),
      sha256: createHash("sha256").update(a.content).digest("hex"),
    })),
  };
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
  return { outDir, artifacts };
}
