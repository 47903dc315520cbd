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
  /**
   * Which resources ("type::name") each input property was computed from, for the properties that
   * depend on other resources (what a policy pack sees as propertyDependencies): how a bucket's
   * logging configuration or a vault's lock is tied to its bucket or vault.
   */
  readonly propertyDependencies?: Record<string, string[]>;
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

/** The mocked caller's account (not 123456789012, AWS's documentation placeholder the policies reject). */
export const MOCK_ACCOUNT = "111122223333";
/** What a StackReference reads from the stack it names: its outputs and which of them are secrets. */
export interface MockStackOutputs {
  readonly outputs: Record<string, unknown>;
  readonly secretOutputNames: readonly string[];
}

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

/**
 * A fake ARN, in the real format for the types whose ARNs the program or the policies take apart
 * (IAM roles and OIDC providers have no region; RDS, SNS and Backup vault ARNs use ':' before the
 * name), otherwise `arn:aws:<service>:<region>:<account>:<type>/<name>`.
 */
function arnFor(type: string, name: string, region: string, inputs: Record<string, unknown>): string {
  const service = type.split(":")[1]?.split("/")[0] ?? "mock";
  const str = (k: string) => (typeof inputs[k] === "string" ? (inputs[k] as string) : undefined);
  switch (type) {
    case "aws:iam/role:Role":
      return `arn:aws:iam::${MOCK_ACCOUNT}:role/${str("name") ?? name}`;
    case "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
      return `arn:aws:iam::${MOCK_ACCOUNT}:oidc-provider/${(str("url") ?? name).replace(/^https:\/\//, "")}`;
    case "aws:rds/instance:Instance":
      return `arn:aws:rds:${region}:${MOCK_ACCOUNT}:db:${str("identifier") ?? name}`;
    case "aws:sns/topic:Topic":
      return `arn:aws:sns:${region}:${MOCK_ACCOUNT}:${name}`;
    case "aws:backup/vault:Vault":
      return `arn:aws:backup:${region}:${MOCK_ACCOUNT}:backup-vault:${name}`;
    case "aws:s3/bucket:Bucket":
      return `arn:aws:s3:::${str("bucket") ?? `${name}-bucket`}`;
    case "aws:kms/key:Key":
      return `arn:aws:kms:${region}:${MOCK_ACCOUNT}:key/${name}`;
    case "aws:acm/certificate:Certificate":
      return `arn:aws:acm:${region}:${MOCK_ACCOUNT}:certificate/${name}`;
    default:
      return `arn:aws:${service}:${region}:${MOCK_ACCOUNT}:${type.split(":")[2]?.toLowerCase() ?? "resource"}/${name}`;
  }
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
    case "aws:ecr/repository:Repository":
      return { repositoryUrl: `${MOCK_ACCOUNT}.dkr.ecr.${region}.amazonaws.com/${String(inputs["name"] ?? name)}` };
    case "aws:ec2/launchTemplate:LaunchTemplate":
      return { latestVersion: 1 };
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
    default:
      return {};
  }
}

export class PlatformMocks implements pulumi.runtime.Mocks {
  readonly resources: PlannedResource[] = [];
  /** AWS provider logical name -> its region, so ARNs name the region a resource lives in. */
  private readonly providerRegions = new Map<string, string>();

  /**
   * @param region the stack's region (resources on the default provider)
   * @param stacks what each stack a StackReference may name exports (another stack's rendered outputs)
   */
  constructor(
    private readonly region: string,
    private readonly stacks: Readonly<Record<string, MockStackOutputs>> = {},
  ) {}

  private regionOf(providerRef: string | undefined, inputs: Record<string, unknown>): string {
    const provider = providerRef ? nameFromUrn(providerRef) : undefined;
    return typeof inputs["region"] === "string" ? inputs["region"] : ((provider && this.providerRegions.get(provider)) ?? this.region);
  }

  newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
    const inputs = (args.inputs ?? {}) as Record<string, unknown>;
    const provider = args.provider ? nameFromUrn(args.provider) : undefined;
    const isDefaultProvider = provider?.startsWith("default") ?? true;
    this.resources.push({ type: args.type, name: args.name, args: redactSecrets(inputs) as Record<string, unknown>, ...(isDefaultProvider ? {} : { provider }) });
    if (args.type === "pulumi:providers:aws" && typeof inputs["region"] === "string") this.providerRegions.set(args.name, inputs["region"]);
    if (args.type === "pulumi:pulumi:StackReference") {
      const stack = String(inputs["name"]);
      const referenced = this.stacks[stack];
      if (!referenced) throw new Error(`StackReference to ${stack}, which this render was not given (known: ${Object.keys(this.stacks).join(", ") || "none"})`);
      return { id: stack, state: { name: stack, outputs: referenced.outputs, secretOutputNames: [...referenced.secretOutputNames] } };
    }
    const region = this.regionOf(args.provider, inputs);
    const computed = computedState(args.type, args.name, inputs, region);
    const id = typeof computed["id"] === "string" ? computed["id"] : `${args.name}-id`;
    return {
      id,
      state: { ...inputs, name: inputs["name"] ?? args.name, arn: arnFor(args.type, args.name, region, inputs), ...computed },
    };
  }

  call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
    const inputs = (args.inputs ?? {}) as Record<string, unknown>;
    const region = this.regionOf(args.provider, inputs);
    switch (args.token) {
      case "aws:index/getCallerIdentity:getCallerIdentity":
        return { accountId: MOCK_ACCOUNT, arn: `arn:aws:iam::${MOCK_ACCOUNT}:user/mock`, userId: "mock", id: MOCK_ACCOUNT };
      case "aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider": {
        const url = String(inputs["url"] ?? "");
        return { arn: `arn:aws:iam::${MOCK_ACCOUNT}:oidc-provider/${url.replace(/^https:\/\//, "")}`, url, clientIdLists: ["sts.amazonaws.com"], id: url };
      }
      case "aws:codestarconnections/getConnection:getConnection": {
        const name = String(inputs["name"] ?? "");
        return { arn: `arn:aws:codeconnections:${region}:${MOCK_ACCOUNT}:connection/${name}`, name, connectionStatus: "AVAILABLE", providerType: "GitHub", id: name };
      }
      case "pagerduty:index/getVendor:getVendor":
        return { id: "PZQ6AUS", name: String(inputs["name"] ?? ""), type: "generic_events_api_inbound_integration" };
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
  getPropertydependenciesMap(): { forEach(cb: (value: { getUrnsList(): string[] }, key: string) => void): void };
}

/** Wraps the mock monitor's registerResource to record each resource's dependencies, overall and per property. */
function recordDependencies(into: Map<string, string[]>, byProperty: Map<string, Record<string, string[]>>): void {
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource: (req: RegisterRequest, cb: unknown) => unknown } | undefined;
  if (!monitor) return;
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) => {
    const key = `${req.getType()}::${req.getName()}`;
    into.set(key, req.getDependenciesList().map(keyFromUrn));
    const props: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((deps, prop) => {
      const urns = deps.getUrnsList().map(keyFromUrn).filter((k) => !k.startsWith("pulumi:providers:"));
      if (urns.length > 0) props[prop] = [...new Set(urns)].sort();
    });
    byProperty.set(key, props);
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
export interface RenderOptions {
  /** The Pulumi project (platform, or platform-cluster). */
  readonly project?: string;
  /** What the StackReferences of the program may read. */
  readonly stacks?: Readonly<Record<string, MockStackOutputs>>;
}

/** The organization of a DIY backend (stack references name `organization/<project>/<stack>`). */
export const MOCK_ORGANIZATION = "organization";

export async function renderStack(
  stackName: string,
  region: string,
  program: () => Record<string, unknown> | Promise<Record<string, unknown>>,
  options: RenderOptions = {},
): Promise<RenderedStack> {
  if (process.env["PULUMI_DEBUG_PROMISE_LEAKS"]) return renderOnce(stackName, region, program, options);
  const limit = Error.stackTraceLimit;
  const sourceMaps = process.sourceMapsEnabled;
  const restore = () => {
    Error.stackTraceLimit = limit;
    if (sourceMaps) process.setSourceMapsEnabled(true);
  };
  Error.stackTraceLimit = 0;
  if (sourceMaps) process.setSourceMapsEnabled(false);
  try {
    return await renderOnce(stackName, region, program, options);
  } catch {
    restore();
    return await renderOnce(stackName, region, program, options);
  } finally {
    restore();
  }
}

async function renderOnce(
  stackName: string,
  region: string,
  program: () => Record<string, unknown> | Promise<Record<string, unknown>>,
  options: RenderOptions,
): Promise<RenderedStack> {
  const mocks = new PlatformMocks(region, options.stacks);
  await pulumi.runtime.setMocks(mocks, options.project ?? "platform", stackName, false, MOCK_ORGANIZATION);
  const dependencies = new Map<string, string[]>();
  const propertyDependencies = new Map<string, Record<string, string[]>>();
  recordDependencies(dependencies, propertyDependencies);
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
  const resources = [...mocks.resources]
    .map((r) => {
      const props = propertyDependencies.get(`${r.type}::${r.name}`) ?? {};
      return Object.keys(props).length > 0 ? { ...r, propertyDependencies: props } : r;
    })
    .sort((a, b) => (a.type === b.type ? a.name.localeCompare(b.name) : a.type.localeCompare(b.type)));
  return { resources, outputs: (outputs ?? {}) as Record<string, unknown>, dependencies };
}

/** Placeholder cluster stack secrets for mocked runs (real stacks read them with requireSecret). */
export const MOCK_CLUSTER_SECRETS = {
  slackWebhookUrl: "https://hooks.slack.invalid/mock",
  smtpPassword: "mock-smtp-password",
  heartbeatToken: "mock-heartbeat-token",
} as const;
