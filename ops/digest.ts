/**
 * OPS_COMMANDS.digest (`npm run digest` locally): the daily alert summary by email, built from
 * Prometheus's ALERTS / ALERTS_FOR_STATE over the window (ops/digest/history.ts): what fired and
 * resolved, how long each alert lasted, pages (critical) against warnings, the noisiest alerts.
 * Plain-text and HTML bodies.
 *
 *   node --import tsx ops/digest.ts [--since 24h|<ISO time>] [--now <ISO time>] [--dry-run]
 *
 * Environment: PROMETHEUS_URL; SMTP_SMARTHOST (host:port), SMTP_FROM, SMTP_TO (comma-separated),
 * SMTP_USER and SMTP_PASSWORD_FILE (optional, together), SMTP_REQUIRE_TLS (default true: STARTTLS
 * required); ENVIRONMENT (optional: the subject's prefix and runbook links, one of model/environments.ts).
 * --dry-run prints the text body instead of sending. Prints one JSON line of the counts; exits
 * non-zero when Prometheus or the SMTP server fails.
 */
import { z } from "zod";
import { environment, isEnvironmentName, runbookUrl } from "../model/environments.js";
import { ConfigError, parseEnv, parseFlags, runCommand } from "./cli.js";
import { alertHistory } from "./digest/history.js";
import { sendMail } from "./digest/mail.js";
import { htmlBody, subject, textBody } from "./digest/render.js";
import { summarize } from "./digest/summary.js";

const boolText = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");

const envSchema = z
  .object({
    PROMETHEUS_URL: z.string().url(),
    SMTP_SMARTHOST: z.string().regex(/^[^\s:]+:\d{1,5}$/, 'must be "host:port"').optional(),
    SMTP_FROM: z.string().min(3).optional(),
    SMTP_TO: z
      .string()
      .transform((s) => s.split(",").map((x) => x.trim()).filter(Boolean))
      .pipe(z.array(z.email()).min(1))
      .optional(),
    SMTP_USER: z.string().optional(),
    SMTP_PASSWORD_FILE: z.string().optional(),
    SMTP_REQUIRE_TLS: boolText.default(true),
    ENVIRONMENT: z.string().refine(isEnvironmentName, "must name an environment of model/environments.ts").optional(),
  })
  .refine((e) => !e.SMTP_PASSWORD_FILE || e.SMTP_USER, { path: ["SMTP_USER"], message: "required with SMTP_PASSWORD_FILE" });

const DURATION = /^(\d+)(s|m|h|d)$/;
const UNIT = { s: 1, m: 60, h: 3600, d: 86400 } as const;

function parseTime(value: string, name: string): Date {
  const t = new Date(value);
  if (Number.isNaN(t.getTime())) throw new ConfigError([`${name}: "${value}" is not a time (ISO 8601, e.g. 2026-01-31T08:00:00Z)`]);
  return t;
}

runCommand("digest", async () => {
  const flags = parseFlags({ since: { type: "string", default: "24h" }, now: { type: "string" }, "dry-run": { type: "boolean", default: false } });
  const env = parseEnv(envSchema);
  const now = flags.now ? parseTime(flags.now, "--now") : new Date();
  const d = DURATION.exec(flags.since);
  const since = d ? new Date(now.getTime() - Number(d[1]) * UNIT[d[2] as keyof typeof UNIT] * 1000) : parseTime(flags.since, "--since");
  if (since >= now) throw new ConfigError([`--since: ${since.toISOString()} is not before --now ${now.toISOString()}`]);
  const dryRun = flags["dry-run"];
  if (!dryRun) {
    const missing = (["SMTP_SMARTHOST", "SMTP_FROM", "SMTP_TO"] as const).filter((k) => !env[k]);
    if (missing.length > 0) throw new ConfigError(missing.map((k) => `${k}: required to send the digest (or pass --dry-run)`));
  }

  const window = { since: since.getTime() / 1000, now: now.getTime() / 1000 };
  const { episodes } = await alertHistory(env.PROMETHEUS_URL, window);
  const digest = summarize(episodes, window);
  const model = env.ENVIRONMENT && isEnvironmentName(env.ENVIRONMENT) ? environment(env.ENVIRONMENT) : undefined;
  const opts = { environment: env.ENVIRONMENT, runbook: model ? (name: string) => runbookUrl(model, name) : undefined };
  const mail = { subject: subject(digest, opts), text: textBody(digest, opts), html: htmlBody(digest, opts) };
  const counts = { fired: digest.fired, resolved: digest.resolved, stillFiring: digest.stillFiring, pages: digest.pages, warnings: digest.warnings };
  if (dryRun) {
    console.log(`${mail.subject}\n\n${mail.text}`);
    console.log(JSON.stringify({ sent: false, ...counts }));
    return;
  }
  const sent = await sendMail({ smarthost: env.SMTP_SMARTHOST!, from: env.SMTP_FROM!, to: env.SMTP_TO!, user: env.SMTP_USER, passwordFile: env.SMTP_PASSWORD_FILE, requireTls: env.SMTP_REQUIRE_TLS }, mail);
  console.log(JSON.stringify({ sent: true, to: sent.accepted, subject: mail.subject, ...counts, since: since.toISOString(), now: now.toISOString() }));
});
