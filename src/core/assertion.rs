//! Signed session assertions: what the gatekeeper hands the origin (`X-Session-Assertion`)
//! and `GET /v1/session/token` hands a single-page app, as a compact JWS (JWT) the origin
//! verifies against `GET /v1/jwks.json`.
//!
//! The two are different kinds, told apart by the signed header `typ`, and never share an
//! audience: a token handed to page JavaScript must not pass as the gatekeeper's word,
//! which an origin trusts because CSRF, strong and fresh checks came before it.
//!
//! This module decides the settings, the header and the claims; the keys themselves are
//! `core::jwk`. It does no cryptography: the worker imports the private JWK into the
//! platform's WebCrypto, which signs and hashes.

use crate::core::base64::URL_SAFE_NO_PAD;
use crate::core::impersonation::{Act, Impersonation};
use crate::core::jwk::{KeyType, SigningJwk};
use crate::core::record::SessionRecord;
use crate::core::vars::{self, ConfigError, Vars};
use crate::core::UnixSeconds;
use serde::Serialize;
use serde_json::{Map, Value};

pub const DEFAULT_TTL_SECS: i64 = 60;
pub const MAX_TTL_SECS: i64 = 3600;

/// Which of the two assertions a JWT is, named by its header's `typ`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AssertionKind {
    /// `X-Session-Assertion`, from the gatekeeper to the origin: `gateway+jwt`.
    Gateway,
    /// `GET /v1/session/token`, for page JavaScript to send to its APIs: `at+jwt`, the
    /// JWT access token type of RFC 9068.
    AccessToken,
}

impl AssertionKind {
    pub const fn typ(self) -> &'static str {
        match self {
            AssertionKind::Gateway => "gateway+jwt",
            AssertionKind::AccessToken => "at+jwt",
        }
    }
}

/// Assertion settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssertionConfig {
    /// `SIGNING_KEY`: signs. `None`: no assertions, an empty key set.
    pub current: Option<SigningJwk>,
    /// `SIGNING_KEY_NEXT`: published, never used to sign, so verifiers have it cached
    /// before it becomes `SIGNING_KEY`.
    pub next: Option<SigningJwk>,
    /// `SIGNING_KEY_PREVIOUS`: published, never used to sign.
    pub previous: Option<SigningJwk>,
    /// `ISSUER`: the `iss`. Always set when `current` is, so it never follows the host a
    /// request reached.
    pub issuer: Option<String>,
    /// The `aud` of the gatekeeper's assertions: `ASSERTION_AUDIENCE`, else the origin of
    /// `ORIGIN_URL`. `None`: the gatekeeper sends none.
    pub gateway_audience: Option<String>,
    /// `ASSERTION_AUDIENCES`: what `GET /v1/session/token` may be asked for. Empty: the
    /// route is off. Never the gateway audience.
    pub audiences: Vec<String>,
    pub ttl_secs: i64,
}

/// Why `GET /v1/session/token` gives no token for a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenRefusal {
    /// `ASSERTION_AUDIENCES` is empty: the route is off.
    Off,
    /// No `audience=`: there is no default, so the gateway's audience is never implied.
    Missing,
    /// An `audience=` that `ASSERTION_AUDIENCES` does not list.
    NotListed,
}

