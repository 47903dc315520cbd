/**
 * A throw-away certificate for the local receiver's SMTP STARTTLS, generated with openssl at
 * start: production's Alertmanager requires TLS to its smarthost (smtp_require_tls: true), and the
 * local run keeps that setting. Alertmanager trusts this certificate through SSL_CERT_FILE
 * (Go reads the system roots from it), so its configuration stays as rendered.
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const execFileP = promisify(execFile);

export interface LocalCertificate {
  readonly keyFile: string;
  readonly certFile: string;
  readonly key: Buffer;
  readonly cert: Buffer;
}

/** A self-signed P-256 certificate for 127.0.0.1 and localhost, valid for two days. */
export async function selfSignedCertificate(dir: string): Promise<LocalCertificate> {
  const keyFile = join(dir, "receiver-key.pem");
  const certFile = join(dir, "receiver-cert.pem");
  await execFileP("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-keyout", keyFile, "-out", certFile, "-days", "2",
    "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
  ]);
  return { keyFile, certFile, key: await readFile(keyFile), cert: await readFile(certFile) };
}
