/**
 * Everything `npm run synth` renders. Each area exports its own artifacts and synth collects them:
 * dashboards, alerting (rules, promtool tests, alertmanager) and the infra plan.
 */
import type { ArtifactSource } from "./artifact.js";

export const ARTIFACT_SOURCES: readonly { name: string; load: () => Promise<ArtifactSource>; profiled: boolean }[] = [
  { name: "dashboards", load: async () => (await import("../dashboards/artifacts.js")).dashboardArtifacts, profiled: true },
  { name: "alerting", load: async () => (await import("../alerts/artifacts.js")).alertingArtifacts, profiled: true },
  // The infra plan describes the cloud deployment, which never runs with a timing profile.
  { name: "infra-plan", load: async () => (await import("../infra/plan.js")).infraPlanArtifacts, profiled: false },
];
