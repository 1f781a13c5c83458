//! Finding the session token in a request: the session cookie or an
//! `Authorization: Bearer` header. The session cookie of a device-bound session holds a
//! bound cookie (`core::bound_cookie`) instead of the token.

use crate::core::bound_cookie::{BoundCookie, BoundCookieError, BOUND_COOKIE_PREFIX};
use crate::core::cookie::find_cookie;
use crate::core::device_binding::DeviceProof;
use crate::core::device_challenge::BindingKeys;
use crate::core::token::{SessionId, SessionToken, TokenError, TokenHash, TOKEN_PREFIX};
use crate::core::UnixSeconds;
use std::fmt;

/// Largest `Cookie` header we read. Browsers cap one cookie near 4 KiB; a larger header
/// is refused before any parsing.
pub const COOKIE_HEADER_MAX_LEN: usize = 16 * 1024;

/// Largest `Authorization` header we read.
pub const AUTHORIZATION_HEADER_MAX_LEN: usize = 1024;

/// Where the token came from. Cookie-borne requests need CSRF (Origin) checks; bearer
/// tokens are never attached by a browser on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialSource {
    Cookie,
    Bearer,
}

/// The credential itself: the session token, or a device-bound session's bound cookie,
/// whose MAC and expiry have been checked.
#[derive(Debug)]
pub enum Presented {
    Token(SessionToken),
    BoundCookie(BoundCookie),
}

#[derive(Debug)]
pub struct Credential {
    pub presented: Presented,
    pub source: CredentialSource,
}

impl Credential {
    /// The KV key's hash of the session this credential names.
    pub fn hash(&self) -> TokenHash {
        match &self.presented {
            Presented::Token(token) => token.hash(),
            Presented::BoundCookie(cookie) => cookie.hash.clone(),
        }
    }

    /// The public id of the session this credential names.
    pub fn session_id(&self) -> SessionId {
        match &self.presented {
            Presented::Token(token) => token.session_id(),
            Presented::BoundCookie(cookie) => cookie.session_id.clone(),
        }
    }

    /// What the anti-downgrade rule is told about this credential.
    pub fn device_proof(&self) -> DeviceProof {
        match &self.presented {
            Presented::Token(_) => DeviceProof::TokenOnly,
            Presented::BoundCookie(cookie) => DeviceProof::BoundCookie(cookie.thumbprint),
        }
    }

    /// The token, for the calls that take the long-lived one only (rotation retries);
    /// `None` for a bound cookie.
    pub fn token(&self) -> Option<&SessionToken> {
        match &self.presented {
            Presented::Token(token) => Some(token),
            Presented::BoundCookie(_) => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialError {
    Missing,
    HeaderTooLarge,
    /// The session cookie appears twice.
    DuplicateCookie,
    /// `Authorization` is present but not `Bearer <token>`.
    NotBearer,
    /// A cookie and a bearer token that are not the same token.
    Conflicting,
    Invalid(TokenError),
    /// A bound cookie that is malformed, not ours, or expired.
    Bound(BoundCookieError),
}

impl fmt::Display for CredentialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialError::Missing => f.write_str("no session cookie or bearer token was sent"),
            CredentialError::HeaderTooLarge => f.write_str("the Cookie or Authorization header is too large"),
            CredentialError::DuplicateCookie => f.write_str("the session cookie appears more than once"),
            CredentialError::NotBearer => f.write_str("Authorization must use the Bearer scheme"),
            CredentialError::Conflicting => f.write_str("the session cookie and the bearer token are different tokens"),
            CredentialError::Invalid(e) => write!(f, "malformed session token: {e}"),
            CredentialError::Bound(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for CredentialError {}

/// The request's session token, from the `Cookie` and `Authorization` header values.
/// Both may be sent (a frontend that mirrors the cookie); they must then agree. With a
/// session cookie, an `Authorization` header that is not `Bearer est_…` is someone
/// else's credential and is left alone.
///
/// With `binding` (device-bound sessions on), a session cookie starting `esb_` is a bound
/// cookie, checked with those keys at `now`; without it, such a value is just malformed.
pub fn extract_credential(
    cookie_header: Option<&str>,
    authorization_header: Option<&str>,
    cookie_name: &str,
    binding: Option<&BindingKeys>,
    now: UnixSeconds,
) -> Result<Credential, CredentialError> {
    let from_cookie = match cookie_header {
        Some(h) if h.len() > COOKIE_HEADER_MAX_LEN => return Err(CredentialError::HeaderTooLarge),
        Some(h) => find_cookie(h, cookie_name).map_err(|_| CredentialError::DuplicateCookie)?,
        None => None,
    };
    let from_bearer = match authorization_header {
        Some(h) if h.len() > AUTHORIZATION_HEADER_MAX_LEN => return Err(CredentialError::HeaderTooLarge),
        // Behind a gatekeeper the site may use `Authorization` for its own scheme or
        // its own bearer tokens: with a session cookie present, only a bearer that
        // looks like one of our tokens counts (and must then agree with the cookie).
        Some(h) if from_cookie.is_some() => bearer_value(h).filter(|v| v.starts_with(TOKEN_PREFIX)),
        Some(h) => Some(bearer_value(h).ok_or(CredentialError::NotBearer)?),
        None => None,
    };
    let (raw, source) = match (from_cookie, from_bearer) {
        (None, None) => return Err(CredentialError::Missing),
        (Some(c), None) => (c, CredentialSource::Cookie),
        (None, Some(b)) => (b, CredentialSource::Bearer),
        // Equality of two presented strings: both are the caller's own input, so this
        // comparison leaks nothing worth a constant-time compare.
        (Some(c), Some(b)) if c == b => (c, CredentialSource::Cookie),
        (Some(_), Some(_)) => return Err(CredentialError::Conflicting),
    };
    // A bound cookie is only ever a cookie (a bearer equal to it came from the same jar);
    // as a bearer alone it is a malformed token.
    if let (Some(keys), CredentialSource::Cookie) = (binding, source) {
        if raw.starts_with(BOUND_COOKIE_PREFIX) {
            let cookie = BoundCookie::verify(raw, keys, now).map_err(CredentialError::Bound)?;
            return Ok(Credential { presented: Presented::BoundCookie(cookie), source });
        }
    }
    let token = SessionToken::parse(raw).map_err(CredentialError::Invalid)?;
    Ok(Credential { presented: Presented::Token(token), source })
}

/// The credential of `Bearer <credential>`; the scheme is case-insensitive (RFC 9110).
pub fn bearer_value(header: &str) -> Option<&str> {
    let (scheme, rest) = header.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim()).filter(|v| !v.is_empty())
}
