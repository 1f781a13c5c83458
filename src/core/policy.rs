//! Lifecycle rules: when a session is valid, when use extends it, how long KV keeps it,
//! and which sessions make room when an account reaches its limit.

use crate::core::account::AccountId;
use crate::core::record::{SessionMeta, SessionRecord, RECORD_VERSION};
use crate::core::token::SessionId;
use crate::core::vars::{range_reason, ConfigError};
use crate::core::{UnixSeconds, MAX_LIFETIME_SECS};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::RangeInclusive;

/// Workers KV refuses an `expiration_ttl` below 60 seconds.
pub const KV_MIN_TTL_SECS: u64 = 60;

/// The range of `IDLE_TTL_SECS` and `ABSOLUTE_TTL_SECS`.
pub const LIFETIME_RANGE: RangeInclusive<i64> = 1..=MAX_LIFETIME_SECS;

/// How long Workers KV may take to show a write at every location (its documented
/// eventual-consistency window).
pub const KV_PROPAGATION_SECS: i64 = 60;

/// An explicit refresh within this long of the session's last extension answers the
/// session as it is, without a write: KV allows one write per second per key, and a
/// refresh loop must never reach that.
pub const REFRESH_MIN_INTERVAL_SECS: i64 = 10;

/// Upper bound on `MAX_SESSIONS_PER_ACCOUNT`: one account's index and listings stay small.
pub const MAX_SESSIONS_LIMIT: u32 = 1000;

/// The range of `MAX_SESSIONS_PER_ACCOUNT`.
pub const MAX_SESSIONS_RANGE: RangeInclusive<u32> = 1..=MAX_SESSIONS_LIMIT;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    pub idle_timeout_secs: i64,
    pub absolute_lifetime_secs: i64,
    /// Minimum time between two idle extensions of one session: bounds KV writes.
    pub touch_interval_secs: i64,
    pub max_sessions: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            idle_timeout_secs: 30 * 60,
            absolute_lifetime_secs: 30 * 24 * 3600,
            touch_interval_secs: 5 * 60,
            max_sessions: 10,
        }
    }
}

/// A per-session lifetime override that the policy refuses. Names the request field
/// (`idle_ttl_secs`, `absolute_ttl_secs`), not a setting: it is the caller's mistake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifetimeError {
    pub field: &'static str,
    pub reason: String,
}

impl fmt::Display for LifetimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

impl std::error::Error for LifetimeError {}

/// The outcome of checking a record at a moment. Crosses the account protocol as
/// `"valid"`, `"expired_idle"`, `"expired_absolute"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Validity {
    Valid,
    ExpiredIdle,
    ExpiredAbsolute,
}

/// Why a session is being extended: ordinary use (due only once per touch interval) or
/// an explicit refresh (extends whenever the deadline would move).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TouchKind {
    Use,
    Refresh,
}

/// The outcome of a touch.
#[derive(Clone, Debug, PartialEq, Eq)]
// Returned by value once per touch and matched at once, never stored or collected: the
// size of the record variant costs nothing worth a Box.
#[allow(clippy::large_enum_variant)]
pub enum Touch {
    /// The session is valid and its idle deadline moved: store this record.
    Extended(SessionRecord),
    /// Valid, but the touch interval has not passed (or the deadline is already at the
    /// absolute cap): nothing to write.
    NotDue,
    /// The session is no longer valid; touching never revives it.
    Expired(Validity),
}

/// Shorter lifetimes an origin may ask for on one session. They can only shorten the
/// policy's, never lengthen it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LifetimeOverrides {
    pub idle_timeout_secs: Option<i64>,
    pub absolute_lifetime_secs: Option<i64>,
}

/// One row of an account's index, as eviction needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexEntry {
    pub session_id: SessionId,
    pub created_at: UnixSeconds,
    /// Insertion order in the index. Breaks ties between sessions created in the same
    /// second, which is common (two devices logging in together).
    pub seq: i64,
}

