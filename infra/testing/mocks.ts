/**
 * The Pulumi mocks shared by the infra tests and the plan renderer (infra/plan.ts), so what the
 * tests check is exactly what `infra-plan.json` shows. Deterministic: ids, ARNs and endpoints are
 * derived from the resource's type and logical name, never random or time based.
 */
import * as pulumi from "@pulumi/pulumi";

/** One resource the program registered: its type token, logical name and resolved inputs. */
export interface PlannedResource {
  readonly type: string;
  readonly name: string;
  readonly args: Record<string, unknown>;
  /** The explicit provider's logical name (e.g. "prod-aws-secondary"), when not the default one. */
  readonly provider?: string;
}

/** "type::name" of a URN, the key of RenderedStack.dependencies. */
export function keyFromUrn(urn: string): string {
  const parts = urn.split("::");
  return `${(parts[2] ?? "").split("$").pop() ?? ""}::${parts[3] ?? urn}`;
}

/** The logical name in a URN (urn:pulumi:stack::project::type::name) or a provider reference (urn::id). */
export function nameFromUrn(urn: string): string {
  const parts = urn.split("::");
  return parts[3] ?? urn;
}

export const MOCK_ACCOUNT = "123456789012";

/** How a secret input appears in recorded args (and so in infra-plan.json). */
export const REDACTED = "[secret]";
/** Every leaf replaced by REDACTED, keeping the shape (keys of a secret map stay reviewable). */
function redactLeaves(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactLeaves);
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactLeaves(v)]));
  return REDACTED;
}

/** Replaces secret values (deserialized as {[specialSigKey]: specialSecretSig, value}) with REDACTED, deeply. */
export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value !== null && typeof value === "object") {
    if ((value as Record<string, unknown>)[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig) return redactLeaves((value as { value?: unknown }).value);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactSecrets(v)]));
  }
  return value;
}

/** Type token -> service part of a fake ARN ("aws:rds/instance:Instance" -> "rds"). */
function arnFor(type: string, name: string, region: string): string {
  const service = type.split(":")[1]?.split("/")[0] ?? "mock";
  return `arn:aws:${service}:${region}:${MOCK_ACCOUNT}:${type.split(":")[2]?.toLowerCase() ?? "resource"}/${name}`;
}

/** Outputs a real provider computes that the program reads back, per type token. */
function computedState(type: string, name: string, inputs: Record<string, unknown>, region: string): Record<string, unknown> {
  switch (type) {
    case "aws:eks/cluster:Cluster":
      return {
        endpoint: `https://${name}.gr7.${region}.eks.amazonaws.com`,
        certificateAuthority: { data: "bW9jay1jYQ==" },
        identities: [{ oidcs: [{ issuer: `https://oidc.eks.${region}.amazonaws.com/id/${name.toUpperCase()}` }] }],
        vpcConfig: { ...(inputs["vpcConfig"] as object), clusterSecurityGroupId: `sg-${name}-cluster` },
      };
    case "aws:rds/instance:Instance":
      return { address: `${name}.mock.${region}.rds.amazonaws.com`, endpoint: `${name}.mock.${region}.rds.amazonaws.com:5432`, port: 5432, identifier: inputs["identifier"] ?? name, resourceId: `db-${name}` };
    case "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication":
      return { id: `arn:aws:rds:${region}:${MOCK_ACCOUNT}:auto-backup:ab-${name}` };
    case "aws:mq/broker:Broker":
      return { instances: [{ endpoints: [`amqps://${name}.mq.${region}.amazonaws.com:5671`], consoleUrl: `https://${name}.mq.${region}.amazonaws.com` }] };
    case "aws:s3/bucket:Bucket":
      return { bucket: inputs["bucket"] ?? `${name}-bucket`, bucketRegionalDomainName: `${name}-bucket.s3.${region}.amazonaws.com` };
    case "aws:cloudfront/distribution:Distribution":
      return { domainName: `${name}.cloudfront.net`, hostedZoneId: "Z2FDTNDATAQYW2" };
    case "aws:ec2/vpc:Vpc":
      return { defaultSecurityGroupId: `sg-${name}-default` };
    case "random:index/randomPassword:RandomPassword":
      return { result: `mock-password-${name}` };
    case "pagerduty:index/serviceIntegration:ServiceIntegration":
      return { integrationKey: `mock-integration-key-${name}` };
    case "kubernetes:core/v1:Service":
      return { status: { loadBalancer: { ingress: [{ hostname: `${name}.elb.${region}.amazonaws.com` }] } } };
    case "pulumi:pulumi:StackReference":
      return {
        outputs: {
          replicatedBackupsArn: `arn:aws:rds:${region}:${MOCK_ACCOUNT}:auto-backup:ab-primary`,
          apiLoadBalancerHostname: `primary.elb.amazonaws.com`,
          pagerdutyRoutingKey: "mock-primary-routing-key",
        },
      };
    default:
      return {};
  }
}

export class PlatformMocks implements pulumi.runtime.Mocks {
  readonly resources: PlannedResource[] = [];
  /** AWS provider logical name -> its region, so ARNs name the region a resource lives in. */
  private readonly providerRegions = new Map<string, string>();

