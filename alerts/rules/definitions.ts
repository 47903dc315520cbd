/** Every alert and recording definition, grouped as they are rendered into rule groups. */
import type { EnvironmentModel } from "../../model/environments.js";
import type { AlertDefinition, DefinitionGroup } from "../alert-def.js";
import { sloAlerts, sloRecordingExamples, sloRecordings } from "../slo.js";
import { apiAlerts } from "./api.js";
import { backupAlerts } from "./backups.js";
import { databaseAlerts } from "./database.js";
import { jobAlerts } from "./jobs.js";
import { platformAlerts } from "./platform.js";
import { apiSlos } from "./slo-api.js";
import { watchdogAlerts } from "./watchdog.js";
import { workerAlerts } from "./workers.js";

export function definitionGroups(env: EnvironmentModel): DefinitionGroup[] {
  const slos = apiSlos(env);
  return [
    { name: "product-platform.api", alerts: apiAlerts(env) },
    {
      name: "product-platform.slo",
      recordings: slos.flatMap(sloRecordings),
      alerts: slos.flatMap(sloAlerts),
      recordingExamples: slos.flatMap(sloRecordingExamples),
    },
    { name: "product-platform.database", alerts: databaseAlerts(env) },
    { name: "product-platform.backups", alerts: backupAlerts(env) },
    { name: "product-platform.platform", alerts: platformAlerts(env) },
    { name: "product-platform.jobs", alerts: jobAlerts(env) },
    { name: "product-platform.workers", alerts: workerAlerts(env) },
    { name: "product-platform.meta", alerts: watchdogAlerts() },
  ];
}

export function alertDefinitions(env: EnvironmentModel): AlertDefinition[] {
  return definitionGroups(env).flatMap((g) => g.alerts);
}
