// Prints a fresh private signing key as one line of JWK, for SIGNING_KEY:
//   npm run keygen                 Ed25519 (EdDSA), the default
//   npm run keygen -- --alg ES256  P-256
// `kid` is the key's RFC 7638 thumbprint, as the worker computes it. Made with the
// platform's WebCrypto; the key never leaves this process except on stdout.

import { calculateJwkThumbprint } from "jose";

const alg = process.argv.includes("--alg") ? process.argv[process.argv.indexOf("--alg") + 1] : "EdDSA";
const params = { EdDSA: { name: "Ed25519" }, ES256: { name: "ECDSA", namedCurve: "P-256" } }[alg];
if (!params) {
  console.error("--alg must be EdDSA or ES256");
  process.exit(2);
}
const { privateKey } = await crypto.subtle.generateKey(params, true, ["sign", "verify"]);
const jwk = await crypto.subtle.exportKey("jwk", privateKey);
const key = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, ...(jwk.y ? { y: jwk.y } : {}), d: jwk.d, alg };
key.kid = await calculateJwkThumbprint(key, "sha256");
console.log(JSON.stringify(key));
console.error("Install it with: npx wrangler secret put SIGNING_KEY   (paste the line above)");
