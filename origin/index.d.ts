/** Why an assertion was refused. */
export type AssertionErrorCode =
  | "missing_assertion"
  | "malformed"
  | "invalid_signature"
  | "expired"
  | "invalid_claims"
  | "impersonation_forbidden"
  | "unknown_key"
  | "jwks_unavailable";

export declare class AssertionError extends Error {
  readonly name: "AssertionError";
  readonly code: AssertionErrorCode;
}

/**
 * Every field this SDK returns is camelCase, whatever the wire calls it (`sessionId` for
 * `session_id`). Only `payload`, the JWT's claims as signed, and the keys inside `claims`,
 * the origin's own data, keep their names. Timestamps from the admin API are RFC 3339
 * strings; the verifier's are `Date`s.
 */
export interface VerifiedSession {
  accountId: string;
  sessionId: string;
  /** The session's custom claims (everything but the registered names). */
  claims: Record<string, unknown>;
  authTime: Date;
  expiresAt: Date;
  aal: number;
  amr: string[];
  /** A device-bound session's key thumbprint (the assertion's RFC 7800 `cnf.jkt`); null when unbound. */
  deviceKeyThumbprint: string | null;
  /**
   * RFC 8693 actor: on an impersonation session (support's "view as"), who acts as the
   * user; `null` on the user's own sessions. The gatekeeper already refused what the
   * session may not do (docs/impersonation.md); an origin may show a banner or audit it.
   */
  act: { sub: string } | null;
  payload: Record<string, unknown>;
}

export interface AssertionVerifier {
  /**
   * A request, a Headers-like object, or the JWT itself. The `gateway` kind reads
   * `X-Session-Assertion`; the `access_token` kind reads `Authorization: Bearer`.
   */
  verify(input: AssertionSource): Promise<VerifiedSession>;
}

/** A header bag: Fetch's `Headers`, or Node's `IncomingHttpHeaders` (lower-case names). */
export type HeaderSource = Headers | Record<string, string | string[] | undefined>;

/**
 * What `verify` reads the token from: a Fetch `Request`, a Node `IncomingMessage` (or
 * Express's `req`), anything else with `headers`, the headers themselves, or the JWT.
 */
export type AssertionSource = Request | { headers: HeaderSource } | HeaderSource | string;

/**
 * Which token a verifier takes, by the signed header `typ`; each refuses the other
 * (`invalid_claims`).
 * - `gateway` (`typ: gateway+jwt`): the gatekeeper's `X-Session-Assertion`.
 * - `access_token` (`typ: at+jwt`, RFC 9068): a token from `GET /v1/session/token`,
 *   held by page JavaScript. Verify these only where a page's own API accepts them.
 */
export type AssertionKind = "gateway" | "access_token";

export declare function createAssertionVerifier(options: {
  jwksUrl: string | URL;
  issuer: string;
  audience: string;
  clockTolerance?: number;
  /** Default `gateway`. */
  kind?: AssertionKind;
}): AssertionVerifier;

/**
 * The worker's error codes (src/core/error_code.rs, openapi.json `Error`), and
 * `unexpected_response` for an answer that is not the worker's JSON.
 */
export type AdminErrorCode =
  | "missing_token"
  | "invalid_token"
  | "session_not_found"
  | "session_expired"
  | "ambiguous_token"
  | "header_too_large"
  | "origin_not_allowed"
  | "invalid_consistency"
  | "invalid_scope"
  | "invalid_account_id"
  | "invalid_json"
  | "invalid_metadata"
  | "invalid_lifetime"
  | "invalid_body"
  | "invalid_limit"
  | "invalid_cursor"
  | "body_too_large"
  | "unsupported_media_type"
  | "invalid_admin_key"
  | "admin_disabled"
  | "not_found"
  | "method_not_allowed"
  | "invalid_config"
  | "internal_error"
  | "origin_unreachable"
  | "origin_timeout"
  | "rate_limited"
  | "invalid_authentication"
  | "invalid_freshness"
  | "reauthentication_required"
  | "session_revoked"
  | "stale_authentication"
  | "invalid_audience"
  | "invalid_claims"
  | "bound_cookie_required"
  | "bound_cookie_expired"
  | "device_key_mismatch"
  | "invalid_device_proof"
  | "session_already_bound"
  | "impersonation_forbidden"
  | "unexpected_response"
  | (string & {});

/** A non-2xx answer from the admin API, with the server's error code. */
export declare class AdminApiError extends Error {
  readonly name: "AdminApiError";
  readonly status: number;
  readonly code: AdminErrorCode;
  constructor(status: number, code: AdminErrorCode, message?: string);
}

