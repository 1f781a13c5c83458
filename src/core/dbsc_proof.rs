//! The proof a DBSC browser sends in `Secure-Session-Response`: a compact JWS (a JWT
//! with `typ: dbsc+jwt`) signed by the session's device key. At registration its header
//! carries the new public key (`jwk`); at refresh it must not, and the key bound to the
//! session is used instead.
//!
//! The core parses and checks the shape; the worker checks the signature with WebCrypto
//! (`edge::device_binding`), which needs the key as JWK JSON ([`ProofKey::jwk_json`]).

use crate::core::base64::URL_SAFE_NO_PAD;
use serde_json::{json, Map, Value};
use std::fmt;

/// Largest proof read. An RS256 proof with a 4096-bit key and its JWK is under 2 KiB.
pub const PROOF_MAX_LEN: usize = 4 * 1024;

/// RSA moduli accepted, in bits: below 2048 is too weak, above 4096 only costs.
const RSA_BITS: std::ops::RangeInclusive<usize> = 2048..=4096;

/// The two algorithms DBSC offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProofAlg {
    Es256,
    Rs256,
}

impl ProofAlg {
    pub const fn name(self) -> &'static str {
        match self {
            ProofAlg::Es256 => "ES256",
            ProofAlg::Rs256 => "RS256",
        }
    }
}

/// A device's public key, from the proof's `jwk` header member. Members are kept as the
/// base64url text they came in; each has been decoded once to check its size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProofKey {
    P256 { x: String, y: String },
    Rsa { n: String, e: String },
}

impl ProofKey {
    /// Reads a public JWK. Private members (`d`, `p`, …) are refused: a client that sends
    /// its private key has no device binding to offer.
    pub fn from_jwk(value: &Value) -> Result<ProofKey, ProofError> {
        let object = value.as_object().ok_or(ProofError::Key("jwk must be an object"))?;
        if ["d", "p", "q", "dp", "dq", "qi", "k"].iter().any(|m| object.contains_key(*m)) {
            return Err(ProofError::Key("jwk must be a public key"));
        }
        let member = |name: &str| object.get(name).and_then(Value::as_str);
        let decoded = |name: &'static str| -> Result<(String, Vec<u8>), ProofError> {
            let text = member(name).ok_or(ProofError::Key("jwk is missing a member"))?;
            let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| ProofError::Key("jwk member is not base64url"))?;
            Ok((text.to_owned(), bytes))
        };
        match member("kty") {
            Some("EC") => {
                if member("crv") != Some("P-256") {
                    return Err(ProofError::Key("EC keys must be P-256"));
                }
                let (x, xb) = decoded("x")?;
                let (y, yb) = decoded("y")?;
                if xb.len() != 32 || yb.len() != 32 {
                    return Err(ProofError::Key("P-256 coordinates must be 32 bytes"));
                }
                Ok(ProofKey::P256 { x, y })
            }
            Some("RSA") => {
                let (n, nb) = decoded("n")?;
                let (e, eb) = decoded("e")?;
                let bits = match nb.first() {
                    Some(&top) if top != 0 => nb.len() * 8 - top.leading_zeros() as usize,
                    _ => 0, // empty, or a leading zero byte: not a minimal modulus
                };
                if !RSA_BITS.contains(&bits) {
                    return Err(ProofError::Key("RSA modulus must be 2048 to 4096 bits"));
                }
                // Odd, at least 3 (with e = 1 anyone can make a signature), at most 4
                // bytes, minimal.
                let exponent = eb.iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b));
                if eb.is_empty() || eb.len() > 4 || eb[0] == 0 || exponent < 3 || exponent % 2 == 0 {
                    return Err(ProofError::Key("RSA exponent must be odd, at least 3 and at most 4 bytes"));
                }
                Ok(ProofKey::Rsa { n, e })
            }
            _ => Err(ProofError::Key("jwk kty must be EC or RSA")),
        }
    }

    /// The algorithm this key signs with.
    pub fn alg(&self) -> ProofAlg {
        match self {
            ProofKey::P256 { .. } => ProofAlg::Es256,
            ProofKey::Rsa { .. } => ProofAlg::Rs256,
        }
    }

    /// The RFC 7638 thumbprint input: the required members in lexicographic order, no
    /// whitespace. Its SHA-256 names the key (`jkt`, RFC 7800 / RFC 9449).
    pub fn thumbprint_input(&self) -> String {
        match self {
            ProofKey::P256 { x, y } => format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#),
            ProofKey::Rsa { n, e } => format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#),
        }
    }

    /// The public JWK as JSON: what WebCrypto imports, and what the account's Durable
    /// Object keeps for later refreshes.
    pub fn jwk_json(&self) -> String {
        let value = match self {
            ProofKey::P256 { x, y } => json!({"kty": "EC", "crv": "P-256", "x": x, "y": y}),
            ProofKey::Rsa { n, e } => json!({"kty": "RSA", "n": n, "e": e}),
        };
        value.to_string()
    }
}

