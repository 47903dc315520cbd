/**
 * Everything `npm run synth` renders. Each entry is owned by its own area:
 * monitoring (dashboards, rules, promtool tests, alertmanager) and the infra plan.
 */
import type { ArtifactSource } from "./artifact.js";

export const ARTIFACT_SOURCES: readonly { name: string; load: () => Promise<ArtifactSource>; profiled: boolean }[] = [
  { name: "monitoring", load: async () => (await import("../alerts/artifacts.js")).monitoringArtifacts, profiled: true },
  // The infra plan describes the cloud deployment, which never runs with a timing profile.
  { name: "infra-plan", load: async () => (await import("../infra/plan.js")).infraPlanArtifacts, profiled: false },
];
