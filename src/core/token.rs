//! Session tokens, their hashes and public session ids.
//!
//! A token is the bearer secret: it exists in plaintext exactly once, in the response
//! that creates the session. Everything stored (the KV key, the Durable Object index)
//! holds only [`TokenHash`], and everything shown to users (listings, revoke-by-id)
//! uses [`SessionId`], which is derived with a different blake3 key so it reveals
//! neither the token nor the KV key.

use std::fmt;

/// Every token starts with this, so one found in a log or a paste is recognisable and
/// secret scanners can match it. Changing it silently invalidates every live session:
/// a test pins it.
pub const TOKEN_PREFIX: &str = "est_";

/// Random bytes in a token: 256 bits from a CSPRNG.
pub const TOKEN_RANDOM_BYTES: usize = 32;

/// Unpadded base64url of 32 bytes.
const TOKEN_BODY_LEN: usize = 43;

/// Total token length in bytes (and characters: the alphabet is ASCII).
pub const TOKEN_LEN: usize = TOKEN_PREFIX.len() + TOKEN_BODY_LEN;

/// KV keys are this prefix plus the token hash in hex: 72 bytes whatever the input,
/// far below KV's 512-byte key limit.
pub const KV_KEY_PREFIX: &str = "session:";

/// Public session ids start with this.
pub const SESSION_ID_PREFIX: &str = "sid_";

/// Hex characters in a session id (128 bits of a keyed blake3 derivation).
const SESSION_ID_HEX_LEN: usize = 32;

/// blake3 `derive_key` context for session ids. Distinct from the plain hash used for
/// KV keys, so knowing a KV key does not give the session id, and vice versa.
const SESSION_ID_CONTEXT: &str = "edge-sessions 2026-11 public session id v1";

/// Why a presented string is not a token. Messages never echo the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    WrongPrefix,
    WrongLength,
    BadAlphabet,
    /// The last character carries bits that 32 bytes cannot have: not one of ours.
    NonCanonical,
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TokenError::WrongPrefix => "token does not start with the expected prefix",
            TokenError::WrongLength => "token has the wrong length",
            TokenError::BadAlphabet => "token contains characters outside base64url",
            TokenError::NonCanonical => "token is not a canonical encoding",
        })
    }
}

impl std::error::Error for TokenError {}

/// A session token (the secret). `Debug` and `Display` never print it; the only way to
/// the plaintext is [`SessionToken::expose_secret`], named so it stands out in review.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl SessionToken {
    /// Builds a token from CSPRNG output. The caller draws the bytes so this stays pure.
    pub fn from_random_bytes(bytes: [u8; TOKEN_RANDOM_BYTES]) -> Self {
        let mut s = String::with_capacity(TOKEN_LEN);
        s.push_str(TOKEN_PREFIX);
        base64url_encode_into(&bytes, &mut s);
        SessionToken(s)
    }

    /// Strict parse: prefix, exact length, alphabet and canonical encoding are all
    /// checked before the token is hashed or looked up anywhere.
    pub fn parse(input: &str) -> Result<Self, TokenError> {
        let bytes = input.as_bytes();
        if bytes.len() != TOKEN_LEN {
            // Length first: it is the cheapest test and bounds all later work.
            return Err(if bytes.starts_with(TOKEN_PREFIX.as_bytes()) {
                TokenError::WrongLength
            } else if bytes.len() >= TOKEN_PREFIX.len() {
                TokenError::WrongPrefix
            } else {
                TokenError::WrongLength
            });
        }
        let Some(body) = bytes.strip_prefix(TOKEN_PREFIX.as_bytes()) else {
            return Err(TokenError::WrongPrefix);
        };
        let mut last = 0u8;
        for &c in body {
            last = base64url_value(c).ok_or(TokenError::BadAlphabet)?;
        }
        // 43 characters carry 258 bits; the 2 low bits of the last one must be zero.
        if last & 0b11 != 0 {
            return Err(TokenError::NonCanonical);
        }
        Ok(SessionToken(input.to_owned()))
    }

    /// The plaintext, for the one response that hands it to the client.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// The only form of the token that is ever stored.
    pub fn hash(&self) -> TokenHash {
        TokenHash(blake3::hash(self.0.as_bytes()).to_hex().to_string())
    }

    /// The public id of the session this token opens.
    pub fn session_id(&self) -> SessionId {
        let derived = blake3::derive_key(SESSION_ID_CONTEXT, self.0.as_bytes());
        let mut s = String::with_capacity(SESSION_ID_PREFIX.len() + SESSION_ID_HEX_LEN);
        s.push_str(SESSION_ID_PREFIX);
        push_hex(&derived[..SESSION_ID_HEX_LEN / 2], &mut s);
        SessionId(s)
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(<redacted>)")
    }
}

