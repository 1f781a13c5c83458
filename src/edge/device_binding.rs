//! Device-bound sessions (DBSC) in the worker: when an answer offers registration, the
//! WebCrypto checks of a proof's signature and its key's thumbprint, and the cookies a
//! bound session's new token goes out in. The protocol's rules live in
//! `core::device_binding`; the endpoints in `routes::device_binding`.

use crate::core::bound_cookie::{BoundCookie, Thumbprint};
use crate::core::config::Config;
use crate::core::cookie::session_cookie;
use crate::core::credentials::CredentialSource;
use crate::core::dbsc_proof::{Proof, ProofKey};
use crate::core::device_binding::{bound_cookie_header, refresh_cookie_header};
use crate::core::record::SessionRecord;
use crate::core::token::{SessionToken, TokenHash};
use crate::core::UnixSeconds;
use crate::edge::error::ApiError;
use crate::edge::platform;
use crate::edge::webcrypto::{public_jwk_key, public_rsa_jwk_key, sha256, Curve};

pub const REGISTRATION_HEADER: &str = "Secure-Session-Registration";
pub const CHALLENGE_HEADER: &str = "Secure-Session-Challenge";
pub const RESPONSE_HEADER: &str = "Secure-Session-Response";
pub const SESSION_ID_HEADER: &str = "Sec-Secure-Session-Id";

/// The `Secure-Session-Registration` value an answer to this session's holder carries:
/// offered to a browser (a cookie holder) whose session is not bound yet, when device
/// binding is on, unless it is an impersonation session. Browsers without DBSC ignore it.
pub fn registration_offer(config: &Config, record: &SessionRecord, source: CredentialSource) -> Option<String> {
    let binding = config.device_binding.as_ref()?;
    // An impersonation session is support's, for an hour at most: never bound.
    if source != CredentialSource::Cookie || record.device_binding.is_some() || record.impersonation.is_some() {
        return None;
    }
    Some(binding.registration_header(&record.session_id, platform::now_millis()))
}

/// The key's RFC 7638 thumbprint (SHA-256, by the platform).
pub async fn thumbprint(key: &ProofKey) -> Result<Thumbprint, ApiError> {
    let digest =
        sha256(key.thumbprint_input().as_bytes()).await.map_err(|e| ApiError::internal("dbsc: thumbprint", e))?;
    let bytes: [u8; 32] = digest.try_into().map_err(|_| ApiError::internal("dbsc: thumbprint", "not 32 bytes"))?;
    Ok(Thumbprint(bytes))
}

/// Whether `proof` is signed by `key`, with the algorithm the key has (a proof naming
/// another algorithm is not). A key WebCrypto will not import signs nothing.
pub async fn signed_by(proof: &Proof, key: &ProofKey) -> bool {
    if proof.alg != key.alg() {
        return false;
    }
    let imported = match key {
        ProofKey::P256 { .. } => public_jwk_key(&key.jwk_json(), Curve::P256).await,
        ProofKey::Rsa { .. } => public_rsa_jwk_key(&key.jwk_json()).await,
    };
    match imported {
        Ok(verifying) => verifying.verify(&proof.signature, proof.signing_input.as_bytes()).await.unwrap_or(false),
        Err(_) => false,
    }
}

/// The `Set-Cookie` values that hand a browser the session's new token. An unbound
/// session gets the session cookie; a bound one a fresh bound cookie under that name
/// and the token in the cookie only the DBSC endpoints receive.
pub fn session_cookies(config: &Config, token: &SessionToken, record: &SessionRecord, now: UnixSeconds) -> Vec<String> {
    let name = &config.cookie_name;
    match bound_cookie(config, &token.hash(), record, now) {
        Some(bound) => {
            vec![bound, refresh_cookie_header(name, token.expose_secret(), record.absolute_expires_at - now)]
        }
        None => vec![session_cookie(name, token.expose_secret(), record.absolute_expires_at, now)],
    }
}

/// `Set-Cookie` for a new bound cookie of a bound session under `hash`, good for
/// `DBSC_COOKIE_TTL_SECS` (never past the session's absolute deadline); `None` for an
/// unbound session, or with device binding off.
pub fn bound_cookie(config: &Config, hash: &TokenHash, record: &SessionRecord, now: UnixSeconds) -> Option<String> {
    let binding = config.device_binding.as_ref()?;
    let thumbprint = record.device_binding.as_ref()?.thumbprint()?;
    let cookie = BoundCookie {
        expires_at: (now + binding.cookie_ttl_secs).min(record.absolute_expires_at),
        session_id: record.session_id.clone(),
        hash: hash.clone(),
        thumbprint,
    };
    Some(bound_cookie_header(&config.cookie_name, &cookie.encode(&binding.keys), cookie.expires_at - now))
}
