/** Platform alerts: a failed deployment of the user-facing tier (page), node resource causes (chat). */
import type { EnvironmentModel } from "../../model/environments.js";
import {
  frontendDeploymentFailedMaximum,
  probeSuccess,
  rolloutInfo,
  rolloutInfoReplicasAvailable,
  rolloutInfoReplicasDesired,
  nodeCpuSecondsTotal,
  nodeFilesystemAvailBytes,
  nodeFilesystemSizeBytes,
  nodeMemoryMemAvailableBytes,
  nodeMemoryMemTotalBytes,
} from "../../services/metrics-exporters.js";
import type { AlertDefinition } from "../alert-def.js";
import { BLACKBOX_JOB, WORKLOADS } from "../../model/workloads.js";
import { MISSING_LABEL, input, missing, sel } from "../promql.js";
import { INCIDENTS } from "../incidents.js";
import { SEVERITY, TEAMS } from "../severity.js";
import { THRESHOLDS } from "../thresholds.js";
import { DASHBOARD_UIDS } from "../../dashboards/uids.js";
import { FRONTEND_DEPLOY_QUERY, FRONTEND_DEPLOY_SIGNAL, FRONTEND_DEPLOY_WORKFLOW } from "../../model/delivery.js";

const T = THRESHOLDS;
/** Filesystems that are not real disks. */
const VIRTUAL_FS = 'fstype!~"tmpfs|overlay|squashfs|nsfs"';

// Each node signal is written once: the alert compares it with its threshold, and the runbook
// shows the same expression for diagnosis.
const nodeCpuBusyRatio = `1 - avg by (instance) (rate(${sel(nodeCpuSecondsTotal, { mode: "idle" })}[5m]))`;
const nodeMemoryUsedRatio = `1 - (${sel(nodeMemoryMemAvailableBytes)} / ${sel(nodeMemoryMemTotalBytes)})`;
const filesystemUsedRatio = `1 - (${sel(nodeFilesystemAvailBytes, VIRTUAL_FS)} / ${sel(nodeFilesystemSizeBytes, VIRTUAL_FS)})`;

