// What the middlewares (node.js, hono.js) share: verify a request's X-Session-Assertion,
// check the route's requirements (aal, age, claims) against the verified session, and
// decide the answer to a refusal. Framework-free: it reads headers and returns a verdict.

import { AssertionError, createAssertionVerifier } from "./index.js";

/** The route's requirements, checked once when the middleware is made. */
function requirementsFrom({ minAal, maxAge, claim }) {
  if (minAal !== undefined && ![1, 2, 3].includes(minAal)) throw new TypeError("minAal must be 1, 2 or 3");
  if (maxAge !== undefined && !(Number.isInteger(maxAge) && maxAge >= 0))
    throw new TypeError("maxAge must be a whole number of seconds, 0 or more");
  const claims = claim === undefined ? [] : [claim].flat();
  for (const c of claims) {
    if (typeof c?.name !== "string" || !c.name) throw new TypeError("each claim needs a name");
    if ("value" in c === (typeof c.test === "function"))
      throw new TypeError(`claim ${c.name}: give either value or test (a predicate)`);
  }
  return { minAal, maxAge, claims };
}

/**
 * Why the session does not meet the requirements, as the answer's status and body, or
 * null when it does. Authentication too old or too weak is the worker's own refusal,
 * 403 `reauthentication_required` with `failed`, `authenticated_at` and `aal`, so a page
 * handles it the same from either; a claim that does not match is 403 `claim_required`,
 * naming the claim but never the value it needed.
 */
function unmet({ minAal, maxAge, claims }, session, nowSecs) {
  const failed = [];
  const authTime = session.payload.auth_time;
  if (maxAge !== undefined && !(Number.isFinite(authTime) && nowSecs - authTime <= maxAge)) failed.push("max_age");
  if (minAal !== undefined && !(session.aal >= minAal)) failed.push("min_aal");
  if (failed.length) {
    const body = {
      error: "reauthentication_required",
      message: "the last authentication is too old or too weak for this resource",
      failed,
      aal: session.aal,
    };
    if (Number.isFinite(authTime)) body.authenticated_at = new Date(authTime * 1000).toISOString().replace(".000", "");
    return { status: 403, body };
  }
  for (const c of claims) {
    const value = session.claims[c.name];
    const ok = c.test ? c.test(value, session) === true : Object.hasOwn(session.claims, c.name) && value === c.value;
    if (!ok)
      return {
        status: 403,
        body: { error: "claim_required", message: `the session's ${c.name} claim does not allow this`, claim: c.name },
      };
  }
  return null;
}

/**
 * A refused assertion is 401 with the SDK's code; a key set that cannot be fetched is the
 * origin's trouble, not the caller's, so 503. Anything else is 500: never let through.
 */
function refusalOf(e) {
  if (e instanceof AssertionError) {
    const status = e.code === "jwks_unavailable" ? 503 : 401;
    return { status, body: { error: e.code, message: e.message } };
  }
  return { status: 500, body: { error: "internal_error", message: "the session could not be checked" } };
}

/**
 * `verify(source)` resolves to `{ session }` or `{ refusal: { status, body } }`; it never
 * rejects, so a middleware cannot fail open on an unexpected error.
 */
export function createSessionGuard({ verifier, jwksUrl, issuer, audience, clockTolerance, ...rest }) {
  const requirements = requirementsFrom(rest);
  const check = verifier ?? createAssertionVerifier({ jwksUrl, issuer, audience, clockTolerance });
  if (typeof check?.verify !== "function") throw new TypeError("verifier must have verify()");
  return {
    async verify(source) {
      let session;
      try {
        session = await check.verify(source);
      } catch (e) {
        return { refusal: refusalOf(e) };
      }
      try {
        const refusal = unmet(requirements, session, Math.floor(Date.now() / 1000));
        return refusal ? { refusal } : { session };
      } catch {
        // A claim predicate threw: a bug in the route, answered 500, never let through.
        return { refusal: refusalOf(null) };
      }
    },
  };
}
