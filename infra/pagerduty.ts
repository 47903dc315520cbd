/**
 * PagerDuty from the typed model in alerts/pagerduty.ts: users (SMS contact methods and rules only
 * for people who opted in), escalation policies, services and one Events API v2 integration per
 * service. The integration key is Alertmanager's routing key (monitoring.ts puts it in its secret).
 * The provider reads `pagerduty:token` (a stack secret).
 *
 * The first service also gets an Amazon CloudWatch integration: the HTTPS endpoint the AWS Backup
 * failure topic (backups.ts) subscribes, which PagerDuty confirms by itself and turns each SNS
 * notification into an incident ("Amazon CloudWatch Integration Guide": the integration URL is
 * https://events.pagerduty.com/integration/<integration key>/enqueue).
 */
import * as pagerduty from "@pulumi/pagerduty";
import * as pulumi from "@pulumi/pulumi";
import { PAGERDUTY_MODEL, contactMethodsFor, notificationRulesFor } from "../alerts/pagerduty.js";
import type { PagerDutyModel } from "../alerts/pagerduty.js";

export interface PagerDuty {
  /** Events API v2 integration key per service key (secret). */
  readonly routingKeys: Record<string, pulumi.Output<string>>;
  /** The Amazon CloudWatch integration URL of the first service, for SNS topics (secret). */
  readonly snsEndpoint: pulumi.Output<string>;
}

/** PagerDuty's vendor for SNS notifications (CloudWatch alarms and any other SNS message). */
export const SNS_VENDOR = "Amazon CloudWatch";

/** Acknowledgement/auto-resolve timeouts: PagerDuty wants seconds as a string, or "null". */
function timeout(seconds: number | null): string {
  return seconds === null ? "null" : String(seconds);
}

export function pagerDuty(prefix: string, model: PagerDutyModel = PAGERDUTY_MODEL): PagerDuty {
  const users = new Map<string, pagerduty.User>();
  for (const u of model.users) {
    const user = new pagerduty.User(`${prefix}-pd-user-${u.key}`, { name: u.name, email: u.email, role: u.role, timeZone: u.timeZone });
    users.set(u.key, user);
    const methods = new Map<string, pagerduty.UserContactMethod>();
    for (const m of contactMethodsFor(u)) {
      methods.set(
        m.type,
        new pagerduty.UserContactMethod(`${prefix}-pd-${u.key}-${m.type}`, {
          userId: user.id,
          type: m.type,
          label: m.label,
          address: m.address,
          ...(m.countryCode !== undefined ? { countryCode: m.countryCode } : {}),
        }),
      );
    }
    for (const r of notificationRulesFor(u)) {
      const method = methods.get(r.contactMethod);
      if (!method) throw new Error(`PagerDuty user ${u.key}: notification rule uses ${r.contactMethod}, which the user has no contact method for`);
      new pagerduty.UserNotificationRule(`${prefix}-pd-${u.key}-${r.contactMethod}-${r.urgency}-${r.startDelayInMinutes}`, {
        userId: user.id,
        startDelayInMinutes: r.startDelayInMinutes,
        urgency: r.urgency,
        contactMethod: { type: r.contactMethod, id: method.id },
      });
    }
  }

  const policies = new Map<string, pagerduty.EscalationPolicy>();
  for (const p of model.escalationPolicies) {
    policies.set(
      p.key,
      new pagerduty.EscalationPolicy(`${prefix}-pd-policy-${p.key}`, {
        name: p.name,
        numLoops: p.numLoops,
        rules: p.rules.map((rule) => ({
          escalationDelayInMinutes: rule.escalationDelayInMinutes,
          targets: rule.targets.map((key) => {
            const user = users.get(key);
            if (!user) throw new Error(`PagerDuty escalation policy ${p.key} targets unknown user ${key}`);
            return { type: "user_reference", id: user.id };
          }),
        })),
      }),
    );
  }

  const routingKeys: Record<string, pulumi.Output<string>> = {};
  let snsEndpoint: pulumi.Output<string> | undefined;
  for (const s of model.services) {
    const policy = policies.get(s.escalationPolicy);
    if (!policy) throw new Error(`PagerDuty service ${s.key} uses unknown escalation policy ${s.escalationPolicy}`);
    const service = new pagerduty.Service(`${prefix}-pd-service-${s.key}`, {
      name: s.name,
      description: s.description,
      escalationPolicy: policy.id,
      acknowledgementTimeout: timeout(s.acknowledgementTimeoutSeconds),
      autoResolveTimeout: timeout(s.autoResolveTimeoutSeconds),
      alertCreation: "create_alerts_and_incidents",
      incidentUrgencyRule: { type: "constant", urgency: s.urgency },
    });
    const integration = new pagerduty.ServiceIntegration(
      `${prefix}-pd-service-${s.key}-alertmanager`,
      { name: "Alertmanager (Events API v2)", service: service.id, type: "events_api_v2_inbound_integration" },
      { additionalSecretOutputs: ["integrationKey"] },
    );
    routingKeys[s.key] = integration.integrationKey;
    if (snsEndpoint === undefined) {
      const sns = new pagerduty.ServiceIntegration(
        `${prefix}-pd-service-${s.key}-aws-sns`,
        { name: "AWS SNS (backup failures)", service: service.id, vendor: pagerduty.getVendorOutput({ name: SNS_VENDOR }).id },
        { additionalSecretOutputs: ["integrationKey"] },
      );
      snsEndpoint = pulumi.secret(pulumi.interpolate`https://events.pagerduty.com/integration/${sns.integrationKey}/enqueue`);
    }
  }
  if (snsEndpoint === undefined) throw new Error("the PagerDuty model has no service");
  return { routingKeys, snsEndpoint };
}
