//! The short-lived cookie of a device-bound session. It is self-verifying, so a bound
//! request still costs one KV read: it names the KV key (the token's hash), the session,
//! its own expiry and the device key's thumbprint, under a keyed blake3 MAC. A browser
//! keeps it alive by proving possession of the device key (`POST /v1/dbsc/refresh`); a
//! copy taken from the cookie jar is worth its remaining minutes.
//!
//! It names the hash, never the token: the hash is only a KV key, and without the MAC
//! key nobody can make a cookie for another hash, or move an expiry.

use crate::core::base64::URL_SAFE_NO_PAD;
use crate::core::device_challenge::BindingKeys;
use crate::core::token::{SessionId, TokenHash};
use crate::core::UnixSeconds;
use std::fmt;

/// Every bound cookie starts with this; a session token starts with `est_`.
pub const BOUND_COOKIE_PREFIX: &str = "esb_";

const VERSION: u8 = 1;
/// version, expiry (i64), session id (16), hash (32), thumbprint (32), MAC (32).
const BODY_BYTES: usize = 1 + 8 + 16 + 32 + 32;
const COOKIE_BYTES: usize = BODY_BYTES + 32;
/// The encoded length: the prefix and unpadded base64url of the bytes.
pub const BOUND_COOKIE_LEN: usize = BOUND_COOKIE_PREFIX.len() + (COOKIE_BYTES * 4).div_ceil(3);

/// A device key's RFC 7638 thumbprint: SHA-256 of its canonical JWK.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Thumbprint(pub [u8; 32]);

impl Thumbprint {
    /// Unpadded base64url, as `cnf.jkt` (RFC 7800) and the record carry it.
    pub fn encoded(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    pub fn parse(encoded: &str) -> Option<Thumbprint> {
        let bytes = URL_SAFE_NO_PAD.decode(encoded).ok()?;
        Some(Thumbprint(bytes.try_into().ok()?))
    }
}

impl fmt::Debug for Thumbprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Thumbprint({})", self.encoded())
    }
}

/// What a bound cookie says, once its MAC has been checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoundCookie {
    pub expires_at: UnixSeconds,
    pub session_id: SessionId,
    pub hash: TokenHash,
    pub thumbprint: Thumbprint,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BoundCookieError {
    /// Not a bound cookie of this version and length.
    Malformed,
    /// The MAC does not match: not made with this worker's key.
    Forged,
    /// Its expiry has passed.
    Expired,
}

impl fmt::Display for BoundCookieError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BoundCookieError::Malformed => f.write_str("the bound session cookie is malformed"),
            BoundCookieError::Forged => f.write_str("the bound session cookie was not issued by this worker"),
            BoundCookieError::Expired => f.write_str("the bound session cookie has expired"),
        }
    }
}

impl BoundCookie {
    pub fn encode(&self, keys: &BindingKeys) -> String {
        let mut bytes = Vec::with_capacity(COOKIE_BYTES);
        bytes.push(VERSION);
        bytes.extend_from_slice(&self.expires_at.to_be_bytes());
        bytes.extend_from_slice(&hex_bytes::<16>(&self.session_id.as_str()[4..]));
        bytes.extend_from_slice(&hex_bytes::<32>(self.hash.as_str()));
        bytes.extend_from_slice(&self.thumbprint.0);
        let mac = blake3::keyed_hash(keys.cookie_key(), &bytes);
        bytes.extend_from_slice(mac.as_bytes());
        let mut out = String::with_capacity(BOUND_COOKIE_LEN);
        out.push_str(BOUND_COOKIE_PREFIX);
        out.push_str(&URL_SAFE_NO_PAD.encode(bytes));
        out
    }

    /// Checks the MAC (in constant time), then the expiry.
    pub fn verify(raw: &str, keys: &BindingKeys, now: UnixSeconds) -> Result<BoundCookie, BoundCookieError> {
        let body = raw.strip_prefix(BOUND_COOKIE_PREFIX).ok_or(BoundCookieError::Malformed)?;
        if raw.len() != BOUND_COOKIE_LEN {
            return Err(BoundCookieError::Malformed);
        }
        let bytes = URL_SAFE_NO_PAD.decode(body).map_err(|_| BoundCookieError::Malformed)?;
        if bytes.len() != COOKIE_BYTES || bytes[0] != VERSION {
            return Err(BoundCookieError::Malformed);
        }
        let (signed, mac) = bytes.split_at(BODY_BYTES);
        let presented = blake3::Hash::from_bytes(mac.try_into().map_err(|_| BoundCookieError::Malformed)?);
        // blake3::Hash compares in constant time.
        if blake3::keyed_hash(keys.cookie_key(), signed) != presented {
            return Err(BoundCookieError::Forged);
        }
        let expires_at = i64::from_be_bytes(signed[1..9].try_into().map_err(|_| BoundCookieError::Malformed)?);
        let session_id =
            SessionId::parse(&format!("sid_{}", hex(&signed[9..25]))).ok_or(BoundCookieError::Malformed)?;
        let hash = TokenHash::parse(&hex(&signed[25..57])).ok_or(BoundCookieError::Malformed)?;
        let thumbprint = Thumbprint(signed[57..89].try_into().map_err(|_| BoundCookieError::Malformed)?);
        if now >= expires_at {
            return Err(BoundCookieError::Expired);
        }
        Ok(BoundCookie { expires_at, session_id, hash, thumbprint })
    }
}

/// Lowercase hex (the form hashes and session ids take) to its bytes. The input is
/// always a validated id or hash, so it is exactly `2 * N` hex digits.
fn hex_bytes<const N: usize>(hex: &str) -> [u8; N] {
    let mut out = [0u8; N];
    for (i, pair) in hex.as_bytes().chunks_exact(2).take(N).enumerate() {
        let digit = |c: u8| if c.is_ascii_digit() { c - b'0' } else { c - b'a' + 10 };
        out[i] = digit(pair[0]) << 4 | digit(pair[1]);
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
