/**
 * ops/db-roles.ts against the real PostgreSQL, run as an RDS-like master user (LOGIN CREATEROLE,
 * owner of the database, not a superuser): each component gets a role that can do exactly its job,
 * the schema migrates as the owner role, re-runs are idempotent and rotate passwords, and bad
 * input changes nothing. Role names are unique per run (roles are cluster-wide; the server is shared).
 */
import { execFile } from "node:child_process";
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPS_COMMANDS } from "../../ops/commands.js";
import { applyDatabaseRoles, groupRoles, parseDatabaseRolesEnv, scramVerifier } from "../../ops/db-roles.js";
import { rolePasswordEnv } from "../../model/database-roles.js";
import type { DatabaseRole } from "../../model/database-roles.js";
import { applyMigrations, loadMigrations } from "../../services/db/migrations.js";
import { pgExecutor } from "../../services/db/executors.js";
import { PG_ADMIN_URL, databaseUrl } from "../helpers/db.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const run = randomBytes(3).toString("hex");
const dbName = `roles_${process.pid}_${run}`;
const master = `master_${run}`;
const roles: DatabaseRole[] = [
  { user: `api_${run}`, access: "readwrite" },
  { user: `worker_${run}`, access: "readwrite" },
  { user: `migrate_${run}`, access: "owner" },
  { user: `backup_${run}`, access: "readonly" },
  { user: `exporter_${run}`, access: "monitor" },
];
const user = (access: DatabaseRole["access"]) => roles.find((r) => r.access === access)!.user;
const passwords = (suffix: string) => new Map(roles.map((r) => [r.user, `password-${r.user}-${suffix}`]));
const groups = groupRoles(dbName);

function urlAs(role: string): string {
  const u = new URL(databaseUrl(dbName));
  u.username = role;
  return u.toString();
}

async function as<T>(role: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: urlAs(role) });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}
const admin = <T>(fn: (c: pg.Client) => Promise<T>) => as("postgres", fn);

async function rejects(role: string, sql: string): Promise<string> {
  return as(role, (c) => c.query(sql).then(() => "", (e: Error) => e.message));
}

beforeAll(async () => {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    await c.query(`CREATE ROLE "${master}" LOGIN CREATEROLE`);
    await c.query(`CREATE DATABASE "${dbName}" OWNER "${master}"`);
  } finally {
    await c.end();
  }
  // A table the master user created before the split: the owner role takes it over.
  await as(master, (m) => m.query("CREATE TABLE legacy_notes (id serial PRIMARY KEY, body text)"));
});

afterAll(async () => {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    await c.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    for (const r of [...roles.map((x) => x.user), groups.readwrite, groups.readonly, master]) await c.query(`DROP ROLE IF EXISTS "${r}"`);
  } finally {
    await c.end();
  }
});

