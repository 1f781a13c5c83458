/**
 * Error codes the worker answers with (src/core/error_code.rs), and `unexpected_response`
 * for an answer that is not the worker's JSON.
 */
export type SessionErrorCode =
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

/** Which requirement of `validate({ maxAge, minAal })` a `reauthentication_required` refusal failed. */
export type FreshnessRequirement = "max_age" | "min_aal";

/** The worker's error body (openapi.json `Error`). */
export interface ErrorBody {
  error: SessionErrorCode;
  message: string;
  /** With `reauthentication_required`: when the user last authenticated (RFC 3339). */
  authenticated_at?: string;
  /** With `reauthentication_required`: the session's assurance level. */
  aal?: number;
  /** With `reauthentication_required`: which requirement failed. */
  failed?: FreshnessRequirement[];
}

/**
 * A 4xx or 5xx answer, carrying the server's error code and what a page acts on. Fields
 * copied from the body keep the body's names (`failed`, `authenticated_at`, `aal`), like
 * every response this client returns; `retryAfter` is the `Retry-After` header.
 */
export declare class SessionApiError extends Error {
  readonly name: "SessionApiError";
  readonly status: number;
  readonly code: SessionErrorCode;
  /** The answer's JSON; null when it was not JSON (a proxy's error page). */
  readonly body: ErrorBody | null;
  /** With `reauthentication_required` (403): which requirements failed. */
  readonly failed?: FreshnessRequirement[];
  /** With `reauthentication_required` (403): when the user last authenticated (RFC 3339). */
  readonly authenticated_at?: string;
  /** With `reauthentication_required` (403): the session's assurance level. */
  readonly aal?: number;
  /**
   * With `rate_limited` (429): seconds to wait before trying again (the worker exposes
   * `Retry-After` to the origins it allows).
   */
  readonly retryAfter?: number;
  constructor(
    status: number,
    code: SessionErrorCode,
    message?: string,
    details?: { body?: ErrorBody | null; retryAfter?: number },
  );
}

/** `GET /v1/session` and `POST /v1/session/refresh`. Timestamps are RFC 3339. */
export interface Session {
  account_id: string;
  session_id: string;
  created_at: string;
  /** The idle deadline: the session ends here unless it is used. */
  expires_at: string;
  absolute_expires_at: string;
  /** When the user last proved who they are. */
  authenticated_at: string;
  /** Authentication assurance level, 1 to 3. */
  aal: number;
  /** Authentication methods, e.g. `["pwd", "otp"]`. */
  amr: string[];
  /** What the origin stored with the session (roles, tenant...); `{}` when nothing. */
  claims: Record<string, unknown>;
  /** Bound to a device key (DBSC): the browser keeps a short-lived bound cookie alive. */
  device_bound: boolean;
  /** RFC 8693 actor: present when this is an impersonation session (support acting as the user). */
  act?: { sub: string };
}

/** `POST /v1/session/rotate`: the token is present only for bearer callers. */
export interface RotatedSession extends Session {
  token?: string;
}

/** `GET /v1/session/token`: a signed access token (`typ: at+jwt`) for one audience. */
export interface AccessToken {
  /** The JWT; send it as `Authorization: Bearer` to the API it names. */
  token: string;
  /** When it stops verifying (RFC 3339). */
  expires_at: string;
}

/** One entry of `GET /v1/sessions`. */
export interface ListedSession {
  session_id: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  absolute_expires_at: string;
  ip: string | null;
  user_agent: string | null;
  label: string | null;
  authenticated_at: string;
  aal: number;
  amr: string[];
  claims: Record<string, unknown>;
  device_bound: boolean;
  /** Where and on what it was last used: a device name such as "Chrome on Windows", or "Unknown". */
  device: string;
  /** The country it was last used from (ISO 3166 alpha-2); null before its first use. */
  country: string | null;
  /** Whether this is the caller's own session. */
  current: boolean;
}

/** One entry of `GET /v1/sessions`' `impersonations`: someone signed in as the user. */
export interface ListedImpersonation {
  account_id: string;
  session_id: string;
  actor: string;
  reason: string;
  /** `<actor> (<reason>) signed in as you`, ready to show. */
  notice: string;
  act: { sub: string };
  started_at: string;
  last_seen_at: string;
  /** When it ends at the latest; nothing extends it. */
  expires_at: string;
}

export interface SessionClientOptions {
  /** Where the worker answers. "" (the default) is the page's own origin. */
  baseUrl?: string;
  /** Send this token as a bearer instead of the cookie (credentials are then omitted). */
  token?: string;
  /** A fetch implementation; defaults to `globalThis.fetch`. */
  fetch?: typeof fetch;
}

export interface SessionClient {
  /** `maxAge` in seconds; `minAal` 1 to 3. Either rejects with `reauthentication_required`. */
  validate(options?: { strong?: boolean; maxAge?: number; minAal?: 1 | 2 | 3 }): Promise<Session>;
  refresh(): Promise<Session>;
  /**
   * A signed access token for `audience`, one of the worker's ASSERTION_AUDIENCES; other
   * audiences reject with `invalid_audience`, and a worker without a signing key with
   * `not_found`.
   */
  token(options: { audience: string }): Promise<AccessToken>;
  /** A bearer client sends the returned `token` from then on; persist it where you kept the old one. */
  rotate(): Promise<RotatedSession>;
  logout(): Promise<void>;
  listSessions(): Promise<ListedSession[]>;
  /** Impersonation sessions of the account (support signed in as the user); end one with `revokeSession`. */
  listImpersonations(): Promise<ListedImpersonation[]>;
  revokeSession(sessionId: string): Promise<void>;
  /** Resolves to the number of sessions revoked. */
  logoutOthers(): Promise<number>;
  /** Resolves to the number of sessions revoked, this one included. */
  logoutEverywhere(): Promise<number>;
}

/**
 * Calls reject with `SessionApiError` for answers that are not successes, and with the
 * platform's `TypeError` when the network fails.
 */
export declare function createSessionClient(options?: SessionClientOptions): SessionClient;