export function platformAlerts(env: EnvironmentModel): AlertDefinition[] {
  const ns = env.namespace;
  /** User-facing tier: the API's Argo Rollout and the frontend's static site. */
  const apiRollout = { namespace: ns, name: WORKLOADS.api };
  const frontendUrl = env.urls.frontendProbe;
  const cpuIdle = (values: string) => input(nodeCpuSecondsTotal, { instance: "node-1", cpu: "0", mode: "idle" }, values);
  const fsLabels = { instance: "node-1", device: "/dev/nvme0n1p1", fstype: "ext4", mountpoint: "/" } as const;
  const W = T.missingInputWindow;
  const frontendProbe = { job: BLACKBOX_JOB, instance: frontendUrl };
  const rolloutDescription = `Rollout ${ns}/${WORKLOADS.api} is degraded (canary aborted or progress deadline exceeded) or has no available replica.`;
  const rolloutMissingDescription = `No state of Rollout ${ns}/${WORKLOADS.api} has been reported for ${W}: the Argo Rollouts controller is down or the Rollout is gone, so a failed deployment would go unseen.`;
  const probeMissingDescription = `No result from the external probe of ${frontendUrl} for ${W}: the blackbox exporter or its Probe is gone, so nobody can tell whether users can load the frontend.`;
  /** The background every example starts from: a healthy rollout and a passing frontend probe. */
  const healthyRollout = [input(rolloutInfoReplicasDesired, apiRollout, "2x15"), input(rolloutInfoReplicasAvailable, apiRollout, "2x15")];
  const healthyProbe = input(probeSuccess, frontendProbe, "1x15");
  /** The outcome of the environment's frontend deployments, as deploy-frontend.yml reports it (the Environment dimension is the environment's name). */
  const frontendDeploy = { environment: env.name };
  const S = FRONTEND_DEPLOY_SIGNAL;
  const deployFailedDescription = `The last frontend deployment to ${env.name} failed or was cancelled (${FRONTEND_DEPLOY_WORKFLOW} reported ${S.metricName}=${S.failed}): the site may serve a mix of old and new files until a deployment succeeds.`;
  const deployRangeDays = FRONTEND_DEPLOY_QUERY.rangeSeconds / 86400;
  return [
    {
      name: "FrontendDeploymentFailed",
      expr:
        `(max by (namespace, name) (${sel(rolloutInfo, { namespace: ns, name: WORKLOADS.api, phase: "Degraded" })}) == 1)` +
        ` or (max by (namespace, name) (${sel(rolloutInfoReplicasDesired, apiRollout)}) > 0 and max by (namespace, name) (${sel(rolloutInfoReplicasAvailable, apiRollout)}) == 0)` +
        ` or (max by (instance) (${sel(probeSuccess, frontendProbe)}) == 0)` +
        ` or (max by (environment) (${sel(frontendDeploymentFailedMaximum, frontendDeploy)}) == ${S.failed})` +
        ` or ${missing(rolloutInfoReplicasDesired, apiRollout, W)} or ${missing(probeSuccess, frontendProbe, W)}`,
      for: "5m",
      severity: SEVERITY.critical,
      team: TEAMS.platform,
      incident: INCIDENTS.productService,
      missingInput: {
        kind: "fires",
        decision: `No state of the API's Rollout for ${W} (Argo Rollouts controller down, Rollout renamed) fires, and so does no frontend probe result for ${W} (blackbox exporter or Probe gone): either way a failed deployment would go unseen. No frontend deployment outcome is no missing input: it is written once per deployment and read back for ${deployRangeDays} days, so its absence means no deployment in that time; a CloudWatch exporter that stopped is BackupFailed's missing input, and the frontend probe still watches the site.`,
      },
      summary: "A user-facing deployment failed.",
      description:
        `{{ if $labels.${MISSING_LABEL} }}{{ if $labels.name }}${rolloutMissingDescription}{{ else }}${probeMissingDescription}{{ end }}` +
        "{{ else if $labels.name }}Rollout {{ $labels.namespace }}/{{ $labels.name }} is degraded (canary aborted or progress deadline exceeded) or has no available replica." +
        `{{ else if $labels.environment }}The last frontend deployment to {{ $labels.environment }} failed or was cancelled (${FRONTEND_DEPLOY_WORKFLOW} reported ${S.metricName}=${S.failed}): the site may serve a mix of old and new files until a deployment succeeds.` +
        "{{ else }}The frontend at {{ $labels.instance }} fails its external probe.{{ end }}",
      dashboards: [DASHBOARD_UIDS.infrastructure, DASHBOARD_UIDS.api],
      examples: [
        {
          name: "a degraded API rollout fires",
          at: "10m",
          input: [input(rolloutInfo, { namespace: ns, name: WORKLOADS.api, strategy: "canary", phase: "Degraded" }, "1x10"), ...healthyRollout, healthyProbe],
          fires: [{ labels: apiRollout, description: rolloutDescription }],
        },
        {
          name: "no available API replica fires",
          at: "10m",
          input: [input(rolloutInfoReplicasDesired, apiRollout, "2x10"), input(rolloutInfoReplicasAvailable, apiRollout, "0x10"), healthyProbe],
          fires: [{ labels: apiRollout, description: rolloutDescription }],
        },
        {
          name: "a broken frontend release fires",
          at: "10m",
          input: [input(probeSuccess, frontendProbe, "1 1 0x8"), ...healthyRollout],
          fires: [{ labels: { instance: frontendUrl }, description: `The frontend at ${frontendUrl} fails its external probe.` }],
        },
        {
          name: "no rollout state (input missing: Argo Rollouts controller down) fires",
          at: "20m",
          input: [input(probeSuccess, frontendProbe, "1x20")],
          fires: [{ labels: { ...apiRollout, [MISSING_LABEL]: rolloutInfoReplicasDesired.name }, description: rolloutMissingDescription }],
          missingInput: true,
        },
        {
          name: "no frontend probe result (input missing) fires",
          at: "20m",
          input: [input(rolloutInfoReplicasDesired, apiRollout, "2x20"), input(rolloutInfoReplicasAvailable, apiRollout, "2x20")],
          fires: [{ labels: { ...frontendProbe, [MISSING_LABEL]: probeSuccess.name }, description: probeMissingDescription }],
          missingInput: true,
        },
        {
          name: "a failed frontend deployment fires",
          at: "10m",
          input: [input(frontendDeploymentFailedMaximum, frontendDeploy, `${S.failed}x10`), ...healthyRollout, healthyProbe],
          fires: [{ labels: frontendDeploy, description: deployFailedDescription }],
        },
        {
          name: "a successful frontend deployment stays silent",
          at: "10m",
          input: [input(frontendDeploymentFailedMaximum, frontendDeploy, `${S.succeeded}x10`), ...healthyRollout, healthyProbe],
          fires: [],
        },
        {
          name: "a failed frontend deployment keeps firing while no deployment follows (the exporter re-reads the last outcome)",
          at: "60m",
          input: [input(frontendDeploymentFailedMaximum, frontendDeploy, `${S.succeeded}x5 ${S.failed}x60`), input(rolloutInfoReplicasDesired, apiRollout, "2x60"), input(rolloutInfoReplicasAvailable, apiRollout, "2x60"), input(probeSuccess, frontendProbe, "1x60")],
          fires: [{ labels: frontendDeploy, description: deployFailedDescription }],
        },
        {
          name: "a later successful frontend deployment resolves it",
          at: "30m",
          input: [input(frontendDeploymentFailedMaximum, frontendDeploy, `${S.failed}x15 ${S.succeeded}x15`), input(rolloutInfoReplicasDesired, apiRollout, "2x30"), input(rolloutInfoReplicasAvailable, apiRollout, "2x30"), input(probeSuccess, frontendProbe, "1x30")],
          fires: [],
        },
        {
          name: "another environment's failed frontend deployment stays silent",
          at: "10m",
          input: [input(frontendDeploymentFailedMaximum, { environment: `not-${env.name}` }, `${S.failed}x10`), ...healthyRollout, healthyProbe],
          fires: [],
        },
        {
          name: "a canary in progress stays silent",
          at: "10m",
          input: [
            input(rolloutInfo, { namespace: ns, name: WORKLOADS.api, strategy: "canary", phase: "Progressing" }, "1x10"),
            input(rolloutInfoReplicasDesired, apiRollout, "2x10"),
            input(rolloutInfoReplicasAvailable, apiRollout, "1x10"),
            input(probeSuccess, { job: BLACKBOX_JOB, instance: frontendUrl }, "1x10"),
          ],
          fires: [],
        },
      ],
      runbook: {
        whatIsHappening:
          `The user-facing tier did not deploy cleanly, for 5 minutes. Three causes, told apart by the alert's labels (and its description): ` +
          `(1) \`namespace\`/\`name\`: the API's Argo Rollout \`${WORKLOADS.api}\` is Degraded (the canary analysis on the 5xx ratio aborted it, or it exceeded its progress deadline) or has no available replica; ` +
          `(2) \`environment\`: the last frontend deployment failed or was cancelled (${FRONTEND_DEPLOY_WORKFLOW}, run by the frontend's repository, reported CloudWatch ${S.namespace} ${S.metricName}{${S.dimension}=${env.name}} = ${S.failed}); it keeps firing until a later deployment reports ${S.succeeded} (or for ${deployRangeDays} days without any deployment); ` +
          `(3) \`instance\`: the frontend (static site on CloudFront) at ${frontendUrl} fails the blackbox probe, usually after a bad upload or invalidation. ` +
          `It also fires when the Rollout's state or the probe's result has been missing for ${W} (the Argo Rollouts controller or the blackbox exporter stopped reporting): the label \`${MISSING_LABEL}\` says which. ` +
          "A failed frontend deployment with a passing probe usually left the previous site in place (index.html is uploaded after the new assets and the old files go only after the invalidation); with a failing probe as well, users see it.",
        impact: "A release did not reach users, or users cannot load the frontend or use the API.",
        queries: [
          { purpose: "Rollout phase", promql: sel(rolloutInfo, { namespace: ns, name: WORKLOADS.api }) },
          { purpose: "Available vs desired API replicas", promql: `${sel(rolloutInfoReplicasAvailable, apiRollout)} or ${sel(rolloutInfoReplicasDesired, apiRollout)}` },
          { purpose: "Frontend probe", promql: sel(probeSuccess, { instance: frontendUrl }) },
          { purpose: `The last frontend deployment's outcome (${S.failed} failed, ${S.succeeded} succeeded); graphed, it changes at each deployment`, promql: sel(frontendDeploymentFailedMaximum, frontendDeploy) },
        ],
        commands: [
          { purpose: "Rollout state, steps and analysis result", command: `kubectl argo rollouts -n ${ns} get rollout ${WORKLOADS.api}` },
          { purpose: "Why the canary analysis failed", command: `kubectl -n ${ns} get analysisruns --sort-by=.metadata.creationTimestamp | tail -3` },
          { purpose: "Events of the new pods", command: `kubectl -n ${ns} describe pods -l app.kubernetes.io/name=${WORKLOADS.api} | tail -40` },
          { purpose: "Frontend response", command: `curl -sv ${frontendUrl} -o /dev/null` },
          {
            purpose: "The frontend deployments' outcomes of the last day, newest first (who deployed what: the frontend repository's Actions runs of the same times)",
            command: `aws cloudwatch get-metric-data --region ${env.region} --start-time "$(date -u -d '-1 day' +%FT%TZ)" --end-time "$(date -u +%FT%TZ)" --scan-by TimestampDescending --metric-data-queries '[{"Id":"d","MetricStat":{"Metric":{"Namespace":"${S.namespace}","MetricName":"${S.metricName}","Dimensions":[{"Name":"${S.dimension}","Value":"${env.name}"}]},"Period":60,"Stat":"${S.statistic}"}}]'`,
          },
          { purpose: "The failed run of the frontend's deploy (its log says which step failed)", command: `gh run list --repo ${env.config.deploy.frontendRepository} --limit 10` },
        ],
        mitigation: [
          `API: abort and go back to the stable version: kubectl argo rollouts -n ${ns} abort ${WORKLOADS.api}, then undo the release (procedures/rollback.md).`,
          `Frontend deployment failed (label environment): read the failed run's log in ${env.config.deploy.frontendRepository}. A transient failure (AWS API error, invalidation timeout, cancelled run): re-run the failed jobs of that run (gh run rerun <run-id> --failed --repo ${env.config.deploy.frontendRepository}); a bad build (no index.html, broken assets): redeploy the previous good build by re-running that earlier run's deploy job, or revert the frontend commit so a new build deploys. The alert resolves when that deployment reports ${S.succeeded}.`,
          "Frontend probe failing (label instance): redeploy the previous build as above, or re-upload it to the bucket and invalidate CloudFront by hand (procedures/rollback.md).",
        ],
        escalation: "Platform on-call via PagerDuty; the author of the release joins.",
        procedures: ["rollback", "deploy"],
      },
    },
    {
      name: "NodeHighCpu",
      expr: `${nodeCpuBusyRatio} > ${T.nodeCpuRatio}`,
      for: "15m",
      severity: SEVERITY.warning,
      team: TEAMS.platform,
      summary: "A node's CPU is more than 80% busy.",
      description: "CPU of node {{ $labels.instance }} is {{ $value | humanizePercentage }} busy.",
      dashboards: [DASHBOARD_UIDS.infrastructure],
      examples: [
        { name: "90% busy fires", at: "25m", input: [cpuIdle("0+6x30")], fires: [{ labels: { instance: "node-1" }, description: "CPU of node node-1 is 90% busy." }] },
        { name: "50% busy stays silent", at: "25m", input: [cpuIdle("0+30x30")], fires: [] },
      ],
      runbook: {
        whatIsHappening: `A node's CPU has been more than ${T.nodeCpuRatio * 100}% busy for 15 minutes.`,
        impact: "Pods on the node are slowed down or throttled; latency may rise. Not user-visible by itself.",
        queries: [{ purpose: "Busy ratio per node", promql: nodeCpuBusyRatio }],
        commands: [
          { purpose: "Node usage", command: "kubectl top nodes" },
          { purpose: "Heaviest pods", command: "kubectl top pods -A --sort-by=cpu | head -15" },
        ],
        mitigation: ["Scale out the busy workload or the node group; check for a runaway pod (restart it)."],
        escalation: "Chat only; platform team in working hours.",
      },
    },
    {
      name: "NodeHighMemory",
      expr: `${nodeMemoryUsedRatio} > ${T.nodeMemoryRatio}`,
      for: "5m",
      severity: SEVERITY.warning,
      team: TEAMS.platform,
      summary: "A node's memory is more than 90% used.",
      description: "Memory of node {{ $labels.instance }} is {{ $value | humanizePercentage }} used.",
      dashboards: [DASHBOARD_UIDS.infrastructure],
      examples: [
        {
          name: "95% used fires",
          at: "10m",
          input: [input(nodeMemoryMemAvailableBytes, { instance: "node-1" }, "500000000x10"), input(nodeMemoryMemTotalBytes, { instance: "node-1" }, "10000000000x10")],
          fires: [{ labels: { instance: "node-1" }, description: "Memory of node node-1 is 95% used." }],
        },
        {
          name: "50% used stays silent",
          at: "10m",
          input: [input(nodeMemoryMemAvailableBytes, { instance: "node-1" }, "5000000000x10"), input(nodeMemoryMemTotalBytes, { instance: "node-1" }, "10000000000x10")],
          fires: [],
        },
      ],
      runbook: {
        whatIsHappening: `Less than ${Math.round((1 - T.nodeMemoryRatio) * 100)}% of a node's memory is available for 5 minutes.`,
        impact: "The kernel may OOM-kill pods or the kubelet may evict them.",
        queries: [{ purpose: "Used ratio per node", promql: nodeMemoryUsedRatio }],
        commands: [
          { purpose: "Heaviest pods", command: "kubectl top pods -A --sort-by=memory | head -15" },
          { purpose: "Recent OOM kills", command: "kubectl get events -A --field-selector reason=OOMKilling" },
        ],
        mitigation: ["Set or lower memory limits of the offending workload; scale the node group."],
        escalation: "Chat only; platform team in working hours.",
      },
    },
    {
      name: "NodeDiskSpaceLow",
      expr: `${filesystemUsedRatio} > ${T.diskUsedRatio}`,
      for: "10m",
      severity: SEVERITY.warning,
      team: TEAMS.platform,
      summary: "A filesystem is more than 85% full.",
      description: "Filesystem {{ $labels.mountpoint }} on {{ $labels.instance }} is {{ $value | humanizePercentage }} full.",
      dashboards: [DASHBOARD_UIDS.infrastructure],
      examples: [
        {
          name: "90% full fires",
          at: "15m",
          input: [input(nodeFilesystemAvailBytes, fsLabels, "10x15"), input(nodeFilesystemSizeBytes, fsLabels, "100x15")],
          fires: [{ labels: fsLabels, description: "Filesystem / on node-1 is 90% full." }],
        },
        {
          name: "a full tmpfs stays silent",
          at: "15m",
          input: [input(nodeFilesystemAvailBytes, { ...fsLabels, fstype: "tmpfs", mountpoint: "/run" }, "0x15"), input(nodeFilesystemSizeBytes, { ...fsLabels, fstype: "tmpfs", mountpoint: "/run" }, "100x15")],
          fires: [],
        },
        { name: "50% full stays silent", at: "15m", input: [input(nodeFilesystemAvailBytes, fsLabels, "50x15"), input(nodeFilesystemSizeBytes, fsLabels, "100x15")], fires: [] },
      ],
      runbook: {
        whatIsHappening: `A real (non-tmpfs) filesystem on a node is more than ${T.diskUsedRatio * 100}% full for 10 minutes.`,
        impact: "At 100% pods fail to write logs and images; the kubelet starts evicting pods at its own threshold.",
        queries: [{ purpose: "Used ratio per filesystem", promql: filesystemUsedRatio }],
        commands: [
          { purpose: "Disk pressure on nodes", command: "kubectl describe nodes | grep -A2 DiskPressure" },
          { purpose: "Largest directories (node shell)", command: "kubectl debug node/<node> -it --image=busybox -- du -xh /host/var/lib --max-depth=2 | sort -h | tail" },
        ],
        mitigation: ["Prune unused images (crictl rmi --prune on the node); grow the volume; find the pod writing large files."],
        escalation: "Chat only; platform team in working hours.",
      },
    },
  ];
}
