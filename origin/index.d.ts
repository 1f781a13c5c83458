/** Why an assertion was refused. */
export type AssertionErrorCode =
  | "missing_assertion"
  | "malformed"
  | "invalid_signature"
  | "expired"
  | "invalid_claims"
  | "unknown_key"
  | "jwks_unavailable";

export declare class AssertionError extends Error {
  readonly name: "AssertionError";
  readonly code: AssertionErrorCode;
}

export interface VerifiedSession {
  accountId: string;
  sessionId: string;
  /** The session's custom claims (everything but the registered names). */
  claims: Record<string, unknown>;
  authTime: Date;
  expiresAt: Date;
  aal: number;
  amr: string[];
  payload: Record<string, unknown>;
}

export interface AssertionVerifier {
  /**
   * A request, a Headers-like object, or the JWT itself. The `gateway` kind reads
   * `X-Session-Assertion`; the `access_token` kind reads `Authorization: Bearer`.
   */
  verify(input: Request | Headers | Record<string, string | string[] | undefined> | string): Promise<VerifiedSession>;
}

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

export declare class AdminApiError extends Error {
  readonly name: "AdminApiError";
  readonly status: number;
  readonly code: string;
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

export interface AdminSession {
  session_id: string;
  created_at: string;
  expires_at: string;
  absolute_expires_at: string;
  authenticated_at: string;
  aal: number;
  amr: string[];
  claims: Record<string, unknown>;
}

/** One entry of `listSessions`, and the session `updateClaims` returns for one id. */
export interface ListedAdminSession extends AdminSession {
  last_seen_at: string;
  ip: string | null;
  user_agent: string | null;
  label: string | null;
}

export interface CreatedSession extends AdminSession {
  /** The plaintext token: returned here once. */
  token: string;
  account_id: string;
  sessionId: string;
  /** A ready `Set-Cookie` value for the browser. */
  setCookie: string | null;
  evicted: string[];
}

/** `reauthenticate`: the session under its new token. */
export interface ReauthenticatedSession extends AdminSession {
  /** The plaintext token: returned here once. */
  token: string;
  account_id: string;
  /** A ready `Set-Cookie` value for the browser. */
  setCookie: string | null;
}

/**
 * Account ids are 1 to 128 bytes of `A-Z a-z 0-9 - _ . @ :` (no leading `.`, no `..`),
 * sent in the path as they are: `alice@example.com` and `tenant:42` work unencoded.
 */
export interface AdminClient {
  createSession(accountId: string, options?: CreateSessionOptions): Promise<CreatedSession>;
  listSessions(accountId: string, options?: { limit?: number }): Promise<ListedAdminSession[]>;
  /** `false` when the session is not this account's. */
  revokeSession(accountId: string, sessionId: string): Promise<boolean>;
  /** Resolves to how many were revoked. */
  revokeAll(accountId: string, options?: { except?: string }): Promise<number>;
  updateClaims(accountId: string, sessionId: string, claims: Record<string, unknown>): Promise<ListedAdminSession>;
  updateClaims(accountId: string, sessionId: null, claims: Record<string, unknown>): Promise<number>;
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
