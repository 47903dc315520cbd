/** The deployable environments: one Pulumi stack each (Pulumi.<env>.yaml). */
export const ENVIRONMENTS = ["dev", "staging", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export function isEnvironment(value: string): value is Environment {
  return (ENVIRONMENTS as readonly string[]).includes(value);
}

export function parseEnvironment(value: string | undefined): Environment {
  if (value === undefined || value === "") {
    throw new Error(`an environment is required: one of ${ENVIRONMENTS.join(", ")}`);
  }
  if (!isEnvironment(value)) {
    throw new Error(`unknown environment "${value}": valid environments are ${ENVIRONMENTS.join(", ")}`);
  }
  return value;
}