impl Policy {
    pub fn new(
        idle_timeout_secs: i64,
        absolute_lifetime_secs: i64,
        touch_interval_secs: i64,
        max_sessions: u32,
    ) -> Result<Self, ConfigError> {
        let err = |variable, reason: String| Err(ConfigError { variable, reason });
        if !LIFETIME_RANGE.contains(&idle_timeout_secs) {
            return err("IDLE_TTL_SECS", range_reason(&LIFETIME_RANGE));
        }
        if !LIFETIME_RANGE.contains(&absolute_lifetime_secs) {
            return err("ABSOLUTE_TTL_SECS", range_reason(&LIFETIME_RANGE));
        }
        if idle_timeout_secs > absolute_lifetime_secs {
            return err("IDLE_TTL_SECS", "must not exceed ABSOLUTE_TTL_SECS".into());
        }
        if touch_interval_secs < 0 || touch_interval_secs >= idle_timeout_secs {
            return err("TOUCH_INTERVAL_SECS", "must be at least 0 and less than IDLE_TTL_SECS".into());
        }
        if !MAX_SESSIONS_RANGE.contains(&max_sessions) {
            return err("MAX_SESSIONS_PER_ACCOUNT", range_reason(&MAX_SESSIONS_RANGE));
        }
        Ok(Policy { idle_timeout_secs, absolute_lifetime_secs, touch_interval_secs, max_sessions })
    }

    /// The record for a session created at `now`. Overrides may only shorten lifetimes.
    pub fn start(
        &self,
        account_id: AccountId,
        session_id: SessionId,
        meta: SessionMeta,
        overrides: LifetimeOverrides,
        now: UnixSeconds,
    ) -> Result<SessionRecord, LifetimeError> {
        let idle = shorten("idle_ttl_secs", overrides.idle_timeout_secs, self.idle_timeout_secs)?;
        let absolute = shorten("absolute_ttl_secs", overrides.absolute_lifetime_secs, self.absolute_lifetime_secs)?;
        let absolute_expires_at = now + absolute;
        Ok(SessionRecord {
            v: RECORD_VERSION,
            account_id,
            session_id,
            created_at: now,
            last_seen_at: now,
            idle_timeout_secs: idle,
            idle_expires_at: (now + idle).min(absolute_expires_at),
            absolute_expires_at,
            meta,
            authenticated_at: now,
            aal: crate::core::step_up::AAL_MIN,
            amr: Vec::new(),
            claims: Default::default(),
            device_binding: None,
            impersonation: None,
            baseline: None,
        })
    }

    /// The session after the user proved who they are again: authenticated now, with the
    /// new level and methods, and a fresh idle window (clamped to the absolute cap). Its
    /// id, creation time and absolute deadline stay: reauthentication renews a session,
    /// it does not make a longer one.
    pub fn reauthenticate(&self, record: &SessionRecord, aal: u8, amr: Vec<String>, now: UnixSeconds) -> SessionRecord {
        SessionRecord {
            authenticated_at: now,
            aal,
            amr,
            last_seen_at: now.max(record.last_seen_at),
            idle_expires_at: (now + record.idle_timeout_secs).min(record.absolute_expires_at),
            ..record.clone()
        }
    }

    /// Valid while `now` is strictly before both deadlines. The absolute cap is reported
    /// first: once it has passed, no amount of use could have helped.
    pub fn check(&self, record: &SessionRecord, now: UnixSeconds) -> Validity {
        if now >= record.absolute_expires_at {
            Validity::ExpiredAbsolute
        } else if now >= record.idle_expires_at {
            Validity::ExpiredIdle
        } else {
            Validity::Valid
        }
    }

    /// Use of the session at `now`: extends the idle deadline only once the touch
    /// interval has passed since the last extension, and never past the absolute cap.
    pub fn touch(&self, record: &SessionRecord, now: UnixSeconds) -> Touch {
        match self.check(record, now) {
            Validity::Valid => {}
            expired => return Touch::Expired(expired),
        }
        if now - record.last_seen_at < self.touch_interval_for(record) {
            return Touch::NotDue;
        }
        self.extend(record, now)
    }

    /// This session's touch interval: the configured one, but never more than half the
    /// session's own idle window. A session created with a short `idle_ttl_secs` would
    /// otherwise expire before its first touch came due, logging out an active user.
    pub fn touch_interval_for(&self, record: &SessionRecord) -> i64 {
        self.touch_interval_secs.min(record.idle_timeout_secs / 2)
    }