export interface CreateSessionOptions {
  ip?: string;
  userAgent?: string;
  label?: string;
  idleTtlSecs?: number;
  absoluteTtlSecs?: number;
  claims?: Record<string, unknown>;
  /**
   * When your server checked the credentials (at most 10 minutes ago). Default: the time
   * of this call. The revoke-all fence refuses a login before the account's last
   * revoke-all ("log out everywhere", a password change), so pass the time of the check
   * itself: a login that checked the old password then cannot open a session after it.
   * A `Date` is sent with its milliseconds, which orders a login against a revoke-all in
   * the same second; a whole-second time counts as the end of its second.
   */
  authenticatedAt?: Date | number | string;
  aal?: 1 | 2 | 3;
  amr?: string[];
}

/** A session as the admin API describes it; timestamps are RFC 3339. */
export interface AdminSession {
  sessionId: string;
  createdAt: string;
  /** The idle deadline: the session ends here unless it is used. */
  expiresAt: string;
  absoluteExpiresAt: string;
  /** When the user last proved who they are. */
  authenticatedAt: string;
  aal: number;
  amr: string[];
  claims: Record<string, unknown>;
  /** Bound to a device key (DBSC): used only with its short-lived bound cookie. */
  deviceBound: boolean;
}

/** One entry of `listSessions`, and the session `updateClaims` returns for one id. */
export interface ListedAdminSession extends AdminSession {
  lastSeenAt: string;
  ip: string | null;
  userAgent: string | null;
  label: string | null;
  /** Where and on what it was last used: a device name such as "Chrome on Windows", or "Unknown". */
  device: string;
  /** The country it was last used from (ISO 3166 alpha-2); null before its first use. */
  country: string | null;
}

export interface CreatedSession extends AdminSession {
  /**
   * With DEVICE_BOUND_SESSIONS=offer, for an unbound session: a ready
   * `Secure-Session-Registration` header value to send with the login answer.
   */
  deviceBindingRegistration?: string;
  /** The plaintext token: returned here once. */
  token: string;
  accountId: string;
  /** A ready `Set-Cookie` value for the browser (the first, when there are several). */
  setCookie: string | null;
  /**
   * Every `Set-Cookie` value, one header each: a device-bound session's reauthentication
   * sets two (its bound cookie and the DBSC endpoints' token cookie).
   */
  setCookies: string[];
  /** Sessions ended to keep the account within MAX_SESSIONS_PER_ACCOUNT. */
  evicted: string[];
}

/** `reauthenticate`: the session under its new token. */
export interface ReauthenticatedSession extends AdminSession {
  /**
   * With DEVICE_BOUND_SESSIONS=offer, for an unbound session: a ready
   * `Secure-Session-Registration` header value to send with the login answer.
   */
  deviceBindingRegistration?: string;
  /** The plaintext token: returned here once. */
  token: string;
  accountId: string;
  /** A ready `Set-Cookie` value for the browser (the first, when there are several). */
  setCookie: string | null;
  /**
   * Every `Set-Cookie` value, one header each: a device-bound session's reauthentication
   * sets two (its bound cookie and the DBSC endpoints' token cookie).
   */
  setCookies: string[];
  /** RFC 8693 actor, when the session is an impersonation. */
  act?: { sub: string };
}

/** `createImpersonation`: the token, once, for the support tool (no cookie). */
export interface ImpersonationSession extends AdminSession {
  token: string;
  accountId: string;
  /** RFC 8693 actor: who acts as the user. */
  act?: { sub: string };
  /** Never set: an impersonation session is not offered device binding. */
  deviceBindingRegistration?: string;
}

/** One entry of `listImpersonations` (and of the user's own listing, snake_case there). */
export interface ListedImpersonation {
  accountId: string;
  sessionId: string;
  actor: string;
  reason: string;
  /** `<actor> (<reason>) signed in as you`. */
  notice: string;
  act: { sub: string };
  startedAt: string;
  lastSeenAt: string;
  /** Its cap, or its idle deadline if sooner; nothing extends the cap. */
  expiresAt: string;
}

/** One entry of `listActorImpersonations`: what KV's key metadata holds. */
export interface FleetImpersonation {
  accountId: string;
  sessionId: string;
  actor: string;
  expiresAt: string;
}

export interface FleetImpersonationPage {
  impersonations: FleetImpersonation[];
  /** `false` when the namespace was too large to scan in one request. */
  complete: boolean;
}

/** One entry of `listAllSessions`: what KV's key metadata holds. */
export interface FleetSession {
  accountId: string;
  sessionId: string;
  expiresAt: string;
  absoluteExpiresAt: string;
}

