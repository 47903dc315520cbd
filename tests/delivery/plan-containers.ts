/**
 * The containers the rendered infra plan (infra/plan.ts renderPlan, the same mocks as tests/infra)
 * runs from this repository's images, with what the image tests need: the image, the command and
 * args, the volume mounts, the pod and container security contexts.
 */
import { renderPlan } from "../../infra/plan.js";
import { IMAGES, type ImageName } from "../../model/delivery.js";
import type { EnvironmentName } from "../../model/environments.js";
import type { Mount } from "./image-contents.js";

/* eslint-disable @typescript-eslint/no-explicit-any -- the plan's args are Kubernetes manifests as rendered JSON */

export interface PlannedContainer {
  /** `<kind> <resource name>/<container name>` for messages. */
  readonly where: string;
  readonly kind: string;
  readonly container: string;
  readonly image: string;
  readonly imageName: ImageName;
  readonly command: readonly string[] | undefined;
  readonly args: readonly string[] | undefined;
  readonly mounts: readonly Mount[];
  /** The container's env as rendered: plain values, or valueFrom references (secrets). */
  readonly env: readonly { name: string; value?: string; valueFrom?: Record<string, any> }[];
  readonly podSecurity: Record<string, any>;
  readonly containerSecurity: Record<string, any>;
  readonly volumes: readonly Record<string, any>[];
}

/** The resources of a rendered plan: one list, or one per Pulumi project (AWS and cluster). */
export function planResources(plan: unknown): { type: string; name: string; args: any }[] {
  if (Array.isArray(plan)) return plan as { type: string; name: string; args: any }[];
  return Object.values(plan as Record<string, { type: string; name: string; args: any }[]>).flat();
}

/** `<repo>` of `<repo>:<tag>` or `<repo>@sha256:...`. */
export function repositoryOf(image: string): string {
  const at = image.indexOf("@");
  const noDigest = at >= 0 ? image.slice(0, at) : image;
  const colon = noDigest.lastIndexOf(":");
  return colon > noDigest.lastIndexOf("/") ? noDigest.slice(0, colon) : noDigest;
}

function podSpecs(args: any): any[] {
  return [args?.spec?.template?.spec, args?.spec?.jobTemplate?.spec?.template?.spec].filter((s) => s && typeof s === "object");
}

/** Every container of the plan that runs one of IMAGES (the API Rollout's image is `<repo>:<tag>`). */
export async function plannedContainers(env: EnvironmentName): Promise<PlannedContainer[]> {
  const resources = planResources(await renderPlan(env));
  const all = resources.flatMap((r) =>
    podSpecs(r.args).flatMap((spec) =>
      [...(spec.initContainers ?? []), ...(spec.containers ?? [])].map((c: any) => ({ r, spec, c })),
    ),
  );
  const rollout = all.find(({ r }) => r.args?.kind === "Rollout");
  if (!rollout) throw new Error(`${env}: the plan has no Rollout, so the application image's repository is unknown`);
  const appRepository = repositoryOf(String(rollout.c.image));
  const imageNameOf = (image: string): ImageName | undefined =>
    (Object.entries(IMAGES) as [ImageName, (typeof IMAGES)[ImageName]][]).find(([, i]) => repositoryOf(image) === `${appRepository}${i.repositorySuffix}`)?.[0];
  return all.flatMap(({ r, spec, c }) => {
    const imageName = imageNameOf(String(c.image));
    if (!imageName) return [];
    return [
      {
        where: `${r.args?.kind ?? r.type} ${r.args?.metadata?.name ?? r.name}/${c.name}`,
        kind: String(r.args?.kind ?? r.type),
        container: String(c.name),
        image: String(c.image),
        imageName,
        command: c.command,
        args: c.args,
        mounts: (c.volumeMounts ?? []).map((m: any) => ({ mountPath: String(m.mountPath), name: String(m.name) })),
        env: c.env ?? [],
        podSecurity: spec.securityContext ?? {},
        containerSecurity: c.securityContext ?? {},
        volumes: spec.volumes ?? [],
      },
    ];
  });
}
