// A DBSC (device-bound session) client as a browser would be one, for end-to-end tests:
// a device key made with WebCrypto (through jose), the proofs signed with it, the
// structured headers read from the worker's answers, and a cookie jar.

import { SignJWT, exportJWK, generateKeyPair, calculateJwkThumbprint } from "jose";

/** A device key: `alg` is "ES256" (P-256) or "RS256" (RSA 2048). */
export async function deviceKey(alg = "ES256") {
  const { publicKey, privateKey } = await generateKeyPair(alg, alg === "RS256" ? { modulusLength: 2048 } : {});
  const jwk = await exportJWK(publicKey);
  return { alg, privateKey, jwk, thumbprint: await calculateJwkThumbprint(jwk, "sha256") };
}

/** A `dbsc+jwt` proof; with `withKey` (registration) the header carries the public JWK. */
export async function proof(key, payload, { withKey = false } = {}) {
  const header = { alg: key.alg, typ: "dbsc+jwt", ...(withKey ? { jwk: key.jwk } : {}) };
  return new SignJWT(payload).setProtectedHeader(header).sign(key.privateKey);
}

/** The parameters of a `Secure-Session-Registration` value: `{ algs, path, challenge, authorization }`. */
export function parseRegistration(value) {
  const match = /^\(([^)]*)\)(.*)$/.exec(value ?? "");
  if (!match) return null;
  const params = Object.fromEntries([...match[2].matchAll(/;([a-z]+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
  return { algs: match[1].split(" "), ...params };
}

/** `"<challenge>";id="<session id>"` → `{ challenge, id }`. */
export function parseChallenge(value) {
  const match = /^"([^"]*)";id="([^"]*)"$/.exec(value ?? "");
  return match ? { challenge: match[1], id: match[2] } : null;
}

/** A cookie jar: `name → { value, attributes }`, fed by `Set-Cookie` values. */
export class CookieJar {
  cookies = new Map();

  take(res) {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(";").map((s) => s.trim());
      const [name, value] = [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)];
      const maxAge = attributes.find((a) => a.toLowerCase().startsWith("max-age="));
      if (maxAge && Number(maxAge.split("=")[1]) <= 0) this.cookies.delete(name);
      else this.cookies.set(name, { value, attributes });
    }
    return res;
  }

  get(name) {
    return this.cookies.get(name)?.value;
  }

  /** The `Cookie` header a browser would send to `path` (Path-scoped cookies only below their path). */
  header(path = "/") {
    return [...this.cookies]
      .filter(([, c]) => {
        const scope = c.attributes.find((a) => a.toLowerCase().startsWith("path="))?.slice(5) ?? "/";
        return path === scope || path.startsWith(scope.endsWith("/") ? scope : `${scope}/`) || scope === "/";
      })
      .map(([name, c]) => `${name}=${c.value}`)
      .join("; ");
  }

  copy() {
    const jar = new CookieJar();
    jar.cookies = new Map(this.cookies);
    return jar;
  }
}
