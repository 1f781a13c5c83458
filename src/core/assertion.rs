//! Signed session assertions: what the gatekeeper hands the origin (`X-Session-Assertion`)
//! and `GET /v1/session/token` hands a single-page app, as a compact JWS (JWT) the origin
//! verifies against `GET /v1/jwks.json`.
//!
//! This module decides the settings, the header and the claims; the keys themselves are
//! `core::jwk`. It does no cryptography: the worker imports the private JWK into the
//! platform's WebCrypto, which signs and hashes.

use crate::core::jwk::{KeyType, SigningJwk};
use crate::core::record::SessionRecord;
use crate::core::vars::{self, ConfigError, Vars};
use crate::core::UnixSeconds;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;
use serde_json::{Map, Value};

pub const DEFAULT_TTL_SECS: i64 = 60;
pub const MAX_TTL_SECS: i64 = 3600;

/// Assertion settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssertionConfig {
    /// `SIGNING_KEY`: signs. `None`: no assertions, an empty key set.
    pub current: Option<SigningJwk>,
    /// `SIGNING_KEY_PREVIOUS`: published, never used to sign.
    pub previous: Option<SigningJwk>,
    pub issuer: Option<String>,
    pub default_audience: Option<String>,
    pub audiences: Vec<String>,
    pub ttl_secs: i64,
}

impl AssertionConfig {
    pub fn from_vars(var: &impl Vars) -> Result<Self, ConfigError> {
        let key = |name: &'static str, require_private: bool| {
            vars::var(var, name)
                .map(|k| SigningJwk::parse(&k, require_private))
                .transpose()
                .map_err(|reason| ConfigError::new(name, reason))
        };
        let current = key("SIGNING_KEY", true)?;
        let previous = key("SIGNING_KEY_PREVIOUS", false)?;
        let url_like = |v: &str| !v.chars().any(|c| c.is_control() || c == ' ') && v.len() <= 512;
        let issuer = vars::var(var, "ISSUER");
        if issuer.as_deref().is_some_and(|v| !url_like(v)) {
            return Err(ConfigError::new("ISSUER", "must be a URL or name without spaces, at most 512 characters"));
        }
        let default_audience = vars::var(var, "ASSERTION_AUDIENCE");
        if default_audience.as_deref().is_some_and(|v| !url_like(v)) {
            return Err(ConfigError::new("ASSERTION_AUDIENCE", "must be a URL or name without spaces"));
        }
        let audiences = vars::list(var, "ASSERTION_AUDIENCES");
        if audiences.iter().any(|a| !url_like(a)) {
            return Err(ConfigError::new(
                "ASSERTION_AUDIENCES",
                "must be comma-separated URLs or names without spaces",
            ));
        }
        let ttl_secs = vars::whole_number(var, "ASSERTION_TTL_SECS", DEFAULT_TTL_SECS, 1..=MAX_TTL_SECS)?;
        Ok(AssertionConfig { current, previous, issuer, default_audience, audiences, ttl_secs })
    }

    /// The audience for a token request: one listed in `ASSERTION_AUDIENCES`, or, when
    /// none is asked for, `ASSERTION_AUDIENCE` (else `fallback`, the origin of
    /// `ORIGIN_URL`). `None`: not allowed.
    pub fn resolve_audience(&self, requested: Option<&str>, fallback: Option<&str>) -> Option<String> {
        match requested {
            Some(aud) => self.audiences.iter().find(|a| *a == aud).cloned(),
            None => self.default_audience.clone().or_else(|| fallback.map(str::to_owned)),
        }
    }
}

#[derive(Serialize)]
struct Header<'a> {
    alg: &'a str,
    kid: &'a str,
    typ: &'static str,
}

/// The claims of one assertion. The session's own claims go at the top level; they can
/// never collide with these, because `SessionClaims` refuses every registered name.
#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    aud: &'a str,
    sub: &'a str,
    sid: &'a str,
    iat: UnixSeconds,
    exp: UnixSeconds,
    auth_time: UnixSeconds,
    aal: u8,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    amr: &'a [String],
    #[serde(flatten)]
    custom: &'a Map<String, Value>,
}

/// `base64url(header).base64url(claims)`, to be signed; and the expiry.
pub fn signing_input(
    key_type: KeyType,
    kid: &str,
    issuer: &str,
    audience: &str,
    record: &SessionRecord,
    now: UnixSeconds,
    ttl_secs: i64,
) -> (String, UnixSeconds) {
    let exp = (now + ttl_secs).min(record.absolute_expires_at.max(now + 1));
    let header = Header { alg: key_type.alg(), kid, typ: "JWT" };
    let claims = Claims {
        iss: issuer,
        aud: audience,
        sub: record.account_id.as_str(),
        sid: record.session_id.as_str(),
        iat: now,
        exp,
        auth_time: record.authenticated_at,
        aal: record.aal,
        amr: &record.amr,
        custom: record.claims.as_map(),
    };
    let encode = |v: &dyn erased::Json| URL_SAFE_NO_PAD.encode(v.json());
    (format!("{}.{}", encode(&header), encode(&claims)), exp)
}

/// The compact JWS: the signing input, a dot, the base64url signature.
pub fn compact(signing_input: &str, signature: &[u8]) -> String {
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

mod erased {
    /// Serialises any of the two JWT parts to JSON bytes (they cannot fail: strings and
    /// integers only).
    pub trait Json {
        fn json(&self) -> Vec<u8>;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> Vec<u8> {
            serde_json::to_vec(self).unwrap_or_default()
        }
    }
}
