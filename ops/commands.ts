/**
 * The operations commands the ops image runs, as Kubernetes runs them (container `command`), from
 * the image's working directory (the repository root, /app). The CronJobs, the migration Job and
 * the delivery workflows take them from here; a test checks that every file they name exists in
 * the build context and is copied into the image.
 *
 * Each command reads its settings from the environment (documented in its file's header) and
 * exits non-zero on any failure, so the Job fails and its alert fires.
 */
export const OPS_COMMANDS = {
  /** pg_dump in custom format, streamed to S3 with an upload that checks what it wrote (ops/db-backup.ts). */
  dbBackup: ["node", "--import", "tsx", "ops/db-backup.ts"],
  /** The restore drill: restore into a scratch database, compare every table, smoke-test the API on it (ops/restore-drill.ts). */
  restoreDrill: ["node", "--import", "tsx", "ops/restore-drill.ts"],
  /**
   * Creates or updates the component database roles (model/database-roles.ts) as the RDS master
   * user, before the migration: env DATABASE_URL (master), DB_ROLES (JSON list of {user, access}),
   * DB_ROLE_PASSWORD_<USER> for each (ops/db-roles.ts).
   */
  dbRoles: ["node", "--import", "tsx", "ops/db-roles.ts"],
  /** The daily alert digest by email, from Prometheus's ALERTS (ops/digest.ts). */
  digest: ["node", "--import", "tsx", "ops/digest.ts"],
  /** Database migrations, exactly as production runs them. */
  migrate: ["npx", "prisma", "migrate", "deploy"],
} as const satisfies Record<string, readonly string[]>;

export type OpsCommand = keyof typeof OPS_COMMANDS;
