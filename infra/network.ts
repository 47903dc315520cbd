/**
 * Network: a VPC with a public and a private subnet per availability zone (3 in prod, 2 in dev),
 * NAT for the private subnets (one per AZ in prod), the load balancer's security group, the only
 * one open to the internet (443), and VPC flow logs (every accepted and rejected flow) in
 * CloudWatch Logs for on-call.
 */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { tags } from "./context.js";
import type { PlatformContext } from "./context.js";
import { policyDocument, trustPolicy } from "./iam.js";

/** How long VPC flow logs and other operational logs are kept, in days (CloudWatch Logs retention values). */
export function logRetentionDays(ctx: PlatformContext): number {
  return ctx.cfg.environment === "prod" ? 365 : 90;
}

export interface Network {
  readonly vpcId: pulumi.Output<string>;
  readonly cidr: string;
  readonly publicSubnetIds: pulumi.Output<string>[];
  readonly privateSubnetIds: pulumi.Output<string>[];
  /** The internet-facing load balancer's security group: 443 from anywhere, nothing else. */
  readonly loadBalancerSecurityGroupId: pulumi.Output<string>;
}

/** Subnet CIDRs inside the /16: public x.y.<i>.0/24, private x.y.<32*(i+1)>.0/19. */
export function subnetCidrs(cidr: string, index: number): { public: string; private: string } {
  const [a, b] = cidr.split(".");
  return { public: `${a}.${b}.${index}.0/24`, private: `${a}.${b}.${32 * (index + 1)}.0/19` };
}

