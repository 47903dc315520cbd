import type { Dashboard, Panel } from "@grafana/grafana-foundation-sdk/dashboard";

/** A panel as rendered JSON: an SDK panel with an id assigned. */
export type PanelJson = Panel & { id: number };

/** A rendered dashboard: plain JSON, with the uid and title always present. */
export type DashboardJson = Omit<Dashboard, "uid" | "title" | "panels"> & {
  uid: string;
  title: string;
  panels: PanelJson[];
};
