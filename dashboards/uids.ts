/** Stable dashboard uids: alerts link to them, Grafana keeps bookmarks on them. Never change one. */
export const DASHBOARD_UIDS = {
  api: "pp-api",
  business: "pp-business",
  jobs: "pp-jobs",
  database: "pp-database",
  infrastructure: "pp-infrastructure",
} as const;
export type DashboardUid = (typeof DASHBOARD_UIDS)[keyof typeof DASHBOARD_UIDS];
