/**
 * OPS_COMMANDS.dbRoles: creates or updates the database role of each component
 * (model/database-roles.ts) so that no component logs in as the RDS master user. Run as the
 * master user by the db-roles Job before each migration (infra/cluster/workloads.ts); idempotent.
 *
 * Environment:
 * - DATABASE_URL: the master user's URL;
 * - DB_ROLES: JSON list of {user, access} (access: owner | readwrite | readonly | monitor);
 * - DB_ROLE_PASSWORD_<USER> (model/database-roles.ts rolePasswordEnv) for each role.
 *
 * What it does, in one transaction under an advisory lock:
 * - two group roles per database, <db>_readwrite (rows of every table, the sequences) and
 *   <db>_readonly (SELECT on every table and sequence), with the same privileges on what the owner
 *   creates later (ALTER DEFAULT PRIVILEGES);
 * - each role LOGIN with its password, sent as a SCRAM-SHA-256 verifier computed here, so the
 *   password itself never reaches the server (or its statement log);
 * - owner: CREATE on schema public, and ownership of the schema's tables, sequences, views and
 *   types the master user created (a database migrated before the split);
 * - readwrite/readonly: membership of the group; monitor: pg_monitor.
 * Exits non-zero with the variable's name on bad input, changing nothing.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import pg from "pg";
import { z } from "zod";
import { rolePasswordEnv } from "../model/database-roles.js";
import type { DatabaseRole } from "../model/database-roles.js";

const roleName = z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, "must be a lowercase PostgreSQL role name");
const rolesSchema = z.array(z.strictObject({ user: roleName, access: z.enum(["owner", "readwrite", "readonly", "monitor"]) })).min(1);

export class DatabaseRolesError extends Error {}

/** Parses the command's environment; the error names the variable. */
export function parseDatabaseRolesEnv(env: NodeJS.ProcessEnv): { url: string; roles: DatabaseRole[]; passwords: Map<string, string> } {
  const url = env["DATABASE_URL"];
  if (!url) throw new DatabaseRolesError("DATABASE_URL: required (the master user's URL)");
  let raw: unknown;
  try {
    raw = JSON.parse(env["DB_ROLES"] ?? "");
  } catch {
    throw new DatabaseRolesError('DB_ROLES: must be a JSON list of {"user", "access"}');
  }
  const parsed = rolesSchema.safeParse(raw);
  if (!parsed.success) throw new DatabaseRolesError(`DB_ROLES: ${parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`);
  const owners = parsed.data.filter((r) => r.access === "owner");
  if (owners.length !== 1) throw new DatabaseRolesError(`DB_ROLES: needs exactly one owner role, has ${owners.length}`);
  if (new Set(parsed.data.map((r) => r.user)).size !== parsed.data.length) throw new DatabaseRolesError("DB_ROLES: a role is listed twice");
  const passwords = new Map<string, string>();
  for (const r of parsed.data) {
    const name = rolePasswordEnv(r.user);
    const pw = env[name];
    if (!pw || pw.length < 16) throw new DatabaseRolesError(`${name}: required, at least 16 characters`);
    passwords.set(r.user, pw);
  }
  return { url, roles: parsed.data, passwords };
}

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for a password (RFC 5802/7677, the format of
 * pg_authid.rolpassword): SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>.
 */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16), iterations = 4096): string {
  const salted = pbkdf2Sync(password.normalize("NFKC"), salt, iterations, 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  const storedKey = createHash("sha256").update(clientKey).digest();
  const serverKey = createHmac("sha256", salted).update("Server Key").digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}

/** The group roles of a database: `<db>_readwrite`, `<db>_readonly`. */
export function groupRoles(database: string): { readwrite: string; readonly: string } {
  const base = database.toLowerCase().replace(/[^a-z0-9_]/g, "_").slice(0, 50);
  return { readwrite: `${base}_readwrite`, readonly: `${base}_readonly` };
}

const LOCK_KEY = 7_318_004;

/** Applies the roles through a connected client (as the master user). */
export async function applyDatabaseRoles(client: pg.Client, roles: readonly DatabaseRole[], passwords: ReadonlyMap<string, string>): Promise<void> {
  const id = (s: string) => client.escapeIdentifier(s);
  const lit = (s: string) => client.escapeLiteral(s);
  const exists = async (role: string) => ((await client.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [role])).rowCount ?? 0) > 0;
  const ensureRole = async (role: string, attributes: string) => {
    await client.query(`${(await exists(role)) ? "ALTER" : "CREATE"} ROLE ${id(role)} WITH ${attributes}`);
  };
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock($1)", [LOCK_KEY]);
    const database = String((await client.query<{ db: string }>("SELECT current_database() AS db")).rows[0]!.db);
    const me = String((await client.query<{ me: string }>("SELECT current_user AS me")).rows[0]!.me);
    const groups = groupRoles(database);
    for (const g of [groups.readwrite, groups.readonly]) await ensureRole(g, "NOLOGIN");
    for (const r of roles) await ensureRole(r.user, `LOGIN PASSWORD ${lit(scramVerifier(passwords.get(r.user)!))}`);
    await client.query(`GRANT USAGE ON SCHEMA public TO ${id(groups.readwrite)}, ${id(groups.readonly)}`);
    const owner = roles.find((r) => r.access === "owner")!.user;
    // The master user administers the owner's default privileges (needs membership, PostgreSQL 16 included).
    await client.query(`GRANT ${id(owner)} TO ${id(me)}`);
    await client.query(`GRANT USAGE, CREATE ON SCHEMA public TO ${id(owner)}`);
    const owned = await client.query<{ kind: string; name: string }>(
      `SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END AS kind, c.relname AS name
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S') AND pg_get_userbyid(c.relowner) = current_user
          AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')))
       UNION ALL
       SELECT 'TYPE', t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = 'public' AND t.typtype IN ('e', 'c', 'd') AND pg_get_userbyid(t.typowner) = current_user
          AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.reltype = t.oid)`,
    );
    for (const o of owned.rows) await client.query(`ALTER ${o.kind} public.${id(o.name)} OWNER TO ${id(owner)}`);
    for (const [group, tables, sequences] of [
      [groups.readwrite, "SELECT, INSERT, UPDATE, DELETE", "USAGE, SELECT"],
      [groups.readonly, "SELECT", "SELECT"],
    ] as const) {
      await client.query(`GRANT ${tables} ON ALL TABLES IN SCHEMA public TO ${id(group)}`);
      await client.query(`GRANT ${sequences} ON ALL SEQUENCES IN SCHEMA public TO ${id(group)}`);
      await client.query(`ALTER DEFAULT PRIVILEGES FOR ROLE ${id(owner)} IN SCHEMA public GRANT ${tables} ON TABLES TO ${id(group)}`);
      await client.query(`ALTER DEFAULT PRIVILEGES FOR ROLE ${id(owner)} IN SCHEMA public GRANT ${sequences} ON SEQUENCES TO ${id(group)}`);
    }
    for (const r of roles) {
      if (r.access === "readwrite") await client.query(`GRANT ${id(groups.readwrite)} TO ${id(r.user)}`);
      if (r.access === "readonly") await client.query(`GRANT ${id(groups.readonly)} TO ${id(r.user)}`);
      if (r.access === "monitor") await client.query(`GRANT pg_monitor TO ${id(r.user)}`);
    }
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  }
}

async function main(): Promise<number> {
  let input;
  try {
    input = parseDatabaseRolesEnv(process.env);
  } catch (err) {
    console.error(`db-roles: ${(err as Error).message}`);
    return 2;
  }
  const client = new pg.Client({ connectionString: input.url });
  try {
    await client.connect();
    await applyDatabaseRoles(client, input.roles, input.passwords);
    console.log(`db-roles: ${input.roles.map((r) => `${r.user} (${r.access})`).join(", ")}`);
    return 0;
  } catch (err) {
    console.error(`db-roles failed: ${(err as Error).message}`);
    return 1;
  } finally {
    await client.end().catch(() => undefined);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then((code) => process.exit(code));
}
