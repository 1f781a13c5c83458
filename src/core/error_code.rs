//! Every error code the worker can answer with, as data.
//!
//! A code exists here once, with its HTTP status and its default message, so a route, the
//! account Durable Object's replies, the JS client and `openapi.json` cannot spell it
//! differently. A host test (`tests/core_error_codes.rs`) compares [`ErrorCode::ALL`]
//! with the codes `openapi.json` documents, both ways.
//!
//! Which type to use where:
//! - the core returns its own error types (`CredentialError`, `ConfigError`, ...), which
//!   say what went wrong in the core's terms;
//! - the worker layer maps them to an `ApiError` (src/edge/error.rs), which holds one of
//!   these codes and, where the detail helps the caller, a more specific message.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The `error` field of every error body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    MissingToken,
    InvalidToken,
    SessionNotFound,
    /// A session addressed by id (revoke one) that this account does not have. It shares
    /// the wire code `session_not_found` with [`ErrorCode::SessionNotFound`], because a
    /// client handles both the same way, but answers 404: the resource is missing, the
    /// caller's credential is fine.
    UnknownSessionId,
    SessionExpired,
    AmbiguousToken,
    HeaderTooLarge,
    OriginNotAllowed,
    InvalidConsistency,
    InvalidScope,
    InvalidAccountId,
    InvalidJson,
    InvalidMetadata,
    InvalidLifetime,
    InvalidBody,
    InvalidLimit,
    InvalidCursor,
    BodyTooLarge,
    UnsupportedMediaType,
    InvalidAdminKey,
    AdminDisabled,
    NotFound,
    MethodNotAllowed,
    InvalidConfig,
    InternalError,
    OriginUnreachable,
    OriginTimeout,
    /// Too many refreshes, strong validations or listings for one session.
    RateLimited,
    /// `authenticated_at`, `aal` or `amr` out of bounds on a create or reauthentication.
    InvalidAuthentication,
    /// A malformed `max_age` or `min_aal`.
    InvalidFreshness,
    /// The session is valid, but its last authentication is too old or too weak.
    ReauthenticationRequired,
    /// Authenticated before `SESSIONS_NOT_BEFORE`: ended by the fleet-wide cut-off.
    SessionRevoked,
    /// A create whose authentication predates the account's last revoke-all.
    StaleAuthentication,
    /// `GET /v1/session/token` for an audience not in `ASSERTION_AUDIENCES`.
    InvalidAudience,
    /// Session claims that break the rules (size, names, depth).
    InvalidClaims,
    /// A device-bound session's long-lived token outside the DBSC endpoints.
    BoundCookieRequired,
    /// A bound cookie past its expiry: the browser refreshes it with its device key.
    BoundCookieExpired,
    /// A bound cookie or proof for another device key than the session's.
    DeviceKeyMismatch,
    /// A DBSC proof that is malformed, unsigned by its key, or answers no live challenge.
    InvalidDeviceProof,
    /// A second registration for a session that is already bound.
    SessionAlreadyBound,
    /// An impersonation session asked for a method, path or API its rules refuse.
    ImpersonationForbidden,
}

impl ErrorCode {
    /// Every code, in the order the API documentation lists them.
    pub const ALL: [ErrorCode; 41] = [
        ErrorCode::MissingToken,
        ErrorCode::InvalidToken,
        ErrorCode::SessionNotFound,
        ErrorCode::UnknownSessionId,
        ErrorCode::SessionExpired,
        ErrorCode::AmbiguousToken,
        ErrorCode::HeaderTooLarge,
        ErrorCode::OriginNotAllowed,
        ErrorCode::InvalidConsistency,
        ErrorCode::InvalidScope,
        ErrorCode::InvalidAccountId,
        ErrorCode::InvalidJson,
        ErrorCode::InvalidMetadata,
        ErrorCode::InvalidLifetime,
        ErrorCode::InvalidBody,
        ErrorCode::InvalidLimit,
        ErrorCode::InvalidCursor,
        ErrorCode::BodyTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::InvalidAdminKey,
        ErrorCode::AdminDisabled,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::InvalidConfig,
        ErrorCode::InternalError,
        ErrorCode::OriginUnreachable,
        ErrorCode::OriginTimeout,
        ErrorCode::RateLimited,
        ErrorCode::InvalidAuthentication,
        ErrorCode::InvalidFreshness,
        ErrorCode::ReauthenticationRequired,
        ErrorCode::SessionRevoked,
        ErrorCode::StaleAuthentication,
        ErrorCode::InvalidAudience,
        ErrorCode::InvalidClaims,
        ErrorCode::BoundCookieRequired,
        ErrorCode::BoundCookieExpired,
        ErrorCode::DeviceKeyMismatch,
        ErrorCode::InvalidDeviceProof,
        ErrorCode::SessionAlreadyBound,
        ErrorCode::ImpersonationForbidden,
    ];

