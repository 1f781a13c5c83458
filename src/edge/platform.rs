//! The two things the core refuses to do for itself: read the clock and draw random
//! bytes. Everything else gets `now` and bytes passed in.

use crate::core::token::{SessionToken, TOKEN_RANDOM_BYTES};
use crate::core::UnixSeconds;

/// Wall-clock seconds. In production workerd advances this only across I/O, which is
/// fine at the one-second resolution deadlines use.
pub fn now() -> UnixSeconds {
    (js_sys::Date::now() / 1000.0).floor() as UnixSeconds
}

/// A fresh token from `crypto.getRandomValues` (getrandom's `wasm_js` backend).
pub fn new_token() -> Result<SessionToken, getrandom::Error> {
    let mut bytes = [0u8; TOKEN_RANDOM_BYTES];
    getrandom::fill(&mut bytes)?;
    Ok(SessionToken::from_random_bytes(bytes))
}
