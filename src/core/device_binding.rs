//! Device-bound sessions (W3C DBSC) at the edge: the settings, what a bound session's
//! record says, the rule that keeps its long-lived token out of ordinary requests, and
//! the headers, instructions and cookies of the protocol. docs/device-binding.md has the
//! protocol and what it protects.
//!
//! A bound session's long-lived token lives in a cookie sent only to the DBSC endpoints
//! ([`refresh_cookie_name`]); ordinary requests carry the short-lived bound cookie
//! (`core::bound_cookie`) under the session cookie's own name, so everything that reads
//! the session cookie reads either form.

use crate::core::base64::{STANDARD, URL_SAFE_NO_PAD};
use crate::core::bound_cookie::Thumbprint;
use crate::core::device_challenge::{self, BindingKeys, Purpose, SECRET_MIN_BYTES};
use crate::core::token::SessionId;
use crate::core::vars::{self, whole_number, ConfigError};
use crate::core::{UnixMillis, UnixSeconds};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The DBSC endpoints: registration, refresh, and the path the long-lived token's
/// cookie is scoped to.
pub const ENDPOINTS_PATH: &str = "/v1/dbsc";
pub const REGISTER_PATH: &str = "/v1/dbsc/register";
pub const REFRESH_PATH: &str = "/v1/dbsc/refresh";

/// `DBSC_COOKIE_TTL_SECS`: Chromium refreshes about 120 s before the bound cookie
/// expires, so a lifetime under 150 s would leave it refreshing all the time.
pub const DEFAULT_COOKIE_TTL_SECS: i64 = 300;
pub const COOKIE_TTL_RANGE: std::ops::RangeInclusive<i64> = 150..=3600;

/// How long a registration challenge (and its `authorization`) is good for: the browser
/// registers as soon as it sees the header.
pub const REGISTRATION_CHALLENGE_MAX_AGE_MS: i64 = 10 * 60 * 1000;

/// The bound cookie's attributes, as the instructions tell the browser to expect them.
const BOUND_COOKIE_ATTRIBUTES: &str = "Path=/; Secure; HttpOnly; SameSite=Lax";

/// On when `DEVICE_BOUND_SESSIONS=offer`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceBindingConfig {
    pub keys: BindingKeys,
    pub cookie_ttl_secs: i64,
}

impl DeviceBindingConfig {
    pub fn from_vars(var: &impl vars::Vars) -> Result<Option<DeviceBindingConfig>, ConfigError> {
        let cookie_ttl_secs = whole_number(var, "DBSC_COOKIE_TTL_SECS", DEFAULT_COOKIE_TTL_SECS, COOKIE_TTL_RANGE)?;
        let secret = vars::var(var, "DEVICE_BINDING_SECRET");
        match vars::var(var, "DEVICE_BOUND_SESSIONS").as_deref() {
            None | Some("off") => return Ok(None),
            Some("offer") => {}
            Some(_) => return Err(ConfigError::new("DEVICE_BOUND_SESSIONS", "must be 'off' or 'offer'")),
        }
        let secret = secret
            .ok_or_else(|| ConfigError::new("DEVICE_BINDING_SECRET", "must be set when DEVICE_BOUND_SESSIONS=offer"))?;
        let bytes = STANDARD
            .decode(&secret)
            .or_else(|_| URL_SAFE_NO_PAD.decode(secret.trim_end_matches('=')))
            .map_err(|_| ConfigError::new("DEVICE_BINDING_SECRET", "must be base64"))?;
        if bytes.len() < SECRET_MIN_BYTES {
            return Err(ConfigError::new(
                "DEVICE_BINDING_SECRET",
                format!("must hold at least {SECRET_MIN_BYTES} random bytes (openssl rand -base64 32 makes one)"),
            ));
        }
        Ok(Some(DeviceBindingConfig { keys: BindingKeys::derive(&bytes), cookie_ttl_secs }))
    }

    /// How long a refresh challenge is good for: it may be handed out ahead of time, with
    /// one bound cookie, and answered when the next one is due.
    pub fn refresh_challenge_max_age_ms(&self) -> i64 {
        (self.cookie_ttl_secs + 300) * 1000
    }