  constructor(private readonly region: string) {}

  newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
    const inputs = (args.inputs ?? {}) as Record<string, unknown>;
    const provider = args.provider ? nameFromUrn(args.provider) : undefined;
    const isDefaultProvider = provider?.startsWith("default") ?? true;
    this.resources.push({ type: args.type, name: args.name, args: redactSecrets(inputs) as Record<string, unknown>, ...(isDefaultProvider ? {} : { provider }) });
    if (args.type === "pulumi:providers:aws" && typeof inputs["region"] === "string") this.providerRegions.set(args.name, inputs["region"]);
    const region = typeof inputs["region"] === "string" ? inputs["region"] : ((provider && this.providerRegions.get(provider)) ?? this.region);
    const computed = computedState(args.type, args.name, inputs, region);
    const id = typeof computed["id"] === "string" ? computed["id"] : `${args.name}-id`;
    return {
      id,
      state: { ...inputs, name: inputs["name"] ?? args.name, arn: arnFor(args.type, args.name, region), ...computed },
    };
  }

  call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
    switch (args.token) {
      case "aws:index/getCallerIdentity:getCallerIdentity":
        return { accountId: MOCK_ACCOUNT, arn: `arn:aws:iam::${MOCK_ACCOUNT}:user/mock`, userId: "mock" };
      default:
        return {};
    }
  }
}

/** The result of running the program for one stack under mocks. */
export interface RenderedStack {
  readonly resources: readonly PlannedResource[];
  readonly outputs: Record<string, unknown>;
  /** "type::name" -> "type::name" of the resources it depends on (explicit dependsOn and input dependencies). */
  readonly dependencies: ReadonlyMap<string, readonly string[]>;
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getDependenciesList(): string[];
}

/** Wraps the mock monitor's registerResource to record each resource's dependencies. */
function recordDependencies(into: Map<string, string[]>): void {
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource: (req: RegisterRequest, cb: unknown) => unknown } | undefined;
  if (!monitor) return;
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) => {
    into.set(`${req.getType()}::${req.getName()}`, req.getDependenciesList().map(keyFromUrn));
    return original(req, cb);
  };
}

/**
 * Runs `program(cfg)` for one stack under fresh mocks and returns every registered resource,
 * sorted by type then name. setMocks is process-global, so stacks are rendered one at a time
 * (callers must not interleave calls).
 *
 * The runtime records a stack trace on each of the thousands of promises it creates
 * (debuggablePromise: `new Error().stack`, only read for PULUMI_DEBUG_PROMISE_LEAKS) and a
 * source-mapped one on each resource (its source position, which the mocks ignore): about half the
 * CPU time of a render under tsx. Stacks are therefore rendered with Error.stackTraceLimit = 0 and
 * source maps off; if the program fails, it is rendered again with both restored, so the error
 * keeps its usual stack.
 */
export async function renderStack(
  stackName: string,
  region: string,
  program: () => Record<string, unknown> | Promise<Record<string, unknown>>,
): Promise<RenderedStack> {
  if (process.env["PULUMI_DEBUG_PROMISE_LEAKS"]) return renderOnce(stackName, region, program);
  const limit = Error.stackTraceLimit;
  const sourceMaps = process.sourceMapsEnabled;
  const restore = () => {
    Error.stackTraceLimit = limit;
    if (sourceMaps) process.setSourceMapsEnabled(true);
  };
  Error.stackTraceLimit = 0;
  if (sourceMaps) process.setSourceMapsEnabled(false);
  try {
    return await renderOnce(stackName, region, program);
  } catch {
    restore();
    return await renderOnce(stackName, region, program);
  } finally {
    restore();
  }
}

async function renderOnce(
  stackName: string,
  region: string,
  program: () => Record<string, unknown> | Promise<Record<string, unknown>>,
): Promise<RenderedStack> {
  const mocks = new PlatformMocks(region);
  await pulumi.runtime.setMocks(mocks, "platform", stackName, false);
  const dependencies = new Map<string, string[]>();
  recordDependencies(dependencies);
  // waitForRPCs is exported by the runtime but not declared: it drains pending registrations.
  const drain = () => (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
  let outputs: unknown;
  try {
    outputs = await pulumi.runtime.runInPulumiStack(async () => program());
  } catch (err) {
    // Let this run's registrations settle before anyone installs new mocks.
    await drain().catch(() => undefined);
    throw err;
  }
  await drain();
  const resources = [...mocks.resources].sort((a, b) => (a.type === b.type ? a.name.localeCompare(b.name) : a.type.localeCompare(b.type)));
  return { resources, outputs: (outputs ?? {}) as Record<string, unknown>, dependencies };
}

/** Placeholder operator secrets for mocked runs (real stacks read them with requireSecret). */
export const MOCK_OPERATOR_SECRETS = {
  slackWebhookUrl: "https://hooks.slack.invalid/mock",
  smtpPassword: "mock-smtp-password",
  heartbeatToken: "mock-heartbeat-token",
} as const;
