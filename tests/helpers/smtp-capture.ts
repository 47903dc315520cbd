/**
 * A local SMTP server (the npm `smtp-server` package, a real SMTP implementation) on a free loopback
 * port that keeps every message it receives, parsed with mailparser. No TLS: STARTTLS is not offered,
 * so a client that requires TLS fails against it. With `auth`, AUTH PLAIN/LOGIN is required and checked.
 *
 * Small on purpose: the full local receiver for `npm run platform:local` (scripts/local/) can take
 * its place once it exists.
 */
import type { AddressInfo } from "node:net";
import { simpleParser, type ParsedMail } from "mailparser";
import { SMTPServer } from "smtp-server";

export interface CapturedMail {
  readonly envelope: { readonly from: string; readonly to: readonly string[] };
  readonly user: string | undefined;
  readonly parsed: ParsedMail;
}

export interface SmtpCapture {
  readonly host: string;
  readonly port: number;
  /** host:port, as Alertmanager's smarthost and SMTP_SMARTHOST take it. */
  readonly smarthost: string;
  readonly messages: CapturedMail[];
  close(): Promise<void>;
}

export async function startSmtpCapture(opts: { auth?: { user: string; pass: string } } = {}): Promise<SmtpCapture> {
  const messages: CapturedMail[] = [];
  const server = new SMTPServer({
    disabledCommands: opts.auth ? ["STARTTLS"] : ["STARTTLS", "AUTH"],
    authOptional: !opts.auth,
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, cb) {
      if (opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.pass) return cb(null, { user: auth.username });
      cb(new Error("Invalid username or password"));
    },
    onData(stream, session, cb) {
      simpleParser(stream).then(
        (parsed) => {
          const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : "";
          messages.push({ envelope: { from, to: session.envelope.rcptTo.map((r) => r.address) }, user: session.user as string | undefined, parsed });
          cb();
        },
        (err: Error) => cb(err),
      );
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  return {
    host: "127.0.0.1",
    port,
    smarthost: `127.0.0.1:${port}`,
    messages,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
