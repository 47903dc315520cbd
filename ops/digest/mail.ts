/**
 * Sending the digest through the environment's SMTP smarthost with nodemailer: the same settings
 * Alertmanager's email receiver uses (smarthost host:port, from, require TLS, a user and a
 * password read from a file).
 */
import { readFile } from "node:fs/promises";
import nodemailer from "nodemailer";

export interface SmtpSettings {
  /** host:port */
  readonly smarthost: string;
  readonly from: string;
  readonly to: readonly string[];
  readonly user?: string;
  readonly passwordFile?: string;
  /** STARTTLS required (port 465 is TLS from the start). */
  readonly requireTls: boolean;
}

export interface Mail {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

export async function sendMail(smtp: SmtpSettings, mail: Mail): Promise<{ messageId: string; accepted: string[] }> {
  const [host, portText] = smtp.smarthost.split(/:(?=\d+$)/);
  const port = Number(portText);
  const pass = smtp.passwordFile ? (await readFile(smtp.passwordFile, "utf8")).trim() : undefined;
  const transport = nodemailer.createTransport({
    host,
    port,
    secure: port === 465,
    requireTLS: smtp.requireTls && port !== 465,
    ...(smtp.user ? { auth: { user: smtp.user, pass: pass ?? "" } } : {}),
    connectionTimeout: 30_000,
    greetingTimeout: 30_000,
    socketTimeout: 60_000,
  });
  try {
    const info = await transport.sendMail({ from: smtp.from, to: [...smtp.to], subject: mail.subject, text: mail.text, html: mail.html });
    return { messageId: info.messageId, accepted: (info.accepted as (string | { address: string })[]).map((a) => (typeof a === "string" ? a : a.address)) };
  } finally {
    transport.close();
  }
}
