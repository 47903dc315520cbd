/** IAM policy documents: permission policies (with Resource) and trust policies (without). */
import * as pulumi from "@pulumi/pulumi";

interface StatementBase {
  readonly Sid?: string;
  readonly Effect?: "Allow" | "Deny";
  readonly Principal?: Record<string, pulumi.Input<string> | pulumi.Input<string>[]> | "*";
  readonly Action: string[];
  readonly Condition?: Record<string, Record<string, pulumi.Input<string | boolean> | pulumi.Input<string>[]>>;
}

/** A statement applies to `Resource`, or (with Effect Deny, to fence a broad grant) to everything but `NotResource`. */
export type PolicyStatement = StatementBase & ({ readonly Resource: pulumi.Input<string>[] | pulumi.Input<string> } | { readonly Effect: "Deny"; readonly NotResource: pulumi.Input<string>[] });

/** A JSON IAM policy document; resources and conditions may hold outputs (resolved deeply). */
export function policyDocument(statements: PolicyStatement[]): pulumi.Output<string> {
  const resolved = statements.map((s) => ({
    ...(s.Sid ? { Sid: s.Sid } : {}),
    Effect: s.Effect ?? "Allow",
    ...(s.Principal ? { Principal: s.Principal } : {}),
    Action: s.Action,
    ...("NotResource" in s ? { NotResource: s.NotResource } : { Resource: s.Resource }),
    ...(s.Condition ? { Condition: s.Condition } : {}),
  }));
  return pulumi.output(resolved).apply((statement) => JSON.stringify({ Version: "2012-10-17", Statement: statement }));
}

export interface TrustStatement {
  readonly Principal: Record<string, pulumi.Input<string> | pulumi.Input<string>[]>;
  readonly Action: string[];
  readonly Condition?: pulumi.Input<Record<string, pulumi.Input<Record<string, pulumi.Input<string | string[]>>>>>;
}

/** A role's trust policy (assume-role policy): IAM rejects a Resource element there. */
export function trustPolicy(statements: TrustStatement[]): pulumi.Output<string> {
  const resolved = statements.map((s) => ({ Effect: "Allow", Principal: s.Principal, Action: s.Action, ...(s.Condition ? { Condition: s.Condition } : {}) }));
  return pulumi.output(resolved).apply((statement) => JSON.stringify({ Version: "2012-10-17", Statement: statement }));
}

/** The trust policy of a role an AWS service assumes. */
export function assumeRolePolicy(service: string): string {
  return JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }] });
}
