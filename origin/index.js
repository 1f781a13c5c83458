// edge-sessions/origin: for your origin's servers (Node 20+ or Workers).
//
//   createAssertionVerifier({ jwksUrl, issuer, audience }).verify(request)
//     checks the X-Session-Assertion the gatekeeper forwards against the worker's
//     /v1/jwks.json, with `jose`. With `kind: "access_token"`, it checks a token from
//     GET /v1/session/token instead (sent as Authorization: Bearer); each kind refuses
//     the other.
//   createAdminClient({ baseUrl, adminKey }) calls the admin API.
//
// Every field this SDK returns is camelCase (`sessionId`, `expiresAt`), whatever the
// wire calls it; only `payload` (the JWT as signed) and the contents of `claims` (the
// origin's own data) keep their names.

import { createRemoteJWKSet, errors, jwtVerify } from "jose";

const REGISTERED = new Set([
  "iss",
  "sub",
  "aud",
  "exp",
  "nbf",
  "iat",
  "jti",
  "sid",
  "auth_time",
  "aal",
  "amr",
  "acr",
  "act",
  "cnf",
  "azp",
  "nonce",
]);

/** Why an assertion was refused; `code` is one of the strings below. */
export class AssertionError extends Error {
  constructor(code, message, options) {
    super(message, options);
    this.name = "AssertionError";
    this.code = code; // missing_assertion | malformed | invalid_signature | expired | invalid_claims | unknown_key | jwks_unavailable
  }
}

// The signed header `typ` of each kind. A token page JavaScript holds must never pass as
// the gatekeeper's word, which comes after its CSRF, strong and fresh checks.
const KINDS = {
  gateway: { typ: "gateway+jwt", header: "x-session-assertion", missing: "no X-Session-Assertion" },
  access_token: { typ: "at+jwt", header: "authorization", missing: "no Authorization: Bearer token" },
};

function headerFrom(input, name) {
  const headers = input?.headers ?? input;
  if (headers && typeof headers.get === "function") return headers.get(name);
  if (headers && typeof headers === "object")
    return headers[name] ?? headers[name.replace(/(^|-)[a-z]/g, (c) => c.toUpperCase())];
  return null;
}

function assertionFrom(input, kind) {
  if (typeof input === "string") return input;
  const value = headerFrom(input, KINDS[kind].header);
  if (kind === "gateway" || typeof value !== "string") return value;
  return /^Bearer +(\S+)$/i.exec(value)?.[1] ?? null;
}

function classify(e) {
  if (e instanceof errors.JWTExpired) return new AssertionError("expired", "the assertion has expired", { cause: e });
  if (e instanceof errors.JWTClaimValidationFailed)
    return new AssertionError("invalid_claims", `claim check failed: ${e.claim}`, { cause: e });
  if (e instanceof errors.JWSSignatureVerificationFailed)
    return new AssertionError("invalid_signature", "the signature does not verify", { cause: e });
  if (e instanceof errors.JWKSNoMatchingKey)
    return new AssertionError("unknown_key", "no key in the key set matches the assertion's kid", { cause: e });
  if (e instanceof errors.JWKSTimeout || e instanceof errors.JWKSInvalid)
    return new AssertionError("jwks_unavailable", "the key set could not be fetched", { cause: e });
  if (e instanceof errors.JOSEAlgNotAllowed)
    return new AssertionError("invalid_signature", "algorithm not allowed", { cause: e });
  // jose throws its base class, and only it, when the key set answers other than 200 or
  // is not JSON: the keys are unavailable, the assertion is not at fault.
  if (e?.constructor === errors.JOSEError)
    return new AssertionError("jwks_unavailable", "the key set could not be fetched", { cause: e });
  if (e instanceof errors.JOSEError) return new AssertionError("malformed", e.message, { cause: e });
  return new AssertionError("jwks_unavailable", e?.message ?? String(e), { cause: e });
}

/**
 * @param {{ jwksUrl: string | URL, issuer: string, audience: string, clockTolerance?: number, kind?: "gateway" | "access_token" }} options
 */
