import type { ArtifactSource } from "../synth/artifact.js";

/** infra-plan.json: every resource the Pulumi program would create, rendered under mocks. */
export const infraPlanArtifacts: ArtifactSource = () => [];
