/**
 * Network: a VPC with a public and a private subnet per availability zone (3 in prod, 2 in dev),
 * NAT for the private subnets (one per AZ in prod), and the load balancer's security group, the
 * only one open to the internet (443).
 */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { tags } from "./context.js";
import type { PlatformContext } from "./context.js";

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

  return {
    vpcId: vpc.id,
    cidr: cfg.network.cidr,
    publicSubnetIds: publicSubnets.map((s) => s.id),
    privateSubnetIds: privateSubnets.map((s) => s.id),
    loadBalancerSecurityGroupId: lbSg.id,
  };
}
