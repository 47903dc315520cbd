/** Severity and team label values: the routing contract between rules and Alertmanager. */
export const SEVERITY = { critical: "critical", warning: "warning", info: "info", none: "none" } as const;
export type Severity = (typeof SEVERITY)[keyof typeof SEVERITY];

export const TEAM_LABEL = "team";
export const TEAMS = { platform: "platform", admins: "admins" } as const;
export type Team = (typeof TEAMS)[keyof typeof TEAMS];
