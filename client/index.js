// A browser (and Node) client for the edge-sessions worker's session-holder API.
// ESM, no dependencies. Every call sends credentials ("include"), so the session cookie
// travels with it, cross-origin too (the worker must then list the page's origin in
// ALLOWED_ORIGINS). Network failures reject with the platform's TypeError; answers
// from the worker that are not successes reject with SessionApiError.

/**
 * A 4xx or 5xx answer, carrying the server's error code (`session_expired`, ...) and what
 * a page acts on: for `reauthentication_required`, `failed` (`max_age`, `min_aal`),
 * `authenticated_at` and `aal` from the body, under the body's names; for
 * `rate_limited`, `retryAfter`, the `Retry-After` header in seconds. `body` is the
 * answer's JSON (null when it was not JSON).
 */
export class SessionApiError extends Error {
  constructor(status, code, message, { body = null, retryAfter } = {}) {
    super(message || code);
    this.name = "SessionApiError";
    this.status = status;
    this.code = code;
    this.body = body;
    if (Array.isArray(body?.failed)) this.failed = body.failed;
    if (typeof body?.authenticated_at === "string") this.authenticated_at = body.authenticated_at;
    if (typeof body?.aal === "number") this.aal = body.aal;
    if (retryAfter !== undefined) this.retryAfter = retryAfter;
  }
}

/** `Retry-After` in seconds: delta-seconds, or an HTTP date counted from now (RFC 9110). */
function retryAfterSecs(value) {
  if (value === null) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/**
 * @param {object} [options]
 * @param {string} [options.baseUrl] where the worker answers; "" (the default) means this
 *   page's own origin, the usual deployment (the worker routed on the site's host)
 * @param {string} [options.token]   send this token as a bearer instead of the cookie
 * @param {typeof fetch} [options.fetch]  a fetch implementation (defaults to globalThis.fetch)
 */
export function createSessionClient({
  baseUrl = "",
  token,
  fetch: fetchImpl = globalThis.fetch.bind(globalThis),
} = {}) {
  const base = baseUrl.replace(/\/+$/, "");
  // With an explicit token the cookie stays home: if it held another session, the
  // worker would refuse the pair as ambiguous.
  const credentials = token ? "omit" : "include";

  let accountId = null;
  async function call(method, path, expected) {
    const headers = { Accept: "application/json" };
    if (token) headers.Authorization = `Bearer ${token}`;
    const response = await fetchImpl(`${base}${path}`, { method, headers, credentials });
    if (response.status === expected && response.status === 204) return undefined;
    const text = await response.text();
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // Not JSON: a proxy or platform error page. Reported below with its status.
    }
    // Remembered for logout(): a token created or rotated a moment ago elsewhere may not
    // have reached the KV of the location that receives the logout.
    if (typeof body?.account_id === "string") accountId = body.account_id;
    if (response.status !== expected) {
      throw new SessionApiError(
        response.status,
        body?.error ?? "unexpected_response",
        body?.message ?? text.slice(0, 200),
        { body, retryAfter: retryAfterSecs(response.headers.get("retry-after")) },
      );
    }
    return body;
  }

  return {
    /**
     * The current session (`GET /v1/session`). `strong: true` checks against the index;
     * `maxAge` (seconds) and `minAal` reject with `reauthentication_required` (403) when
     * the last authentication is older or weaker.
     */
    validate: ({ strong = false, maxAge, minAal } = {}) => {
      const query = new URLSearchParams();
      if (strong) query.set("consistency", "strong");
      if (maxAge !== undefined) query.set("max_age", String(maxAge));
      if (minAal !== undefined) query.set("min_aal", String(minAal));
      const qs = query.toString();
      return call("GET", qs ? `/v1/session?${qs}` : "/v1/session", 200);
    },
    /**
     * Moves this session to a new token (`POST /v1/session/rotate`). With the cookie, the
     * new token arrives only as Set-Cookie; with a bearer token, it is in `token`, and
     * this client sends it from then on (store it where you kept the old one).
     */
    rotate: async () => {
      // A reply lost on the way (a network error, a 5xx) is retried once with the same
      // token: for ROTATION_RETRY_SECS the worker lets the old token retry a rotation,
      // and answers with a token that works.
      const rotated = await call("POST", "/v1/session/rotate", 200).catch((e) => {
        if (e instanceof TypeError || (e instanceof SessionApiError && e.status >= 500))
          return call("POST", "/v1/session/rotate", 200);
        throw e;
      });
      // The old token stopped working in the same step: a bearer client that kept it
      // would be logged out by its next call. (A cookie caller's browser stores the new
      // cookie itself.)
      if (token && rotated?.token) token = rotated.token;
      return rotated;
    },
    /**
     * A signed access token (JWT, `typ: at+jwt`) of this session for one of the worker's
     * ASSERTION_AUDIENCES (`GET /v1/session/token`), for calling your own API with
     * `Authorization: Bearer`. Resolves to `{ token, expires_at }`; ask again before then.
     */
    token: async ({ audience } = {}) => {
      if (typeof audience !== "string" || !audience) throw new TypeError("token({ audience }) needs an audience");
      return call("GET", `/v1/session/token?audience=${encodeURIComponent(audience)}`, 200);
    },
    /** Extends the idle deadline now (`POST /v1/session/refresh`). */
    refresh: () => call("POST", "/v1/session/refresh", 200),
    /**
     * Logs this session out and clears the cookie (`DELETE /v1/session`). Names the
     * account once a call has shown it, so the logout reaches the account's object even
     * where KV has not seen the token yet.
     */
    logout: () =>
      call("DELETE", accountId ? `/v1/session?account_id=${encodeURIComponent(accountId)}` : "/v1/session", 204),
    /** The account's live sessions, newest first; `current` marks this one. */
    listSessions: async () => (await call("GET", "/v1/sessions", 200)).sessions,
    /**
     * Who is signed in as the user right now (support's impersonation sessions), apart
     * from their devices; end one with `revokeSession(session_id)`.
     */
    listImpersonations: async () => (await call("GET", "/v1/sessions", 200)).impersonations ?? [],
    /** Revokes one of the account's sessions by id. */
    revokeSession: (sessionId) => call("DELETE", `/v1/sessions/${encodeURIComponent(sessionId)}`, 204),
    /** Revokes every session but this one; resolves to how many. */
    logoutOthers: async () => (await call("DELETE", "/v1/sessions?scope=others", 200)).revoked,
    /** Revokes every session, this one included; resolves to how many. */
    logoutEverywhere: async () => (await call("DELETE", "/v1/sessions", 200)).revoked,
  };
}
