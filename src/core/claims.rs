//! Session claims: what the origin wants every check of the session to carry (roles,
//! tenant, plan), stored with the session as they are and put at the top level of its
//! signed assertions. Not for secrets: claims are readable wherever the session is.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

pub const CLAIMS_MAX_BYTES: usize = 2048;
pub const CLAIM_KEY_MAX_LEN: usize = 64;
/// The claims object itself is depth 1; a value nested in it is 2, and so on.
pub const CLAIMS_MAX_DEPTH: usize = 8;

/// Names JWT or this worker set itself; a claim may not take them.
pub const RESERVED_CLAIMS: [&str; 16] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "sid",
    "auth_time",
    "aal",
    "amr",
    "acr",
    "act",
    "cnf",
    "azp",
    "nonce",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimsError {
    NotAnObject,
    TooLarge,
    BadKey(String),
    Reserved(String),
    TooDeep,
}

impl fmt::Display for ClaimsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClaimsError::NotAnObject => f.write_str("claims must be a JSON object"),
            ClaimsError::TooLarge => write!(f, "claims may be at most {CLAIMS_MAX_BYTES} bytes of JSON"),
            ClaimsError::BadKey(k) => {
                write!(f, "claim name '{k}' must be 1 to {CLAIM_KEY_MAX_LEN} characters of [A-Za-z][A-Za-z0-9_.:-]*")
            }
            ClaimsError::Reserved(k) => write!(f, "claim name '{k}' is reserved"),
            ClaimsError::TooDeep => write!(f, "claims may nest at most {CLAIMS_MAX_DEPTH} levels deep"),
        }
    }
}

/// A validated claims object. Serialises as the object itself.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Value", into = "Value")]
pub struct SessionClaims(Map<String, Value>);

impl SessionClaims {
    pub fn parse(value: Value) -> Result<Self, ClaimsError> {
        let Value::Object(map) = value else { return Err(ClaimsError::NotAnObject) };
        let size = serde_json::to_string(&map).map(|s| s.len()).unwrap_or(usize::MAX);
        if size > CLAIMS_MAX_BYTES {
            return Err(ClaimsError::TooLarge);
        }
        for key in map.keys() {
            let shown: String = key.chars().take(CLAIM_KEY_MAX_LEN).collect();
            let valid = (1..=CLAIM_KEY_MAX_LEN).contains(&key.len())
                && key.starts_with(|c: char| c.is_ascii_alphabetic())
                && key.bytes().all(|c| c.is_ascii_alphanumeric() || b"_.:-".contains(&c));
            if !valid {
                return Err(ClaimsError::BadKey(shown));
            }
            if RESERVED_CLAIMS.contains(&key.as_str()) {
                return Err(ClaimsError::Reserved(shown));
            }
        }
        if map.values().any(|v| depth(v) + 1 > CLAIMS_MAX_DEPTH) {
            return Err(ClaimsError::TooDeep);
        }
        Ok(SessionClaims(map))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }
}

/// Levels of a value: a scalar is 1, `[1]` is 2.
fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 1,
    }
}

impl TryFrom<Value> for SessionClaims {
    type Error = ClaimsError;
    fn try_from(value: Value) -> Result<Self, Self::Error> {
        SessionClaims::parse(value)
    }
}

impl From<SessionClaims> for Value {
    fn from(claims: SessionClaims) -> Value {
        Value::Object(claims.0)
    }
}
