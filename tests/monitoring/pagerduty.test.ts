/** The PagerDuty model infra deploys: references resolve, SMS is opt-in per person. */
import { describe, expect, it } from "vitest";
import { PAGERDUTY_MODEL, contactMethodsFor, notificationRulesFor } from "../../alerts/pagerduty.js";
import type { PagerDutyUser } from "../../alerts/pagerduty.js";

describe("PagerDuty model", () => {
  const users = new Set(PAGERDUTY_MODEL.users.map((u) => u.key));
  const policies = new Set(PAGERDUTY_MODEL.escalationPolicies.map((p) => p.key));

  it("has unique keys and resolvable references", () => {
    expect(users.size).toBe(PAGERDUTY_MODEL.users.length);
    for (const p of PAGERDUTY_MODEL.escalationPolicies) for (const r of p.rules) for (const t of r.targets) expect(users).toContain(t);
    for (const s of PAGERDUTY_MODEL.services) expect(policies).toContain(s.escalationPolicy);
    expect(PAGERDUTY_MODEL.services.every((s) => s.integration === "events_api_v2")).toBe(true);
  });

  it("gives SMS only to people who opted in", () => {
    for (const u of PAGERDUTY_MODEL.users) {
      const sms = contactMethodsFor(u).some((m) => m.type === "sms_contact_method");
      const smsRule = notificationRulesFor(u).some((r) => r.contactMethod === "sms_contact_method");
      expect(sms, u.key).toBe(u.smsOptIn);
      expect(smsRule, u.key).toBe(u.smsOptIn);
    }
    expect(PAGERDUTY_MODEL.users.some((u) => u.smsOptIn)).toBe(true);
    expect(PAGERDUTY_MODEL.users.some((u) => !u.smsOptIn)).toBe(true);
  });

  it("refuses an SMS opt-in without a phone number", () => {
    const u: PagerDutyUser = { key: "x", name: "X", email: "x@acme.example", role: "user", timeZone: "UTC", smsOptIn: true };
    expect(() => contactMethodsFor(u)).toThrow(/no phone number/);
  });
});
