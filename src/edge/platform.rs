//! The two things the core refuses to do for itself: read the clock and draw random
//! bytes. Everything else gets `now` and bytes passed in.

use crate::core::token::{SessionToken, TOKEN_RANDOM_BYTES};
use crate::core::{UnixMillis, UnixSeconds};

/// Wall-clock seconds. In production workerd advances this only across I/O, which is
/// fine at the one-second resolution deadlines use.
pub fn now() -> UnixSeconds {
    now_millis().div_euclid(1000)
}

/// Wall-clock milliseconds: for ordering a login against a revoke-all.
pub fn now_millis() -> UnixMillis {
    js_sys::Date::now().floor() as UnixMillis
}

/// A fresh token from `crypto.getRandomValues` (getrandom's `wasm_js` backend).
pub fn new_token() -> Result<SessionToken, getrandom::Error> {
    let mut bytes = [0u8; TOKEN_RANDOM_BYTES];
    getrandom::fill(&mut bytes)?;
    Ok(SessionToken::from_random_bytes(bytes))
}

/// A random `u32`, for numbering that must not repeat across wasm instances (the pending
/// rings' first number). Zero if the platform has no randomness, which only makes the
/// numbering predictable again, never wrong within one instance.
pub fn random_u32() -> u32 {
    let mut bytes = [0u8; 4];
    getrandom::fill(&mut bytes).map(|()| u32::from_le_bytes(bytes)).unwrap_or(0)
}