impl AssertionConfig {
    /// `forwarded_fallback`: the origin of `ORIGIN_URL` in gatekeeper mode, the gateway
    /// audience when `ASSERTION_AUDIENCE` is unset.
    pub fn from_vars(var: &impl Vars, forwarded_fallback: Option<&str>) -> Result<Self, ConfigError> {
        let key = |name: &'static str, require_private: bool| {
            vars::var(var, name)
                .map(|k| SigningJwk::parse(&k, require_private))
                .transpose()
                .map_err(|reason| ConfigError::new(name, reason))
        };
        let current = key("SIGNING_KEY", true)?;
        let next = key("SIGNING_KEY_NEXT", false)?;
        let previous = key("SIGNING_KEY_PREVIOUS", false)?;
        let url_like = |v: &str| !v.chars().any(|c| c.is_control() || c == ' ') && v.len() <= 512;
        let issuer = vars::var(var, "ISSUER");
        if issuer.as_deref().is_some_and(|v| !url_like(v)) {
            return Err(ConfigError::new("ISSUER", "must be a URL or name without spaces, at most 512 characters"));
        }
        if current.is_some() && issuer.is_none() {
            return Err(ConfigError::new(
                "ISSUER",
                "is required when SIGNING_KEY is set: the assertions' iss, such as https://app.example.com (else it \
                 would be whatever host a request reached)",
            ));
        }
        let configured_gateway_audience = vars::var(var, "ASSERTION_AUDIENCE");
        if configured_gateway_audience.as_deref().is_some_and(|v| !url_like(v)) {
            return Err(ConfigError::new("ASSERTION_AUDIENCE", "must be a URL or name without spaces"));
        }
        let audiences = vars::list(var, "ASSERTION_AUDIENCES");
        if audiences.iter().any(|a| !url_like(a)) {
            return Err(ConfigError::new(
                "ASSERTION_AUDIENCES",
                "must be comma-separated URLs or names without spaces",
            ));
        }
        let gateway_audience = configured_gateway_audience.or_else(|| forwarded_fallback.map(str::to_owned));
        if let Some(forwarded) = gateway_audience.as_deref().filter(|g| audiences.iter().any(|a| a == g)) {
            return Err(ConfigError::new(
                "ASSERTION_AUDIENCES",
                format!(
                    "may not list {forwarded}, the audience of the gatekeeper's assertions (ASSERTION_AUDIENCE, else \
                     the origin of ORIGIN_URL): a page token must never be accepted as one"
                ),
            ));
        }
        let ttl_secs = vars::whole_number(var, "ASSERTION_TTL_SECS", DEFAULT_TTL_SECS, 1..=MAX_TTL_SECS)?;
        Ok(AssertionConfig { current, next, previous, issuer, gateway_audience, audiences, ttl_secs })
    }

    /// The key that signs and the issuer it signs as, or `None` without `SIGNING_KEY`.
    pub fn signer(&self) -> Option<(&SigningJwk, &str)> {
        self.current.as_ref().zip(self.issuer.as_deref())
    }

    /// The audience of a `GET /v1/session/token` request: exactly one that
    /// `ASSERTION_AUDIENCES` lists. There is no default.
    pub fn token_audience(&self, requested: Option<&str>) -> Result<&str, TokenRefusal> {
        if self.audiences.is_empty() {
            return Err(TokenRefusal::Off);
        }
        let requested = requested.ok_or(TokenRefusal::Missing)?;
        self.audiences.iter().find(|a| *a == requested).map(String::as_str).ok_or(TokenRefusal::NotListed)
    }
}

/// Who signs one assertion, for whom, and which kind it is.
#[derive(Clone, Copy, Debug)]
pub struct Addressing<'a> {
    pub kind: AssertionKind,
    pub issuer: &'a str,
    pub audience: &'a str,
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
    /// RFC 7800 confirmation of a device-bound session: its key's thumbprint, so an
    /// origin can require a binding.
    #[serde(skip_serializing_if = "Option::is_none")]
    cnf: Option<Confirmation<'a>>,
    /// RFC 8693 actor: on an impersonation session, who acts as `sub`.
    #[serde(skip_serializing_if = "Option::is_none")]
    act: Option<Act<'a>>,
    #[serde(flatten)]
    custom: &'a Map<String, Value>,
}

#[derive(Serialize)]
struct Confirmation<'a> {
    jkt: &'a str,
}

/// `base64url(header).base64url(claims)`, to be signed; and the expiry.
pub fn signing_input(
    key_type: KeyType,
    kid: &str,
    to: Addressing<'_>,
    record: &SessionRecord,
    now: UnixSeconds,
    ttl_secs: i64,
) -> (String, UnixSeconds) {
    let exp = (now + ttl_secs).min(record.absolute_expires_at.max(now + 1));
    let header = Header { alg: key_type.alg(), kid, typ: to.kind.typ() };
    let claims = Claims {
        iss: to.issuer,
        aud: to.audience,
        sub: record.account_id.as_str(),
        sid: record.session_id.as_str(),
        iat: now,
        exp,
        auth_time: record.authenticated_at,
        aal: record.aal,
        amr: &record.amr,
        cnf: record.device_binding.as_ref().map(|b| Confirmation { jkt: &b.jkt }),
        act: record.impersonation.as_ref().map(Impersonation::act),
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
