/**
 * The PagerDuty model, shared with infra (which creates the resources with @pulumi/pagerduty).
 * Alertmanager sends critical alerts to the service's Events API v2 integration; PagerDuty then
 * pages the escalation policy. SMS is opt-in per person: only users whose `smsOptIn` is true get
 * an SMS contact method and notification rule.
 */

export type Urgency = "high" | "low";

export interface PagerDutyContactMethod {
  readonly type: "email_contact_method" | "phone_contact_method" | "sms_contact_method" | "push_notification_contact_method";
  readonly label: string;
  /** Email address or phone number in E.164 without the country code (PagerDuty splits them). */
  readonly address: string;
  readonly countryCode?: number;
}

export interface PagerDutyNotificationRule {
  readonly contactMethod: PagerDutyContactMethod["type"];
  readonly startDelayInMinutes: number;
  readonly urgency: Urgency;
}

export interface PagerDutyUser {
  /** Stable key other objects reference. */
  readonly key: string;
  readonly name: string;
  readonly email: string;
  readonly role: "user" | "admin" | "limited_user";
  readonly timeZone: string;
  /** Opt-in: SMS is sent only when the person asked for it. */
  readonly smsOptIn: boolean;
  /** Phone number for SMS/voice, required when smsOptIn is true. */
  readonly phone?: { readonly countryCode: number; readonly number: string };
}

export interface PagerDutyEscalationRule {
  readonly escalationDelayInMinutes: number;
  /** Users (by key) notified at this level. */
  readonly targets: readonly string[];
}

export interface PagerDutyEscalationPolicy {
  readonly key: string;
  readonly name: string;
  readonly numLoops: number;
  readonly rules: readonly PagerDutyEscalationRule[];
}

export interface PagerDutyService {
  readonly key: string;
  readonly name: string;
  readonly description: string;
  readonly escalationPolicy: string;
  /** Seconds before an acknowledged incident re-triggers; null disables. */
  readonly acknowledgementTimeoutSeconds: number | null;
  /** Seconds after which an unresolved incident resolves itself; null disables. */
  readonly autoResolveTimeoutSeconds: number | null;
  readonly urgency: Urgency;
  /** The integration Alertmanager uses: Events API v2. Its key is the routing key Alertmanager reads from file. */
  readonly integration: "events_api_v2";
}

export interface PagerDutyModel {
  readonly users: readonly PagerDutyUser[];
  readonly escalationPolicies: readonly PagerDutyEscalationPolicy[];
  readonly services: readonly PagerDutyService[];
}

export const PAGERDUTY_MODEL: PagerDutyModel = {
  users: [
    { key: "alice", name: "Alice Martin", email: "alice@acme.example", role: "admin", timeZone: "Europe/Paris", smsOptIn: true, phone: { countryCode: 33, number: "612345678" } },
    { key: "bob", name: "Bob Keller", email: "bob@acme.example", role: "user", timeZone: "Europe/Berlin", smsOptIn: false },
    { key: "chen", name: "Chen Wei", email: "chen@acme.example", role: "user", timeZone: "Europe/London", smsOptIn: false },
  ],
  escalationPolicies: [
    {
      key: "platform-oncall",
      name: "Product platform on-call",
      numLoops: 2,
      rules: [
        { escalationDelayInMinutes: 15, targets: ["bob", "chen"] },
        { escalationDelayInMinutes: 30, targets: ["alice"] },
      ],
    },
  ],
  services: [
    {
      key: "product-platform",
      name: "Product platform",
      description: "API, workers, database and backups of the product pipeline. Critical Alertmanager alerts land here.",
      escalationPolicy: "platform-oncall",
      acknowledgementTimeoutSeconds: 1800,
      autoResolveTimeoutSeconds: null,
      urgency: "high",
      integration: "events_api_v2",
    },
  ],
};

/** Contact methods a user gets: email and push always; SMS only on opt-in. */
export function contactMethodsFor(user: PagerDutyUser): PagerDutyContactMethod[] {
  const methods: PagerDutyContactMethod[] = [
    { type: "email_contact_method", label: "Work email", address: user.email },
    { type: "push_notification_contact_method", label: "PagerDuty app", address: user.email },
  ];
  if (user.smsOptIn) {
    if (!user.phone) throw new Error(`PagerDuty user ${user.key} opted in to SMS but has no phone number`);
    methods.push({ type: "sms_contact_method", label: "Mobile (SMS, opt-in)", address: user.phone.number, countryCode: user.phone.countryCode });
  }
  return methods;
}

/** High-urgency notification rules: push and email at once; SMS after one minute, opt-in only. */
export function notificationRulesFor(user: PagerDutyUser): PagerDutyNotificationRule[] {
  const rules: PagerDutyNotificationRule[] = [
    { contactMethod: "push_notification_contact_method", startDelayInMinutes: 0, urgency: "high" },
    { contactMethod: "email_contact_method", startDelayInMinutes: 0, urgency: "high" },
    { contactMethod: "email_contact_method", startDelayInMinutes: 0, urgency: "low" },
  ];
  if (user.smsOptIn) rules.push({ contactMethod: "sms_contact_method", startDelayInMinutes: 1, urgency: "high" });
  return rules;
}
