import type { ArtifactSource } from "../synth/artifact.js";

/** Dashboards' JSON, prometheus-rules.yaml, promtool tests and alertmanager.yaml. */
export const monitoringArtifacts: ArtifactSource = () => [];
