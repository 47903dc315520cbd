/**
 * RabbitMQ on Amazon MQ: a multi-AZ cluster in prod, a single instance elsewhere; private,
 * reachable only from the EKS nodes (AMQPS 5671, management API 443). The credentials are a random
 * password kept in Secrets Manager. Amazon MQ does not expose the rabbitmq_prometheus plugin, so
 * queue metrics are scraped through the management API by the rabbitmq exporter (monitoring.ts).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { tags } from "./context.js";
import type { PlatformContext } from "./context.js";
import type { Network } from "./network.js";

export const BROKER_USER = "platform";
export const AMQPS_PORT = 5671;

export interface BrokerArgs {
  readonly network: Network;
  readonly clientSecurityGroupId: pulumi.Input<string>;
}

export interface Broker {
  readonly arn: pulumi.Output<string>;
  readonly brokerName: string;
  /** amqps://user:password@host:5671 (secret). */
  readonly amqpUrl: pulumi.Output<string>;
  /** https://host (management API, for the exporter). */
  readonly managementUrl: pulumi.Output<string>;
  readonly password: pulumi.Output<string>;
  readonly secretArn: pulumi.Output<string>;
}

export function broker(ctx: PlatformContext, args: BrokerArgs): Broker {
  const { cfg, prefix } = ctx;
  const opts = { provider: ctx.aws };
  const brokerName = `${prefix}-rabbitmq`;
  const cluster = cfg.broker.deploymentMode === "CLUSTER_MULTI_AZ";

  const sg = new aws.ec2.SecurityGroup(`${prefix}-mq-sg`, { vpcId: args.network.vpcId, description: "RabbitMQ: only from the EKS nodes", tags: tags(ctx, "mq-sg") }, opts);
  for (const [port, what] of [
    [AMQPS_PORT, "AMQPS"],
    [443, "management API"],
  ] as const) {
    new aws.vpc.SecurityGroupIngressRule(
      `${prefix}-mq-${port}-from-nodes`,
      { securityGroupId: sg.id, ipProtocol: "tcp", fromPort: port, toPort: port, referencedSecurityGroupId: args.clientSecurityGroupId, description: `${what} from EKS nodes`, tags: tags(ctx, `mq-${port}-from-nodes`) },
      opts,
    );
  }

  const password = pulumi.secret(new random.RandomPassword(`${prefix}-mq-password`, { length: 32, special: false }).result);
  const mq = new aws.mq.Broker(
    brokerName,
    {
      brokerName,
      engineType: "RabbitMQ",
      engineVersion: cfg.broker.engineVersion,
      hostInstanceType: cfg.broker.instanceType,
      deploymentMode: cfg.broker.deploymentMode,
      publiclyAccessible: false,
      subnetIds: cluster ? args.network.privateSubnetIds : [args.network.privateSubnetIds[0]!],
      securityGroups: [sg.id],
      autoMinorVersionUpgrade: true,
      maintenanceWindowStartTime: { dayOfWeek: "SUNDAY", timeOfDay: "02:00", timeZone: "UTC" },
      encryptionOptions: { useAwsOwnedKey: true },
      logs: { general: true },
      users: [{ username: BROKER_USER, password }],
      tags: tags(ctx, "rabbitmq"),
    },
    opts,
  );

  const host = mq.instances.apply((i) => (i[0]?.endpoints?.[0] ?? "").replace(/^amqps:\/\//, "").replace(/:\d+$/, ""));
  const amqpUrl = pulumi.secret(pulumi.interpolate`amqps://${BROKER_USER}:${password}@${host}:${AMQPS_PORT}`);
  const secret = new aws.secretsmanager.Secret(`${prefix}-mq-credentials`, { description: `${brokerName} credentials`, recoveryWindowInDays: 7, tags: tags(ctx, "mq-credentials") }, opts);
  new aws.secretsmanager.SecretVersion(
    `${prefix}-mq-credentials`,
    { secretId: secret.id, secretString: pulumi.all([password, host]).apply(([pw, h]) => JSON.stringify({ username: BROKER_USER, password: pw, host: h, port: AMQPS_PORT, url: `amqps://${BROKER_USER}:${pw}@${h}:${AMQPS_PORT}` })) },
    opts,
  );

  return { arn: mq.arn, brokerName, amqpUrl, managementUrl: pulumi.interpolate`https://${host}`, password, secretArn: secret.arn };
}
