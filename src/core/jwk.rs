//! JSON Web Keys (RFC 7517) as this worker uses them: Ed25519 and P-256 keys, their
//! public form, and the RFC 7638 thumbprint that names them (`kid`). Shared by the
//! assertions the worker signs and by checks of keys a client presents.

use crate::core::base64::URL_SAFE_NO_PAD;
use serde_json::{json, Map, Value};

/// The two key types: JOSE `alg` and WebCrypto curve follow from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyType {
    /// `{"kty": "OKP", "crv": "Ed25519"}`, signed as `EdDSA`.
    Ed25519,
    /// `{"kty": "EC", "crv": "P-256"}`, signed as `ES256`.
    P256,
}

impl KeyType {
    pub const fn alg(self) -> &'static str {
        match self {
            KeyType::Ed25519 => "EdDSA",
            KeyType::P256 => "ES256",
        }
    }
}

/// A signing key from a JWK: its type, its public members and, for the current key, the
/// private JWK to import. `Debug` never prints the private part.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningJwk {
    pub key_type: KeyType,
    /// `x` (and `y` for P-256), unpadded base64url.
    x: String,
    y: Option<String>,
    /// The private JWK as JSON, for WebCrypto's `importKey("jwk", ...)`.
    private_json: Option<String>,
}

impl std::fmt::Debug for SigningJwk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningJwk").field("key_type", &self.key_type).field("x", &self.x).finish_non_exhaustive()
    }
}

impl SigningJwk {
    /// A JWK, private or public. `require_private`: the key signs, so `d` must be there.
    pub fn parse(raw: &str, require_private: bool) -> Result<Self, String> {
        let value: Value = serde_json::from_str(raw.trim()).map_err(|_| "must be a JWK (a JSON object)".to_owned())?;
        let member = |name: &str| value.get(name).and_then(Value::as_str);
        let coordinate = |name: &str, len: usize| -> Result<String, String> {
            let v = member(name).ok_or_else(|| format!("is missing '{name}'"))?;
            let bytes = URL_SAFE_NO_PAD.decode(v).map_err(|_| format!("'{name}' is not base64url"))?;
            if bytes.len() != len {
                return Err(format!("'{name}' must be {len} bytes"));
            }
            Ok(v.to_owned())
        };
        let (key_type, x, y) = match (member("kty"), member("crv")) {
            (Some("OKP"), Some("Ed25519")) => (KeyType::Ed25519, coordinate("x", 32)?, None),
            (Some("EC"), Some("P-256")) => (KeyType::P256, coordinate("x", 32)?, Some(coordinate("y", 32)?)),
            _ => return Err("must be an Ed25519 (kty OKP) or P-256 (kty EC) key".to_owned()),
        };
        if member("alg").is_some_and(|alg| alg != key_type.alg()) {
            return Err(format!("'alg' must be {} for this key", key_type.alg()));
        }
        let private_json = match member("d") {
            Some(_) => {
                coordinate("d", 32)?;
                let mut jwk = Map::new();
                for name in ["kty", "crv", "x", "y", "d"] {
                    if let Some(v) = value.get(name) {
                        jwk.insert(name.to_owned(), v.clone());
                    }
                }
                Some(Value::Object(jwk).to_string())
            }
            None if require_private => return Err("must be a private key (with 'd')".to_owned()),
            None => None,
        };
        Ok(SigningJwk { key_type, x, y, private_json })
    }

    pub fn private_json(&self) -> Option<&str> {
        self.private_json.as_deref()
    }

    /// RFC 7638: the required public members in lexicographic order, no whitespace. Its
    /// SHA-256, base64url, is the `kid`.
    pub fn thumbprint_input(&self) -> String {
        match (&self.key_type, &self.y) {
            (KeyType::P256, Some(y)) => format!(r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{y}"}}"#, self.x),
            _ => format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, self.x),
        }
    }

    /// The published form: public members only, with `kid`, `alg` and `use`.
    pub fn public_jwk(&self, kid: &str) -> Value {
        let mut jwk = match self.key_type {
            KeyType::Ed25519 => json!({"kty": "OKP", "crv": "Ed25519", "x": self.x}),
            KeyType::P256 => json!({"kty": "EC", "crv": "P-256", "x": self.x, "y": self.y}),
        };
        jwk["kid"] = kid.into();
        jwk["alg"] = self.key_type.alg().into();
        jwk["use"] = "sig".into();
        jwk
    }
}

/// The `kid` for a thumbprint digest.
pub fn kid_from_digest(digest: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(digest)
}