/// A proof whose shape is right. Its signature is not checked yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proof {
    pub alg: ProofAlg,
    /// The key in the header: present at registration, absent at refresh.
    pub key: Option<ProofKey>,
    /// The challenge this proof answers.
    pub jti: String,
    /// The registration header's `authorization`, echoed.
    pub authorization: Option<String>,
    /// `header.payload`, the bytes the signature covers.
    pub signing_input: String,
    pub signature: Vec<u8>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProofError {
    TooLarge,
    /// Not three base64url parts of JSON objects.
    Malformed,
    /// `typ` is not `dbsc+jwt`.
    Type,
    /// `alg` is not ES256 or RS256, or does not match the key.
    Algorithm,
    Key(&'static str),
    /// A registration proof without a key, or a refresh proof with one.
    KeyPresence,
    /// No string `jti`, or `authorization` that is not a string.
    Claims,
}

impl fmt::Display for ProofError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProofError::TooLarge => f.write_str("the proof is too large"),
            ProofError::Malformed => f.write_str("the proof is not a compact JWS of JSON objects"),
            ProofError::Type => f.write_str("the proof's typ must be dbsc+jwt"),
            ProofError::Algorithm => f.write_str("the proof's alg must be ES256 or RS256, matching its key"),
            ProofError::Key(why) => f.write_str(why),
            ProofError::KeyPresence => f.write_str("a registration proof carries its jwk; a refresh proof must not"),
            ProofError::Claims => f.write_str("the proof needs a string jti (and a string authorization, if any)"),
        }
    }
}

/// Which step the proof is for: registration carries the key, refresh does not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProofStep {
    Registration,
    Refresh,
}

/// Parses `Secure-Session-Response`. The value may come as a structured-field String
/// (the spec's example quotes it) or bare.
pub fn parse_proof(header: &str, step: ProofStep) -> Result<Proof, ProofError> {
    if header.len() > PROOF_MAX_LEN {
        return Err(ProofError::TooLarge);
    }
    let raw = header.trim();
    let raw = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')).unwrap_or(raw);
    let mut parts = raw.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(ProofError::Malformed);
    };
    let object = |part: &str| -> Result<Map<String, Value>, ProofError> {
        let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| ProofError::Malformed)?;
        match serde_json::from_slice(&bytes) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(ProofError::Malformed),
        }
    };
    let header = object(h)?;
    let payload = object(p)?;
    let signature = URL_SAFE_NO_PAD.decode(s).map_err(|_| ProofError::Malformed)?;
    if header.get("typ").and_then(Value::as_str) != Some("dbsc+jwt") {
        return Err(ProofError::Type);
    }
    let alg = match header.get("alg").and_then(Value::as_str) {
        Some("ES256") => ProofAlg::Es256,
        Some("RS256") => ProofAlg::Rs256,
        _ => return Err(ProofError::Algorithm),
    };
    let key = header.get("jwk").map(ProofKey::from_jwk).transpose()?;
    match (step, &key) {
        (ProofStep::Registration, None) | (ProofStep::Refresh, Some(_)) => return Err(ProofError::KeyPresence),
        (_, Some(key)) if key.alg() != alg => return Err(ProofError::Algorithm),
        _ => {}
    }
    let jti = payload.get("jti").and_then(Value::as_str).filter(|j| !j.is_empty()).ok_or(ProofError::Claims)?;
    let authorization = match payload.get("authorization") {
        None | Some(Value::Null) => None,
        Some(Value::String(a)) => Some(a.clone()),
        Some(_) => return Err(ProofError::Claims),
    };
    // ES256 signatures are r || s, 64 bytes (what WebCrypto verifies); RSA ones are the
    // modulus's size, which WebCrypto checks.
    if alg == ProofAlg::Es256 && signature.len() != 64 {
        return Err(ProofError::Malformed);
    }
    Ok(Proof { alg, key, jti: jti.to_owned(), authorization, signing_input: format!("{h}.{p}"), signature })
}
