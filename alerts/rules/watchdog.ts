/** The dead man's switch: always firing, routed to a heartbeat receiver that alarms when it stops. */
import type { AlertDefinition } from "../alert-def.js";
import { SEVERITY, TEAMS } from "../severity.js";
import { DASHBOARD_UIDS } from "../../dashboards/uids.js";

const description = "This alert always fires. If the heartbeat service stops receiving it, the alerting pipeline (Prometheus, Alertmanager or their network) is broken.";

export function watchdogAlerts(): AlertDefinition[] {
  return [
    {
      name: "Watchdog",
      expr: "vector(1)",
      severity: SEVERITY.none,
      team: TEAMS.platform,
      summary: "The alerting pipeline is working.",
      description,
      dashboards: [DASHBOARD_UIDS.infrastructure],
      examples: [{ name: "always fires", at: "1m", input: [], fires: [{ description }] }],
      runbook: {
        whatIsHappening: "Watchdog fires all the time on purpose. Alertmanager sends it every minute to the heartbeat receiver; the heartbeat service alerts the on-call (outside this pipeline) when the pings stop.",
        impact: "None while it fires. If the heartbeat service reports it missing, no other alert can reach anyone.",
        commands: [
          { purpose: "Is Prometheus evaluating rules?", command: "kubectl -n monitoring port-forward svc/prometheus 9090 & curl -s localhost:9090/api/v1/alerts | jq '.data.alerts[] | select(.labels.alertname==\"Watchdog\")'" },
          { purpose: "Is Alertmanager receiving it?", command: "kubectl -n monitoring port-forward svc/alertmanager 9093 & amtool --alertmanager.url=http://localhost:9093 alert query alertname=Watchdog" },
          { purpose: "Alertmanager notification errors", command: "kubectl -n monitoring logs statefulset/alertmanager | grep -i 'notify.*heartbeat'" },
        ],
        mitigation: ["Restore the broken component (Prometheus, Alertmanager, the heartbeat secret or egress); until then, watch dashboards manually."],
        escalation: "The heartbeat service pages the platform on-call directly; escalate to the platform lead if alerting is down for more than 30 minutes.",
      },
    },
  ];
}