export function createAssertionVerifier({ jwksUrl, issuer, audience, clockTolerance = 5, kind = "gateway" }) {
  if (!jwksUrl || !issuer || !audience) throw new TypeError("jwksUrl, issuer and audience are required");
  if (!Object.hasOwn(KINDS, kind)) throw new TypeError('kind must be "gateway" or "access_token"');
  const { typ, missing } = KINDS[kind];
  // Caches the key set and refetches it when an assertion names an unknown kid.
  const keys = createRemoteJWKSet(new URL(jwksUrl));
  return {
    async verify(input) {
      const jwt = assertionFrom(input, kind);
      if (!jwt) throw new AssertionError("missing_assertion", missing);
      let payload;
      try {
        ({ payload } = await jwtVerify(jwt, keys, {
          issuer,
          audience,
          typ,
          algorithms: ["EdDSA", "ES256"],
          clockTolerance,
          requiredClaims: ["sub", "sid", "exp", "iat"],
        }));
      } catch (e) {
        if (e instanceof errors.JWTClaimValidationFailed && e.claim === "typ")
          throw new AssertionError("invalid_claims", `typ is not ${typ}: this verifier takes only the ${kind} kind`, {
            cause: e,
          });
        throw classify(e);
      }
      const claims = Object.fromEntries(Object.entries(payload).filter(([k]) => !REGISTERED.has(k)));
      return {
        accountId: payload.sub,
        sessionId: payload.sid,
        claims,
        authTime: new Date(payload.auth_time * 1000),
        expiresAt: new Date(payload.exp * 1000),
        aal: payload.aal,
        amr: payload.amr ?? [],
        // RFC 7800 `cnf.jkt`: the session is bound to this device key (DBSC).
        deviceKeyThumbprint: payload.cnf?.jkt ?? null,
        // RFC 8693: set on an impersonation session, naming who acts as the user.
        act: payload.act ?? null,
        payload,
      };
    },
  };
}

/** A non-2xx answer from the admin API, with the server's `error` code. */
export class AdminApiError extends Error {
  constructor(status, code, message) {
    super(message || code);
    this.name = "AdminApiError";
    this.status = status;
    this.code = code;
  }
}

const snake = {
  userAgent: "user_agent",
  idleTtlSecs: "idle_ttl_secs",
  absoluteTtlSecs: "absolute_ttl_secs",
  authenticatedAt: "authenticated_at",
};

const rfc3339 = (date) => date.toISOString().replace(/\.\d+Z$/, "Z");

/**
 * The worker's snake_case keys as camelCase, one level deep: a session's fields, never
 * the keys inside its `claims`.
 */
function camelKeys(object) {
  return Object.fromEntries(
    Object.entries(object).map(([k, v]) => [k.replace(/_([a-z])/g, (_, c) => c.toUpperCase()), v]),
  );
}

/**
 * @param {{ baseUrl: string, adminKey: string, fetch?: typeof fetch }} options
 */
