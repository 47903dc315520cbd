import type { EnvironmentModel } from "../model/environments.js";
import type { TimingProfile } from "../alerts/profile.js";

/** One rendered file under out/<env>/. `path` is relative to that directory. */
export interface Artifact {
  readonly path: string;
  readonly content: string;
  /** What it is, for the manifest: dashboard, prometheus-rules, promtool-test, alertmanager, infra-plan, ... */
  readonly kind: string;
}

export interface RenderOptions {
  /** A timing profile (alerts/profile.ts): rules and routing rendered on a shorter time scale. */
  readonly profile?: TimingProfile;
}

export type ArtifactSource = (env: EnvironmentModel, opts?: RenderOptions) => Promise<readonly Artifact[]> | readonly Artifact[];
