/**
 * Incidents: the critical alerts that share a cause reach PagerDuty, and the critical Slack
 * channel, as ONE incident. Each alert definition names its incident (AlertDefinition.incident);
 * the rule renderer writes it into the `incident` label, and the critical routes of Alertmanager
 * group by that label alone (CRITICAL_GROUP_BY), so one Alertmanager group is one incident and
 * PagerDuty's dedup key, which Alertmanager derives from the group, stays the same while the
 * incident lasts. The notification names every alert of the group. Why grouping and not
 * inhibition: alerts/README.md.
 */
export const INCIDENT_LABEL = "incident";

export const INCIDENTS = {
  /**
   * The product as users and the pipeline see it: the API (availability, errors, latency, its
   * SLOs, its deployments), the database it cannot work without, and the workers and queues of
   * the job pipeline. They share their causes: a database or broker outage fails the API's
   * requests, takes its pods and every worker out of readiness, and stops the queues.
   */
  productService: "product-service",
  /**
   * Recoverability: backups and the DR replica. A serving outage can break them too (a pg_dump
   * run fails while the database is down), but their follow-up outlives it: after the outage a
   * backup must still be taken, so they stay an incident of their own.
   */
  dataProtection: "data-protection",
} as const;
export type Incident = (typeof INCIDENTS)[keyof typeof INCIDENTS];

/** What each critical route groups by: the incident only (see alerts/README.md for why not alertname). */
export const CRITICAL_GROUP_BY = [INCIDENT_LABEL] as const;
