//! Helpers the host tests share. A test file takes them with `mod common;`; each file
//! uses only some, hence the `dead_code` allowance.
#![allow(dead_code)]

use edge_sessions::core::token::{SessionToken, TOKEN_RANDOM_BYTES};
use std::collections::HashMap;

/// A fixed "now" (late 2026) for lifecycle arithmetic.
pub const T0: i64 = 1_790_000_000;

/// The token made of one repeated random byte: distinct per byte, the same on every run.
pub fn token(byte: u8) -> SessionToken {
    SessionToken::from_random_bytes([byte; TOKEN_RANDOM_BYTES])
}

/// The environment as the `from_vars` readers see it: these pairs set, everything else unset.
pub fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |k| map.get(k).cloned()
}