impl fmt::Display for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{TOKEN_PREFIX}<redacted>")
    }
}

/// blake3 of the token, lowercase hex. Safe to store: it cannot be turned back into a
/// token, and presenting it as a token fails parsing. Deserialising validates the shape,
/// so a hash read from the account protocol or the index is never re-parsed. `Debug`
/// prints no hash: it is the KV key, and logs have no use for it.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TokenHash(String);

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenHash(<redacted>)")
    }
}

impl TryFrom<String> for TokenHash {
    type Error = &'static str;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        TokenHash::parse(&value).ok_or("invalid token hash")
    }
}

impl From<TokenHash> for String {
    fn from(hash: TokenHash) -> String {
        hash.0
    }
}

impl TokenHash {
    /// Accepts exactly 64 lowercase hex characters (the form [`SessionToken::hash`] makes).
    pub fn parse(input: &str) -> Option<Self> {
        (input.len() == 64 && input.bytes().all(is_lower_hex)).then(|| TokenHash(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The Workers KV key holding this session's record.
    pub fn kv_key(&self) -> String {
        let mut key = String::with_capacity(KV_KEY_PREFIX.len() + self.0.len());
        key.push_str(KV_KEY_PREFIX);
        key.push_str(&self.0);
        key
    }
}

/// The public id of a session: shown in listings and used to revoke one session.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SessionId(String);

impl SessionId {
    pub fn parse(input: &str) -> Option<Self> {
        let hex = input.strip_prefix(SESSION_ID_PREFIX)?;
        (hex.len() == SESSION_ID_HEX_LEN && hex.bytes().all(is_lower_hex)).then(|| SessionId(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for SessionId {
    type Error = &'static str;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        SessionId::parse(&value).ok_or("invalid session id")
    }
}

impl From<SessionId> for String {
    fn from(id: SessionId) -> String {
        id.0
    }
}

fn is_lower_hex(c: u8) -> bool {
    c.is_ascii_digit() || (b'a'..=b'f').contains(&c)
}

fn push_hex(bytes: &[u8], out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes {
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 0x0f) as usize] as char);
    }
}

const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn base64url_value(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'-' => Some(62),
        b'_' => Some(63),
        _ => None,
    }
}

/// Unpadded base64url (RFC 4648 §5). Written here rather than pulled in as a crate: it
/// is twenty lines, and only ever encodes 32 bytes.
fn base64url_encode_into(bytes: &[u8], out: &mut String) {
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            let index = (n >> (18 - 6 * i)) & 0x3f;
            out.push(BASE64URL[index as usize] as char);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_matches_rfc4648_vectors() {
        let cases: [(&[u8], &str); 4] = [(b"f", "Zg"), (b"fo", "Zm8"), (b"foo", "Zm9v"), (&[0xfb, 0xff], "-_8")];
        for (input, expected) in cases {
            let mut s = String::new();
            base64url_encode_into(input, &mut s);
            assert_eq!(s, expected);
        }
    }
}