/** A page of `listAllSessions`. */
export interface FleetPage {
  sessions: FleetSession[];
  /** Absent on the last page; pass it back for the next one. */
  cursor?: string;
}

/**
 * Every admin route of the worker. Account ids are 1 to 128 bytes of
 * `A-Z a-z 0-9 - _ . @ :` (no leading `.`, no `..`), sent in the path as they are:
 * `alice@example.com` and `tenant:42` work unencoded.
 */
export interface AdminClient {
  /** `POST /v1/admin/accounts/{id}/sessions`. */
  createSession(accountId: string, options?: CreateSessionOptions): Promise<CreatedSession>;
  /** `GET /v1/admin/accounts/{id}/sessions`, newest first. */
  listSessions(accountId: string, options?: { limit?: number }): Promise<ListedAdminSession[]>;
  /** `GET /v1/admin/sessions`: one page of every account's live sessions (eventually consistent). */
  listAllSessions(options?: { limit?: number; cursor?: string }): Promise<FleetPage>;
  /** `DELETE .../sessions/{sid}`; `false` when the session is not this account's. */
  revokeSession(accountId: string, sessionId: string): Promise<boolean>;
  /** `DELETE .../sessions[?except=]`; resolves to how many were revoked. */
  revokeAll(accountId: string, options?: { except?: string }): Promise<number>;
  /** `PATCH .../sessions/{sid}` (one session) or `PATCH .../sessions` (`sessionId` null: all, a count). */
  updateClaims(accountId: string, sessionId: string, claims: Record<string, unknown>): Promise<ListedAdminSession>;
  updateClaims(accountId: string, sessionId: null, claims: Record<string, unknown>): Promise<number>;
  /** `POST .../impersonations`: `ttlSecs` 1 to 3600, never extended (docs/impersonation.md). */
  createImpersonation(
    accountId: string,
    options: { actor: string; reason: string; ttlSecs: number },
  ): Promise<ImpersonationSession>;
  /** `GET .../impersonations`, newest first. */
  listImpersonations(accountId: string): Promise<ListedImpersonation[]>;
  /** `DELETE .../impersonations/{sid}`; `false` when it is not an impersonation of this account. */
  endImpersonation(accountId: string, sessionId: string): Promise<boolean>;
  /** `DELETE .../impersonations`; resolves to how many were ended. */
  endImpersonations(accountId: string): Promise<number>;
  /** `GET /v1/admin/impersonations?actor=`: across accounts, eventually consistent. */
  listActorImpersonations(actor: string): Promise<FleetImpersonationPage>;
  /** `DELETE /v1/admin/impersonations?actor=`; resolves to how many were ended. */
  endActorImpersonations(actor: string): Promise<number>;
  /** `POST .../sessions/{sid}/reauthenticate`. */
  reauthenticate(
    accountId: string,
    sessionId: string,
    options?: { aal?: 1 | 2 | 3; amr?: string[] },
  ): Promise<ReauthenticatedSession>;
}

export declare function createAdminClient(options: {
  baseUrl: string;
  adminKey: string;
  fetch?: typeof fetch;
}): AdminClient;

/** A claim a route requires: a value it must equal (`===`), or a predicate it must pass. */
export type ClaimRequirement =
  | { name: string; value: string | number | boolean | null }
  | { name: string; test: (value: unknown, session: VerifiedSession) => boolean };

/**
 * What the middlewares (`@edge-sessions/origin/node`, `@edge-sessions/origin/hono`)
 * take: a verifier, or the options that make one, and the route's requirements.
 */
export type EdgeSessionOptions = (
  { verifier: AssertionVerifier } | { jwksUrl: string | URL; issuer: string; audience: string; clockTolerance?: number }
) & {
  /** Refuse a session whose assurance level is lower. */
  minAal?: 1 | 2 | 3;
  /** Refuse a session whose last authentication is more than this many seconds ago. */
  maxAge?: number;
  /** Refuse a session whose claims do not meet this (every one, for a list). */
  claim?: ClaimRequirement | ClaimRequirement[];
};

/**
 * The JSON body of a middleware's refusal. 401: an `AssertionErrorCode` but
 * `jwks_unavailable` (the assertion is missing or does not verify). 503:
 * `jwks_unavailable`. 403: `reauthentication_required` (too old or too weak, with
 * `failed`, `aal` and `authenticated_at`, as the worker's own step-up refusal) or
 * `claim_required` (with the claim's name). 500: `internal_error` (a claim predicate threw).
 */
export interface SessionRefusalBody {
  error: AssertionErrorCode | "reauthentication_required" | "claim_required" | "internal_error";
  message: string;
  failed?: ("max_age" | "min_aal")[];
  aal?: number;
  authenticated_at?: string;
  claim?: string;
}
