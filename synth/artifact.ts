import type { EnvironmentModel } from "../model/environments.js";

/** One rendered file under out/<env>/. `path` is relative to that directory. */
export interface Artifact {
  readonly path: string;
  readonly content: string;
  /** What it is, for the manifest: dashboard, prometheus-rules, promtool-test, alertmanager, infra-plan, ... */
  readonly kind: string;
}

export type ArtifactSource = (env: EnvironmentModel) => Promise<readonly Artifact[]> | readonly Artifact[];
