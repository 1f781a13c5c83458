//! The stateless values a DBSC exchange is tied to: the registration challenge, its
//! `authorization`, and the refresh challenge. Each is the issue time in milliseconds and
//! a keyed blake3 tag over the purpose, the session and that time, so any location can
//! check one with no storage and no Durable Object round trip. Only the age limits how
//! long one is good for; a replayed refresh proof is caught by the account's Durable
//! Object, which remembers the newest challenge it accepted (`edge::account`).
//!
//! The keys come from `DEVICE_BINDING_SECRET` through blake3's key derivation, one per
//! use, so a challenge can never pass for a bound cookie's MAC or the other way round.

use crate::core::base64::URL_SAFE_NO_PAD;
use crate::core::token::SessionId;
use crate::core::UnixMillis;
use std::fmt;

/// The smallest `DEVICE_BINDING_SECRET`, in bytes.
pub const SECRET_MIN_BYTES: usize = 32;

/// Bytes of tag kept: 128 bits, beyond guessing within a challenge's life.
const TAG_BYTES: usize = 16;

/// Keys derived from `DEVICE_BINDING_SECRET`. `Debug` prints none of them.
#[derive(Clone, PartialEq, Eq)]
pub struct BindingKeys {
    challenge: [u8; 32],
    cookie: [u8; 32],
}

impl fmt::Debug for BindingKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BindingKeys(<redacted>)")
    }
}

impl BindingKeys {
    pub fn derive(secret: &[u8]) -> BindingKeys {
        BindingKeys {
            challenge: blake3::derive_key("edge-sessions 2026-12 dbsc challenge v1", secret),
            cookie: blake3::derive_key("edge-sessions 2026-12 dbsc bound cookie v1", secret),
        }
    }

    /// The bound cookie's MAC key (`core::bound_cookie`).
    pub(crate) fn cookie_key(&self) -> &[u8; 32] {
        &self.cookie
    }
}

/// What a value is for. Part of the tag, so one purpose's value fails as another's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// `challenge` of `Secure-Session-Registration`, the registration proof's `jti`.
    Registration,
    /// `authorization` of `Secure-Session-Registration`, echoed in the proof.
    Authorization,
    /// `Secure-Session-Challenge`, a refresh proof's `jti`.
    Refresh,
}

impl Purpose {
    const fn label(self) -> u8 {
        match self {
            Purpose::Registration => b'r',
            Purpose::Authorization => b'a',
            Purpose::Refresh => b'f',
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChallengeError {
    /// Not a value of this shape.
    Malformed,
    /// Not issued by this worker for this purpose and session.
    Forged,
    /// Issued too long ago (or in the future beyond clock skew).
    Stale,
}

impl fmt::Display for ChallengeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChallengeError::Malformed => f.write_str("the challenge is malformed"),
            ChallengeError::Forged => f.write_str("the challenge was not issued for this session"),
            ChallengeError::Stale => f.write_str("the challenge has expired"),
        }
    }
}

/// Clock skew between locations tolerated for a value issued "in the future".
const SKEW_MS: i64 = 5_000;

/// A value for `purpose` and `session`, issued at `now_ms`.
pub fn issue(keys: &BindingKeys, purpose: Purpose, session: &SessionId, now_ms: UnixMillis) -> String {
    let mut bytes = [0u8; 8 + TAG_BYTES];
    bytes[..8].copy_from_slice(&now_ms.to_be_bytes());
    bytes[8..].copy_from_slice(&tag(keys, purpose, session, now_ms));
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Checks a value; answers when it was issued.
pub fn verify(
    keys: &BindingKeys,
    purpose: Purpose,
    session: &SessionId,
    value: &str,
    now_ms: UnixMillis,
    max_age_ms: i64,
) -> Result<UnixMillis, ChallengeError> {
    if value.len() != 32 {
        return Err(ChallengeError::Malformed);
    }
    let bytes = URL_SAFE_NO_PAD.decode(value).map_err(|_| ChallengeError::Malformed)?;
    let (issued, presented) = bytes.split_at(8);
    let issued_at = i64::from_be_bytes(issued.try_into().map_err(|_| ChallengeError::Malformed)?);
    let expected = tag(keys, purpose, session, issued_at);
    if !constant_time_eq(&expected, presented) {
        return Err(ChallengeError::Forged);
    }
    if issued_at > now_ms.saturating_add(SKEW_MS) || now_ms.saturating_sub(issued_at) > max_age_ms {
        return Err(ChallengeError::Stale);
    }
    Ok(issued_at)
}

fn tag(keys: &BindingKeys, purpose: Purpose, session: &SessionId, issued_at: UnixMillis) -> [u8; TAG_BYTES] {
    let mut hasher = blake3::Hasher::new_keyed(&keys.challenge);
    hasher.update(&[purpose.label()]);
    hasher.update(session.as_str().as_bytes());
    hasher.update(&issued_at.to_be_bytes());
    let mut out = [0u8; TAG_BYTES];
    out.copy_from_slice(&hasher.finalize().as_bytes()[..TAG_BYTES]);
    out
}

/// Equality whose time does not depend on where two tags first differ.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
