// A throwaway TLS identity for https://localhost, made at test time with the openssl CLI
// (scripts/setup.sh installs it). Chromium runs DBSC only on a secure origin whose
// certificate it trusts without an error, and it is told to trust this one by the SHA-256
// of its public key (--ignore-certificate-errors-spki-list), not by ignoring errors.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { X509Certificate, createHash } from "node:crypto";

/** A fresh P-256 key and a self-signed certificate for DNS:localhost, valid two days. */
export function makeLocalhostCertificate() {
  const dir = mkdtempSync(join(tmpdir(), "localhost-tls-"));
  try {
    const keyPath = join(dir, "key.pem");
    const certPath = join(dir, "cert.pem");
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        keyPath,
        "-out",
        certPath,
        "-days",
        "2",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost",
        "-addext",
        "extendedKeyUsage=serverAuth",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    const cert = readFileSync(certPath, "utf8");
    return { key: readFileSync(keyPath, "utf8"), cert, spkiSha256: spkiSha256(cert) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** base64 SHA-256 of the certificate's SubjectPublicKeyInfo: what Chromium's SPKI list wants. */
export function spkiSha256(certPem) {
  const spki = new X509Certificate(certPem).publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(spki).digest("base64");
}