export function createAdminClient({ baseUrl, adminKey, fetch: fetchImpl = globalThis.fetch.bind(globalThis) }) {
  const base = String(baseUrl).replace(/\/+$/, "");
  const seg = encodeURIComponent;
  // An account id's `@` and `:` are path characters (RFC 3986 pchar) and go as they are;
  // anything else the worker's id rule refuses is encoded, and refused there.
  const acct = (id) => encodeURIComponent(id).replace(/%40/g, "@").replace(/%3A/g, ":");
  const sessions = (accountId) => `/v1/admin/accounts/${acct(accountId)}/sessions`;
  const impersonations = (accountId) => `/v1/admin/accounts/${acct(accountId)}/impersonations`;
  async function call(method, path, { body, expect = [200] } = {}) {
    const headers = { Authorization: `Bearer ${adminKey}`, Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetchImpl(`${base}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      // reported below
    }
    if (!expect.includes(res.status))
      throw new AdminApiError(res.status, json?.error ?? "unexpected_response", json?.message ?? text.slice(0, 200));
    return { res, json };
  }
  return {
    async createSession(accountId, options = {}) {
      // The revoke-all fence compares login times to the millisecond; without one the
      // worker could only use its own clock, later than the credential check. Pass the
      // time you checked them. Dates go with their milliseconds, so a login and a "log
      // out everywhere" in the same second are ordered.
      const body = { authenticated_at: new Date().toISOString() };
      for (const [k, v] of Object.entries(options))
        if (v !== undefined) body[snake[k] ?? k] = v instanceof Date ? v.toISOString() : v;
      const { res, json } = await call("POST", sessions(accountId), { body, expect: [201] });
      return {
        ...camelKeys(json),
        setCookie: res.headers.getSetCookie()[0] ?? null,
        setCookies: res.headers.getSetCookie(),
      };
    },
    async listSessions(accountId, { limit } = {}) {
      const q = limit === undefined ? "" : `?limit=${Number(limit)}`;
      return (await call("GET", `${sessions(accountId)}${q}`)).json.sessions.map(camelKeys);
    },
    /**
     * One page of the live sessions of every account (`GET /v1/admin/sessions`, from KV,
     * eventually consistent). Pass `cursor` back for the next page; absent on the last.
     */
    async listAllSessions({ limit, cursor } = {}) {
      const query = new URLSearchParams();
      if (limit !== undefined) query.set("limit", String(Number(limit)));
      if (cursor !== undefined) query.set("cursor", cursor);
      const qs = query.toString();
      const { json } = await call("GET", qs ? `/v1/admin/sessions?${qs}` : "/v1/admin/sessions");
      const page = {
        // The fleet listing comes from KV metadata, in Unix seconds; the SDK gives every
        // deadline as RFC 3339, like the rest of the API.
        sessions: json.sessions.map((s) => ({
          accountId: s.account_id,
          sessionId: s.session_id,
          expiresAt: rfc3339(new Date(s.expires_at * 1000)),
          absoluteExpiresAt: rfc3339(new Date(s.absolute_expires_at * 1000)),
        })),
      };
      if (json.cursor !== undefined) page.cursor = json.cursor;
      return page;
    },
    async revokeSession(accountId, sessionId) {
      const { res } = await call("DELETE", `${sessions(accountId)}/${seg(sessionId)}`, { expect: [204, 404] });
      return res.status === 204;
    },
    async revokeAll(accountId, { except } = {}) {
      const q = except ? `?except=${seg(except)}` : "";
      return (await call("DELETE", `${sessions(accountId)}${q}`)).json.revoked;
    },
    /** `sessionId` null: every live session of the account; resolves to a count. Otherwise to the session. */
    async updateClaims(accountId, sessionId, claims) {
      const path = sessionId ? `${sessions(accountId)}/${seg(sessionId)}` : sessions(accountId);
      const { json } = await call("PATCH", path, { body: { claims } });
      return sessionId ? camelKeys(json) : json.updated;
    },
    /**
     * `POST /v1/admin/accounts/{id}/impersonations`: a session for `actor` to act as the
     * user, for at most `ttlSecs` (1 to 3600), never extended (docs/impersonation.md).
     */
    async createImpersonation(accountId, { actor, reason, ttlSecs } = {}) {
      const body = { actor, reason, ttl_secs: ttlSecs };
      return camelKeys((await call("POST", impersonations(accountId), { body, expect: [201] })).json);
    },
    async listImpersonations(accountId) {
      return (await call("GET", impersonations(accountId))).json.impersonations.map(camelKeys);
    },
    /** `false` when it is not an impersonation session of this account. */
    async endImpersonation(accountId, sessionId) {
      const path = `${impersonations(accountId)}/${seg(sessionId)}`;
      const { res } = await call("DELETE", path, { expect: [204, 404] });
      return res.status === 204;
    },
    /** Every impersonation of the account; resolves to how many were ended. */
    async endImpersonations(accountId) {
      return (await call("DELETE", impersonations(accountId))).json.ended;
    },
    /** One actor's impersonations across accounts (from KV, eventually consistent). */
    async listActorImpersonations(actor) {
      const { json } = await call("GET", `/v1/admin/impersonations?actor=${seg(actor)}`);
      return { impersonations: json.impersonations.map(camelKeys), complete: json.complete };
    },
    async endActorImpersonations(actor) {
      return (await call("DELETE", `/v1/admin/impersonations?actor=${seg(actor)}`)).json.ended;
    },
    async reauthenticate(accountId, sessionId, { aal, amr } = {}) {
      const { res, json } = await call("POST", `${sessions(accountId)}/${seg(sessionId)}/reauthenticate`, {
        body: { aal, amr },
      });
      return {
        ...camelKeys(json),
        setCookie: res.headers.getSetCookie()[0] ?? null,
        setCookies: res.headers.getSetCookie(),
      };
    },
  };
}
