//! A rotation whose reply never reached the holder. The object has moved the session to
//! a new token the holder never received, and the old token no longer opens anything. For
//! a short window after the rotation, the old token may ask to rotate again and get a
//! token that works; it never validates, refreshes or logs out in that window.
//!
//! The price: whoever else holds the old token (a thief) can do the same retry inside the
//! window and take the session over, cutting off the token the holder did receive. So
//! the window is short, it closes the first time the account's object sees the new
//! token (a touch, a strong check, an account call) and at every revoke-all, a retry is
//! announced as its own event (`holder_retry`), and `ROTATION_RETRY_SECS=0` turns it off.
//!
//! Two pieces make that possible without touching the hot path:
//! - the index row remembers the token it was rotated away from and when
//!   ([`PreviousToken`]);
//! - KV keeps a small marker under `rotated:<old hash>` ([`RotatedAway`]) that says whose
//!   session the old token was, because the account is needed to find its Durable
//!   Object, and the old session key is deleted as before. Only the rotate route reads
//!   the marker, after an ordinary lookup misses. A marker opens nothing by itself: the
//!   object decides, under its lock, from the row.

use crate::core::account::AccountId;
use crate::core::token::{SessionId, TokenHash};
use crate::core::UnixSeconds;
use serde::{Deserialize, Serialize};

/// KV keys of rotation markers start with this (session keys with `session:`, so a
/// fleet listing never sees a marker).
pub const MARKER_KEY_PREFIX: &str = "rotated:";

/// Default retry window: long enough for a client to notice a lost reply and retry at
/// once, short enough to leave a thief little time.
pub const DEFAULT_WINDOW_SECS: i64 = 30;

/// `ROTATION_RETRY_SECS` may be 0 (no retries) to 300.
pub const WINDOW_RANGE: std::ops::RangeInclusive<i64> = 0..=300;

/// Workers KV refuses an `expirationTtl` under 60 seconds.
const KV_MIN_TTL_SECS: u64 = 60;

/// The KV marker's value: whose session a rotated-away token belonged to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotatedAway {
    pub account_id: AccountId,
    pub session_id: SessionId,
}

impl RotatedAway {
    /// The marker's KV key for the token a session was rotated away from.
    pub fn kv_key(old_hash: &TokenHash) -> String {
        format!("{MARKER_KEY_PREFIX}{}", old_hash.as_str())
    }

    /// How long KV keeps the marker: the window, or KV's minimum if that is longer (the
    /// object still enforces the window itself).
    pub fn kv_ttl(window_secs: i64) -> u64 {
        u64::try_from(window_secs).unwrap_or(0).max(KV_MIN_TTL_SECS)
    }
}

/// What the index row remembers of the token before the last holder rotation. (No
/// `Debug`: a hash stays out of formatted output, as `TokenHash` does.)
#[derive(Clone, PartialEq, Eq)]
pub struct PreviousToken {
    pub hash: TokenHash,
    pub rotated_at: UnixSeconds,
}

impl PreviousToken {
    /// Whether `presented` is that token and the window since the rotation is still
    /// open. The window starts at the first rotation and is not moved by a retry, so a
    /// retried token cannot keep itself alive.
    pub fn admits(&self, presented: &TokenHash, window_secs: i64, now: UnixSeconds) -> bool {
        *presented == self.hash && now < self.rotated_at.saturating_add(window_secs)
    }
}
