/** Every dashboard as plain JSON models, ready for the Grafana API or a ConfigMap (infra deploys these). */
import type { EnvironmentModel } from "../model/environments.js";
import type { DashboardJson } from "./dashboard-json.js";
import { apiDashboard } from "./api.js";
import { businessDashboard } from "./business.js";
import { databaseDashboard } from "./database.js";
import { infrastructureDashboard } from "./infrastructure.js";
import { jobsDashboard } from "./jobs.js";

export type { DashboardJson, PanelJson } from "./dashboard-json.js";
export { DASHBOARD_UIDS } from "./uids.js";

/** The dashboards are the same in every environment; each env's Grafana points `datasource` at its Prometheus. */
export function buildDashboards(_env: EnvironmentModel): DashboardJson[] {
  return [apiDashboard(), businessDashboard(), jobsDashboard(), databaseDashboard(), infrastructureDashboard()];
}
