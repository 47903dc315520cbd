/** Pod building blocks every workload of the cluster project uses. */

/** The restricted pod security context every workload uses. */
export const POD_SECURITY = { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: "RuntimeDefault" } };
export const CONTAINER_SECURITY = { runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } };

import { OPS_TMP_SIZE_LIMIT } from "../settings.js";

/** The ops pods' only writable path (settings.ts OPS_TMP_SIZE_LIMIT). */
export const smallTmp = {
  volume: { name: "tmp", emptyDir: { sizeLimit: OPS_TMP_SIZE_LIMIT } },
  mount: { name: "tmp", mountPath: "/tmp" },
} as const;

export function resources(cpu: string, memory: string, cpuLimit: string, memoryLimit: string) {
  return { requests: { cpu, memory }, limits: { cpu: cpuLimit, memory: memoryLimit } };
}

/** Kubernetes names: lowercase alphanumerics and dashes. */
export function dnsLabel(value: string): string {
  return value.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 63);
}

/** The application processes' /tmp (image processing scratch), as before the split. */
export const appTmp = {
  volume: { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
  mount: { name: "tmp", mountPath: "/tmp" },
} as const;