    /// The code as it appears on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::MissingToken => "missing_token",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::SessionNotFound | ErrorCode::UnknownSessionId => "session_not_found",
            ErrorCode::SessionExpired => "session_expired",
            ErrorCode::AmbiguousToken => "ambiguous_token",
            ErrorCode::HeaderTooLarge => "header_too_large",
            ErrorCode::OriginNotAllowed => "origin_not_allowed",
            ErrorCode::InvalidConsistency => "invalid_consistency",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::InvalidAccountId => "invalid_account_id",
            ErrorCode::InvalidJson => "invalid_json",
            ErrorCode::InvalidMetadata => "invalid_metadata",
            ErrorCode::InvalidLifetime => "invalid_lifetime",
            ErrorCode::InvalidBody => "invalid_body",
            ErrorCode::InvalidLimit => "invalid_limit",
            ErrorCode::InvalidCursor => "invalid_cursor",
            ErrorCode::BodyTooLarge => "body_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::InvalidAdminKey => "invalid_admin_key",
            ErrorCode::AdminDisabled => "admin_disabled",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::InvalidConfig => "invalid_config",
            ErrorCode::InternalError => "internal_error",
            ErrorCode::OriginUnreachable => "origin_unreachable",
            ErrorCode::OriginTimeout => "origin_timeout",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::InvalidAuthentication => "invalid_authentication",
            ErrorCode::InvalidFreshness => "invalid_freshness",
            ErrorCode::ReauthenticationRequired => "reauthentication_required",
            ErrorCode::SessionRevoked => "session_revoked",
            ErrorCode::StaleAuthentication => "stale_authentication",
            ErrorCode::InvalidAudience => "invalid_audience",
            ErrorCode::InvalidClaims => "invalid_claims",
            ErrorCode::BoundCookieRequired => "bound_cookie_required",
            ErrorCode::BoundCookieExpired => "bound_cookie_expired",
            ErrorCode::DeviceKeyMismatch => "device_key_mismatch",
            ErrorCode::InvalidDeviceProof => "invalid_device_proof",
            ErrorCode::SessionAlreadyBound => "session_already_bound",
            ErrorCode::ImpersonationForbidden => "impersonation_forbidden",
        }
    }

    pub const fn status(self) -> u16 {
        match self {
            ErrorCode::MissingToken
            | ErrorCode::InvalidToken
            | ErrorCode::SessionNotFound
            | ErrorCode::SessionExpired
            | ErrorCode::InvalidAdminKey => 401,
            ErrorCode::AmbiguousToken
            | ErrorCode::InvalidConsistency
            | ErrorCode::InvalidScope
            | ErrorCode::InvalidAccountId
            | ErrorCode::InvalidJson
            | ErrorCode::InvalidMetadata
            | ErrorCode::InvalidLifetime
            | ErrorCode::InvalidBody
            | ErrorCode::InvalidLimit
            | ErrorCode::InvalidCursor => 400,
            ErrorCode::OriginNotAllowed | ErrorCode::AdminDisabled => 403,
            ErrorCode::UnknownSessionId | ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::BodyTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::RateLimited => 429,
            ErrorCode::InvalidAuthentication => 400,
            ErrorCode::InvalidFreshness => 400,
            ErrorCode::ReauthenticationRequired => 403,
            ErrorCode::SessionRevoked => 401,
            ErrorCode::StaleAuthentication => 409,
            ErrorCode::InvalidAudience => 400,
            ErrorCode::InvalidClaims => 400,
            ErrorCode::BoundCookieRequired | ErrorCode::BoundCookieExpired | ErrorCode::DeviceKeyMismatch => 401,
            ErrorCode::InvalidDeviceProof => 400,
            ErrorCode::SessionAlreadyBound => 409,
            ErrorCode::ImpersonationForbidden => 403,

            ErrorCode::HeaderTooLarge => 431,
            ErrorCode::InvalidConfig | ErrorCode::InternalError => 500,
            ErrorCode::OriginUnreachable | ErrorCode::OriginTimeout => 502,
        }
    }

    /// The message sent when nothing more specific is known. Never contains request
    /// data, so it can never echo a token.
    pub const fn message(self) -> &'static str {
        match self {
            ErrorCode::MissingToken => "no session cookie or bearer token was sent",
            ErrorCode::InvalidToken => "the session token is malformed",
            ErrorCode::SessionNotFound => "no session matches this token",
            ErrorCode::UnknownSessionId => "no session with this id in this account",
            ErrorCode::SessionExpired => "the session has expired",
            ErrorCode::AmbiguousToken => "the request carries more than one session token",
            ErrorCode::HeaderTooLarge => "the Cookie or Authorization header is too large",
            ErrorCode::OriginNotAllowed => "cookie-authenticated writes must come from an allowed origin",
            ErrorCode::InvalidConsistency => "consistency must be 'strong' or 'eventual'",
            ErrorCode::InvalidScope => "scope must be 'others' or 'all'",
            ErrorCode::InvalidAccountId => "the account id is not valid",
            ErrorCode::InvalidJson => "request body is not valid JSON of the expected shape",
            ErrorCode::InvalidMetadata => "session metadata is not valid",
            ErrorCode::InvalidLifetime => "a requested lifetime is out of range",
            ErrorCode::InvalidBody => "the request body could not be read",
            ErrorCode::InvalidLimit => "limit is out of range",
            ErrorCode::InvalidCursor => "cursor must be one returned by a previous page",
            ErrorCode::BodyTooLarge => "the request body is too large",
            ErrorCode::UnsupportedMediaType => "send the body as application/json",
            ErrorCode::InvalidAdminKey => "a valid admin key is required",
            ErrorCode::AdminDisabled => "the admin API is disabled: ADMIN_KEY is not configured",
            ErrorCode::NotFound => "no such endpoint",
            ErrorCode::MethodNotAllowed => "unsupported method",
            ErrorCode::InvalidConfig => "invalid configuration",
            ErrorCode::InternalError => "the session service failed; try again",
            ErrorCode::OriginUnreachable => "the origin could not be reached",
            ErrorCode::OriginTimeout => "the origin did not answer in time",
            ErrorCode::RateLimited => "too many requests for this session; retry later",
            ErrorCode::InvalidAuthentication => "authenticated_at, aal or amr is not valid",
            ErrorCode::InvalidFreshness => "max_age or min_aal is not valid",
            ErrorCode::ReauthenticationRequired => "the last authentication is too old or too weak for this request",
            ErrorCode::SessionRevoked => "the session was revoked",
            ErrorCode::StaleAuthentication => {
                "this login predates a sign-out of every session on the account; authenticate again"
            }
            ErrorCode::InvalidAudience => "audience is not one of ASSERTION_AUDIENCES",
            ErrorCode::InvalidClaims => "claims are not valid",
            ErrorCode::BoundCookieRequired => "this session is bound to a device: present its bound cookie",
            ErrorCode::BoundCookieExpired => "the bound session cookie has expired; the browser refreshes it",
            ErrorCode::DeviceKeyMismatch => "the credential is bound to another device key",
            ErrorCode::InvalidDeviceProof => "the device-bound session proof is not valid",
            ErrorCode::SessionAlreadyBound => "this session is already bound to a device key",
            ErrorCode::ImpersonationForbidden => "an impersonation session may not do this",
        }
    }

    /// The code a wire string names (for the 404 variant, the 401 one: the two share a
    /// string, and only the 401 one crosses the Durable Object boundary).
    pub fn parse(s: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(deserializer)?;
        ErrorCode::parse(&s).ok_or_else(|| serde::de::Error::custom("unknown error code"))
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