    /// Configurations that work but can log out an active user somewhere: a touch is
    /// published at most one touch interval after the last one, and a distant location
    /// can keep serving the previous copy for [`KV_PROPAGATION_SECS`] after that. The
    /// copy it holds must outlive that: `IDLE_TTL_SECS - TOUCH_INTERVAL_SECS` must be
    /// at least 60. Returned as a message naming the variables; not refused, because
    /// short windows are legitimate in tests and local development.
    pub fn warnings(&self) -> Vec<String> {
        let slack = self.idle_timeout_secs - self.touch_interval_secs;
        if slack < KV_PROPAGATION_SECS {
            vec![format!(
                "IDLE_TTL_SECS ({}) minus TOUCH_INTERVAL_SECS ({}) is {slack} s, under KV's {KV_PROPAGATION_SECS} s \
                 propagation window: an active user at a location still serving the previous copy can be logged \
                 out; keep IDLE_TTL_SECS - TOUCH_INTERVAL_SECS >= {KV_PROPAGATION_SECS}",
                self.idle_timeout_secs, self.touch_interval_secs
            )]
        } else {
            Vec::new()
        }
    }

    /// [`Policy::touch`] or [`Policy::refresh`], by kind.
    pub fn extend_for(&self, kind: TouchKind, record: &SessionRecord, now: UnixSeconds) -> Touch {
        match kind {
            TouchKind::Use => self.touch(record, now),
            TouchKind::Refresh => self.refresh(record, now),
        }
    }

    /// An explicit refresh: like [`Policy::touch`], but due once the shorter of the
    /// session's touch interval and [`REFRESH_MIN_INTERVAL_SECS`] has passed, so a
    /// refresh loop writes KV at most once per that window.
    pub fn refresh(&self, record: &SessionRecord, now: UnixSeconds) -> Touch {
        match self.check(record, now) {
            Validity::Valid => {}
            expired => return Touch::Expired(expired),
        }
        let window = self.touch_interval_for(record).min(REFRESH_MIN_INTERVAL_SECS);
        if now - record.last_seen_at < window {
            return Touch::NotDue;
        }
        self.extend(record, now)
    }

    fn extend(&self, record: &SessionRecord, now: UnixSeconds) -> Touch {
        let idle_expires_at = (now + record.idle_timeout_secs).min(record.absolute_expires_at);
        if idle_expires_at <= record.idle_expires_at {
            return Touch::NotDue;
        }
        Touch::Extended(SessionRecord { last_seen_at: now, idle_expires_at, ..record.clone() })
    }

    /// KV `expiration_ttl` for a record written at `now`: until the idle deadline (a
    /// touch rewrites the key when it moves), never below KV's 60-second minimum.
    /// KV expiry is only garbage collection: validation always checks the record's own
    /// deadlines, because KV expires lazily.
    pub fn kv_ttl(&self, record: &SessionRecord, now: UnixSeconds) -> u64 {
        let remaining = record.idle_expires_at.saturating_sub(now);
        u64::try_from(remaining).unwrap_or(0).max(KV_MIN_TTL_SECS)
    }

    /// Which sessions to drop so that adding one more keeps the account within
    /// `max_sessions`: the oldest first (same second: the first indexed).
    pub fn evict(&self, index: &[IndexEntry]) -> Vec<SessionId> {
        evict_oldest(index, self.max_sessions)
    }
}

/// Which entries to drop so that `index` plus one new session holds at most `max`.
pub fn evict_oldest(index: &[IndexEntry], max: u32) -> Vec<SessionId> {
    let excess = (index.len() + 1).saturating_sub(max as usize);
    if excess == 0 {
        return Vec::new();
    }
    let mut by_age: Vec<&IndexEntry> = index.iter().collect();
    by_age.sort_by_key(|e| (e.created_at, e.seq));
    by_age.into_iter().take(excess).map(|e| e.session_id.clone()).collect()
}

fn shorten(field: &'static str, requested: Option<i64>, limit: i64) -> Result<i64, LifetimeError> {
    match requested {
        None => Ok(limit),
        Some(secs) if (1..=limit).contains(&secs) => Ok(secs),
        Some(_) => Err(LifetimeError {
            field,
            reason: format!("must be between 1 and the configured maximum of {limit} seconds"),
        }),
    }
}