export function network(ctx: PlatformContext): Network {
  const { cfg, prefix } = ctx;
  const opts = { provider: ctx.aws };
  const clusterTag = `kubernetes.io/cluster/${prefix}-eks`;
  const vpc = new aws.ec2.Vpc(`${prefix}-vpc`, { cidrBlock: cfg.network.cidr, enableDnsHostnames: true, enableDnsSupport: true, tags: tags(ctx, "vpc") }, opts);
  const igw = new aws.ec2.InternetGateway(`${prefix}-igw`, { vpcId: vpc.id, tags: tags(ctx, "igw") }, opts);

  const publicRt = new aws.ec2.RouteTable(`${prefix}-public-rt`, { vpcId: vpc.id, tags: tags(ctx, "public-rt") }, opts);
  new aws.ec2.Route(`${prefix}-public-default`, { routeTableId: publicRt.id, destinationCidrBlock: "0.0.0.0/0", gatewayId: igw.id }, opts);

  const publicSubnets: aws.ec2.Subnet[] = [];
  const privateSubnets: aws.ec2.Subnet[] = [];
  const natGateways: aws.ec2.NatGateway[] = [];
  cfg.network.availabilityZones.forEach((az, i) => {
    const cidrs = subnetCidrs(cfg.network.cidr, i);
    const pub = new aws.ec2.Subnet(
      `${prefix}-public-${az}`,
      { vpcId: vpc.id, availabilityZone: az, cidrBlock: cidrs.public, mapPublicIpOnLaunch: false, tags: tags(ctx, `public-${az}`, { "kubernetes.io/role/elb": "1", [clusterTag]: "shared" }) },
      opts,
    );
    new aws.ec2.RouteTableAssociation(`${prefix}-public-${az}`, { subnetId: pub.id, routeTableId: publicRt.id }, opts);
    publicSubnets.push(pub);
    if (cfg.network.natGatewayPerAz || i === 0) {
      const eip = new aws.ec2.Eip(`${prefix}-nat-${az}`, { domain: "vpc", tags: tags(ctx, `nat-${az}`) }, opts);
      natGateways.push(new aws.ec2.NatGateway(`${prefix}-nat-${az}`, { subnetId: pub.id, allocationId: eip.id, tags: tags(ctx, `nat-${az}`) }, { ...opts, dependsOn: [igw] }));
    }
    const priv = new aws.ec2.Subnet(
      `${prefix}-private-${az}`,
      { vpcId: vpc.id, availabilityZone: az, cidrBlock: cidrs.private, tags: tags(ctx, `private-${az}`, { "kubernetes.io/role/internal-elb": "1", [clusterTag]: "shared" }) },
      opts,
    );
    const rt = new aws.ec2.RouteTable(`${prefix}-private-rt-${az}`, { vpcId: vpc.id, tags: tags(ctx, `private-rt-${az}`) }, opts);
    const nat = natGateways[cfg.network.natGatewayPerAz ? i : 0]!;
    new aws.ec2.Route(`${prefix}-private-default-${az}`, { routeTableId: rt.id, destinationCidrBlock: "0.0.0.0/0", natGatewayId: nat.id }, opts);
    new aws.ec2.RouteTableAssociation(`${prefix}-private-${az}`, { subnetId: priv.id, routeTableId: rt.id }, opts);
    privateSubnets.push(priv);
  });

  // The default security group of the VPC allows nothing (no rules at all).
  new aws.ec2.DefaultSecurityGroup(`${prefix}-default-sg`, { vpcId: vpc.id, tags: tags(ctx, "default-sg") }, opts);

  const lbSg = new aws.ec2.SecurityGroup(`${prefix}-lb-sg`, { vpcId: vpc.id, description: "Internet-facing load balancer: HTTPS only", tags: tags(ctx, "lb-sg", { purpose: "load-balancer" }) }, opts);
  new aws.vpc.SecurityGroupIngressRule(`${prefix}-lb-https`, { securityGroupId: lbSg.id, ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0", description: "HTTPS from the internet", tags: tags(ctx, "lb-https", { purpose: "load-balancer" }) }, opts);
  new aws.vpc.SecurityGroupEgressRule(`${prefix}-lb-to-vpc`, { securityGroupId: lbSg.id, ipProtocol: "tcp", fromPort: 1024, toPort: 65535, cidrIpv4: cfg.network.cidr, description: "to targets in the VPC", tags: tags(ctx, "lb-to-vpc") }, opts);

  flowLogs(ctx, vpc.id);

  return {
    vpcId: vpc.id,
    cidr: cfg.network.cidr,
    publicSubnetIds: publicSubnets.map((s) => s.id),
    privateSubnetIds: privateSubnets.map((s) => s.id),
    loadBalancerSecurityGroupId: lbSg.id,
  };
}

/**
 * VPC flow logs of all traffic (ACCEPT and REJECT) to CloudWatch Logs, aggregated per minute,
 * delivered by a role only the flow-logs service of this account can assume.
 */
function flowLogs(ctx: PlatformContext, vpcId: pulumi.Input<string>): void {
  const { prefix } = ctx;
  const opts = { provider: ctx.aws };
  const group = new aws.cloudwatch.LogGroup(`${prefix}-vpc-flow-logs`, { retentionInDays: logRetentionDays(ctx), tags: tags(ctx, "vpc-flow-logs") }, opts);
  const role = new aws.iam.Role(
    `${prefix}-vpc-flow-logs`,
    {
      assumeRolePolicy: trustPolicy([{ Principal: { Service: "vpc-flow-logs.amazonaws.com" }, Action: ["sts:AssumeRole"], Condition: { StringEquals: { "aws:SourceAccount": ctx.accountId } } }]),
      tags: tags(ctx, "vpc-flow-logs-role"),
    },
    opts,
  );
  new aws.iam.RolePolicy(
    `${prefix}-vpc-flow-logs`,
    { role: role.name, policy: policyDocument([{ Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups", "logs:DescribeLogStreams"], Resource: [group.arn, group.arn.apply((a) => `${a}:*`)] }]) },
    opts,
  );
  new aws.ec2.FlowLog(
    `${prefix}-vpc`,
    { vpcId, trafficType: "ALL", logDestinationType: "cloud-watch-logs", logDestination: group.arn, iamRoleArn: role.arn, maxAggregationInterval: 60, tags: tags(ctx, "vpc-flow-log") },
    opts,
  );
}
