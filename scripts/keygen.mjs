// Makes a fresh private signing key, one line of JWK, for SIGNING_KEY:
//   npm run keygen                          Ed25519 (EdDSA), the default, on stdout
//   npm run keygen -- --alg ES256           P-256
//   npm run keygen -- --out key.json        into a new file, mode 0600 (nothing on stdout)
//   npm run -s keygen > key.json            stdout without npm's banner (-s: silent)
// `kid` is the key's RFC 7638 thumbprint, as the worker computes it. Made with the
// platform's WebCrypto; the key leaves this process only on stdout or in --out.

import { calculateJwkThumbprint } from "jose";
import { writeFileSync } from "node:fs";

const USAGE = "usage: node scripts/keygen.mjs [--alg EdDSA|ES256] [--out FILE]";
let alg = "EdDSA";
let out;
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const [flag, inline] = args[i].startsWith("--") && args[i].includes("=") ? args[i].split(/=(.*)/s) : [args[i]];
  const value = () => {
    const v = inline ?? args[++i];
    if (v === undefined || v === "") fail(`${flag} needs a value`);
    return v;
  };
  if (flag === "--alg") alg = value();
  else if (flag === "--out") out = value();
  else fail(`unknown argument ${args[i]}`);
}

const params = { EdDSA: { name: "Ed25519" }, ES256: { name: "ECDSA", namedCurve: "P-256" } }[alg];
if (!params) fail("--alg must be EdDSA or ES256");

const { privateKey } = await crypto.subtle.generateKey(params, true, ["sign", "verify"]);
const jwk = await crypto.subtle.exportKey("jwk", privateKey);
const key = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, ...(jwk.y ? { y: jwk.y } : {}), d: jwk.d, alg };
key.kid = await calculateJwkThumbprint(key, "sha256");
const line = JSON.stringify(key) + "\n";

if (out === undefined) {
  process.stdout.write(line);
  console.error("Install it with: npx wrangler secret put SIGNING_KEY   (paste the line above)");
} else {
  // "wx": a new file only, so its mode is 0600 from the start and an existing key is
  // never overwritten by accident.
  try {
    writeFileSync(out, line, { mode: 0o600, flag: "wx" });
  } catch (e) {
    fail(e.code === "EEXIST" ? `${out} exists: remove it first, or choose another --out` : `${out}: ${e.message}`);
  }
  console.error(`Wrote ${out} (mode 0600). Install it with: npx wrangler secret put SIGNING_KEY < ${out}`);
}

function fail(message) {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}