describe("db-roles", () => {
  it("gives each component its role: the owner migrates, readwrite roles work rows, readonly reads, monitor monitors", async () => {
    await as(master, (c) => applyDatabaseRoles(c, roles, passwords("1")));
    // Migrations run as the owner role (what the migration Job does with its own DATABASE_URL).
    await as(user("owner"), async (c) => applyMigrations(pgExecutor(c), await loadMigrations()));
    const owners = await admin((c) => c.query<{ owner: string }>("SELECT DISTINCT tableowner AS owner FROM pg_tables WHERE schemaname = 'public'"));
    expect(owners.rows.map((r) => r.owner)).toEqual([user("owner")]);

    const table = await admin(async (c) => (await c.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' AND tablename <> '_prisma_migrations' ORDER BY 1 LIMIT 1")).rows[0]!.t);
    for (const rw of [user("readwrite"), roles[1]!.user]) {
      await as(rw, (c) => c.query("INSERT INTO legacy_notes (body) VALUES ('written by a component')"));
      expect(await rejects(rw, "CREATE TABLE sneaky (id int)")).toMatch(/permission denied for schema public/);
      expect(await rejects(rw, `DROP TABLE "${table}"`)).toMatch(/must be owner/);
      expect(await rejects(rw, `ALTER TABLE "${table}" ADD COLUMN x int`)).toMatch(/must be owner/);
    }
    expect(await as(user("readonly"), async (c) => (await c.query("SELECT count(*)::int AS n FROM legacy_notes")).rows[0].n)).toBe(2);
    expect(await as(user("readonly"), async (c) => (await c.query(`SELECT count(*)::int AS n FROM "${table}"`)).rows[0].n)).toBeGreaterThanOrEqual(0);
    expect(await rejects(user("readonly"), "INSERT INTO legacy_notes (body) VALUES ('no')")).toMatch(/permission denied for table legacy_notes/);
    expect(await rejects(user("monitor"), "SELECT * FROM legacy_notes")).toMatch(/permission denied/);
    expect(await as(user("monitor"), async (c) => (await c.query("SELECT pg_has_role(current_user, 'pg_monitor', 'USAGE') AS ok")).rows[0].ok)).toBe(true);
  }, 60_000);

  it("is idempotent, rotates the passwords, and grants what the owner creates later", async () => {
    const before = await admin((c) => c.query<{ rolname: string; rolpassword: string }>("SELECT rolname, rolpassword FROM pg_authid WHERE rolname = ANY($1)", [roles.map((r) => r.user)]));
    await as(master, (c) => applyDatabaseRoles(c, roles, passwords("2")));
    const after = await admin((c) => c.query<{ rolname: string; rolpassword: string }>("SELECT rolname, rolpassword FROM pg_authid WHERE rolname = ANY($1)", [roles.map((r) => r.user)]));
    for (const r of roles) {
      const stored = after.rows.find((x) => x.rolname === r.user)!.rolpassword;
      expect(stored).not.toBe(before.rows.find((x) => x.rolname === r.user)!.rolpassword);
      // What the server stores is the SCRAM verifier of exactly the new password.
      const [, iterations, salt] = /^SCRAM-SHA-256\$(\d+):([^$]+)\$/.exec(stored)!;
      expect(scramVerifier(`password-${r.user}-2`, Buffer.from(salt!, "base64"), Number(iterations))).toBe(stored);
    }
    await as(user("owner"), (c) => c.query("CREATE TABLE added_later (id bigserial PRIMARY KEY, note text)"));
    await as(user("readwrite"), (c) => c.query("INSERT INTO added_later (note) VALUES ('ok')"));
    expect(await as(user("readonly"), async (c) => (await c.query("SELECT count(*)::int AS n FROM added_later")).rows[0].n)).toBe(1);
  }, 60_000);

  it("computes SCRAM verifiers as RFC 7677 does", () => {
    // The stored and server keys from HMAC(SaltedPassword, "Client Key"/"Server Key"), RFC 5802 section 3.
    const salt = Buffer.from("W22ZaJ0SNY7soEsUEjb6gQ==", "base64");
    const salted = pbkdf2Sync("pencil", salt, 4096, 32, "sha256");
    const stored = createHash("sha256").update(createHmac("sha256", salted).update("Client Key").digest()).digest("base64");
    const server = createHmac("sha256", salted).update("Server Key").digest("base64");
    expect(scramVerifier("pencil", salt, 4096)).toBe(`SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$${stored}:${server}`);
    // RFC 7677's test vector for "pencil" with this salt: ServerSignature is derived from this ServerKey.
    expect(server).toBe("wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=");
  });

  it("names the bad variable and changes nothing", async () => {
    const env: NodeJS.ProcessEnv = { DATABASE_URL: urlAs(master), DB_ROLES: JSON.stringify(roles), ...Object.fromEntries(roles.map((r) => [rolePasswordEnv(r.user), `password-${r.user}-3`])) };
    expect(() => parseDatabaseRolesEnv({ ...env, DATABASE_URL: "" })).toThrow(/^DATABASE_URL: required/);
    expect(() => parseDatabaseRolesEnv({ ...env, DB_ROLES: "[{\"user\":\"App\",\"access\":\"readwrite\"}]" })).toThrow(/^DB_ROLES: 0\.user must be a lowercase PostgreSQL role name/);
    expect(() => parseDatabaseRolesEnv({ ...env, DB_ROLES: JSON.stringify(roles.filter((r) => r.access !== "owner")) })).toThrow(/needs exactly one owner role/);
    const missing = rolePasswordEnv(user("readonly"));
    const withoutPassword = { ...env, [missing]: undefined };
    expect(() => parseDatabaseRolesEnv(withoutPassword)).toThrow(new RegExp(`^${missing}: required`));

    // The command as the Job runs it: exit 2 with the variable's name, no role touched.
    const before = await admin((c) => c.query("SELECT rolname, rolpassword FROM pg_authid WHERE rolname = ANY($1) ORDER BY 1", [roles.map((r) => r.user)]));
    const [cmd, ...args] = OPS_COMMANDS.dbRoles;
    const result = await promisify(execFile)(cmd, args, { cwd: ROOT, env: { PATH: process.env["PATH"], ...withoutPassword } }).then(
      () => ({ code: 0, stderr: "" }),
      (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`db-roles: ${missing}: required`);
    const after = await admin((c) => c.query("SELECT rolname, rolpassword FROM pg_authid WHERE rolname = ANY($1) ORDER BY 1", [roles.map((r) => r.user)]));
    expect(after.rows).toEqual(before.rows);

    // And with everything set it succeeds.
    const ok = await promisify(execFile)(cmd, args, { cwd: ROOT, env: { PATH: process.env["PATH"], ...env } });
    expect(ok.stdout).toContain(`db-roles: api_${run} (readwrite)`);
  }, 60_000);
});
