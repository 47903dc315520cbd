/** The dashboard artifacts `npm run synth` writes under out/<env>/dashboards/: one JSON model per dashboard. */
import type { Artifact, ArtifactSource } from "../synth/artifact.js";
import { buildDashboards } from "./index.js";

export const dashboardArtifacts: ArtifactSource = (env) =>
  buildDashboards(env).map<Artifact>((d) => ({ path: `dashboards/${d.uid}.json`, content: JSON.stringify(d, null, 2) + "\n", kind: "dashboard" }));