    /// `Secure-Session-Registration` for an unbound session, issued at `now_ms`.
    pub fn registration_header(&self, session: &SessionId, now_ms: UnixMillis) -> String {
        let challenge = device_challenge::issue(&self.keys, Purpose::Registration, session, now_ms);
        let authorization = device_challenge::issue(&self.keys, Purpose::Authorization, session, now_ms);
        format!(r#"(ES256 RS256);path="{REGISTER_PATH}";challenge="{challenge}";authorization="{authorization}""#)
    }

    /// `Secure-Session-Challenge` for a bound session, issued at `now_ms`. The session id
    /// and the challenge are base64url and hex, which a String item carries as is.
    pub fn challenge_header(&self, session: &SessionId, now_ms: UnixMillis) -> String {
        let challenge = device_challenge::issue(&self.keys, Purpose::Refresh, session, now_ms);
        format!(r#""{challenge}";id="{session}""#)
    }
}

/// What a bound session's record says: the device key's thumbprint. Its public key is
/// kept by the account's Durable Object only. (record v3)
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceBinding {
    /// RFC 7638 thumbprint, unpadded base64url.
    pub jkt: String,
    pub bound_at: UnixSeconds,
}

impl DeviceBinding {
    pub fn new(thumbprint: Thumbprint, bound_at: UnixSeconds) -> DeviceBinding {
        DeviceBinding { jkt: thumbprint.encoded(), bound_at }
    }

    pub fn thumbprint(&self) -> Option<Thumbprint> {
        Thumbprint::parse(&self.jkt)
    }
}

/// Which form of the session's credential a request presented, for the rule that a
/// bound session is used with its bound cookie only.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DeviceProof {
    /// Not judged here: the account's Durable Object, whose callers' credentials the
    /// edge has judged, and the DBSC endpoints, which take the long-lived token.
    #[default]
    NotAsked,
    /// The long-lived token, as a cookie or a bearer.
    TokenOnly,
    /// A bound cookie whose MAC and expiry were checked, for this key.
    BoundCookie(Thumbprint),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BindingRefusal {
    /// The long-lived token of a bound session, outside the DBSC endpoints.
    BoundCookieRequired,
    /// A bound cookie for another key, or for a session that is not bound.
    KeyMismatch,
}

/// Anti-downgrade: once bound, a session validates only with a bound cookie for its key.
pub fn check_proof(binding: Option<&DeviceBinding>, proof: DeviceProof) -> Result<(), BindingRefusal> {
    match (binding, proof) {
        (_, DeviceProof::NotAsked) | (None, DeviceProof::TokenOnly) => Ok(()),
        (Some(_), DeviceProof::TokenOnly) => Err(BindingRefusal::BoundCookieRequired),
        (Some(b), DeviceProof::BoundCookie(key)) if b.thumbprint() == Some(key) => Ok(()),
        (_, DeviceProof::BoundCookie(_)) => Err(BindingRefusal::KeyMismatch),
    }
}

/// The JSON session instructions of a registration or refresh answer: the session, where
/// to refresh, the scope (this origin), and the cookie the browser keeps alive.
pub fn instructions(origin: &str, cookie_name: &str, session: &SessionId) -> Value {
    json!({
        "session_identifier": session.as_str(),
        "refresh_url": REFRESH_PATH,
        "scope": { "origin": origin, "include_site": false, "scope_specification": [] },
        "credentials": [{ "type": "cookie", "name": cookie_name, "attributes": BOUND_COOKIE_ATTRIBUTES }],
    })
}

/// The answer that ends the session in the browser: it stops refreshing and forgets the
/// key. It names the session: Chromium 156 reads `continue: false` as the server's word
/// only with `session_identifier` (without it, the refresh fails as a malformed answer).
pub fn end_instructions(session_id: &str) -> Value {
    json!({ "session_identifier": session_id, "continue": false })
}

/// The cookie that carries a bound session's long-lived token, sent to the DBSC endpoints
/// only: `__Host-session` becomes `__Secure-session-dbsc` (a `__Host-` cookie must have
/// `Path=/`), any other name gets `-dbsc`.
pub fn refresh_cookie_name(cookie_name: &str) -> String {
    match cookie_name.strip_prefix("__Host-") {
        Some(rest) => format!("__Secure-{rest}-dbsc"),
        None => format!("{cookie_name}-dbsc"),
    }
}

/// `Set-Cookie` for a bound cookie value.
pub fn bound_cookie_header(cookie_name: &str, value: &str, ttl_secs: i64) -> String {
    format!("{cookie_name}={value}; Max-Age={ttl_secs}; {BOUND_COOKIE_ATTRIBUTES}")
}

/// `Set-Cookie` for the long-lived token of a bound session. `SameSite=None`: the browser
/// refreshes on behalf of whatever request found the bound cookie missing, a cross-site
/// navigation's included, and each DBSC endpoint demands its own proof, so a cross-site
/// request carrying this cookie can do nothing with it.
pub fn refresh_cookie_header(cookie_name: &str, token: &str, max_age_secs: i64) -> String {
    let name = refresh_cookie_name(cookie_name);
    let max_age = max_age_secs.max(0);
    format!("{name}={token}; Max-Age={max_age}; Path={ENDPOINTS_PATH}; Secure; HttpOnly; SameSite=None")
}

/// `Set-Cookie` that removes the long-lived token's cookie (logout).
pub fn clear_refresh_cookie_header(cookie_name: &str) -> String {
    let name = refresh_cookie_name(cookie_name);
    format!("{name}=; Max-Age=0; Path={ENDPOINTS_PATH}; Secure; HttpOnly; SameSite=None")
}
