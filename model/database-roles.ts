/**
 * The database roles each component logs in as, instead of all of them using the RDS master user.
 * The AWS stack generates a password per role (and the URLs, infra/database.ts); the cluster stack
 * runs the db-roles Job (OPS_COMMANDS.dbRoles, ops/db-roles.ts) as the master user before the
 * migration, which creates or updates these roles, and gives each workload its own role's URL.
 *
 * - owner: owns the schema's objects (Prisma migrations run as it);
 * - readwrite: reads and writes rows of every table (the API, the workers, the scheduler);
 * - readonly: reads every table and sequence (pg_dump, the restore drill's comparison);
 * - monitor: pg_monitor only (postgres_exporter).
 */
export type DatabaseAccess = "owner" | "readwrite" | "readonly" | "monitor";

export interface DatabaseRole {
  /** The PostgreSQL role (LOGIN). */
  readonly user: string;
  readonly access: DatabaseAccess;
}

export const DATABASE_ROLES = {
  api: { user: "app_api", access: "readwrite" },
  worker: { user: "app_worker", access: "readwrite" },
  scheduler: { user: "app_scheduler", access: "readwrite" },
  migrate: { user: "app_migrate", access: "owner" },
  backup: { user: "app_backup", access: "readonly" },
  exporter: { user: "app_exporter", access: "monitor" },
} as const satisfies Record<string, DatabaseRole>;

export type DatabaseComponent = keyof typeof DATABASE_ROLES;
export const DATABASE_COMPONENTS = Object.keys(DATABASE_ROLES) as DatabaseComponent[];

/**
 * The environment variable that carries a role's password to the db-roles command
 * (DB_ROLE_PASSWORD_APP_API for app_api).
 */
export function rolePasswordEnv(user: string): string {
  return `DB_ROLE_PASSWORD_${user.toUpperCase()}`;
}
