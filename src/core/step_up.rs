//! Authentication facts and freshness: when the user last proved who they are, how
//! strongly (`aal`), and by which methods (`amr`); and whether that is recent and strong
//! enough for a request that asks (`max_age`, `min_aal`).
//!
//! Freshness is measured from `authenticated_at`, never from the session's creation: a
//! long-lived, active session still needs a recent login for a sensitive action, and a
//! reauthentication makes it fresh again without a new session.

use crate::core::timestamp::parse_rfc3339;
use crate::core::{UnixMillis, UnixSeconds};
use std::fmt;

pub const AAL_MIN: u8 = 1;
pub const AAL_MAX: u8 = 3;
pub const AMR_MAX_ENTRIES: usize = 8;
pub const AMR_MAX_LEN: usize = 32;

/// How far in the past a create may date the authentication: the origin checked the
/// password a moment ago, not yesterday.
pub const AUTHENTICATED_AT_MAX_AGE_SECS: i64 = 600;

/// Longest `max_age` a request may ask for (10 years, like every lifetime).
pub const MAX_AGE_LIMIT_SECS: i64 = crate::core::MAX_LIFETIME_SECS;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthFactsError {
    Aal,
    AmrTooMany,
    AmrEntry,
    AuthenticatedAtFormat,
    AuthenticatedAtFuture,
    AuthenticatedAtTooOld,
}

impl fmt::Display for AuthFactsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthFactsError::Aal => write!(f, "aal must be a whole number from {AAL_MIN} to {AAL_MAX}"),
            AuthFactsError::AmrTooMany => write!(f, "amr may list at most {AMR_MAX_ENTRIES} methods"),
            AuthFactsError::AmrEntry => {
                write!(f, "each amr entry must be 1 to {AMR_MAX_LEN} characters of a-z, 0-9, '_' and '-'")
            }
            AuthFactsError::AuthenticatedAtFormat => {
                f.write_str("authenticated_at must be an RFC 3339 time or whole unix seconds")
            }
            AuthFactsError::AuthenticatedAtFuture => f.write_str("authenticated_at is in the future"),
            AuthFactsError::AuthenticatedAtTooOld => {
                write!(f, "authenticated_at may be at most {AUTHENTICATED_AT_MAX_AGE_SECS} seconds in the past")
            }
        }
    }
}

impl std::error::Error for AuthFactsError {}

/// The authentication facts of a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthFacts {
    pub authenticated_at: UnixSeconds,
    pub aal: u8,
    pub amr: Vec<String>,
}

/// Checks `aal` and `amr` against their bounds.
pub fn check_auth_facts(aal: u8, amr: &[String]) -> Result<(), AuthFactsError> {
    if !(AAL_MIN..=AAL_MAX).contains(&aal) {
        return Err(AuthFactsError::Aal);
    }
    if amr.len() > AMR_MAX_ENTRIES {
        return Err(AuthFactsError::AmrTooMany);
    }
    let valid = |m: &String| {
        (1..=AMR_MAX_LEN).contains(&m.len())
            && m.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    };
    if !amr.iter().all(valid) {
        return Err(AuthFactsError::AmrEntry);
    }
    Ok(())
}

/// When the origin checked the credentials, as precisely as it said. `secs` is what the
/// record keeps; `millis` orders the login against the account's last revoke-all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthenticatedAt {
    pub secs: UnixSeconds,
    pub millis: UnixMillis,
}

impl AuthenticatedAt {
    /// A time known to the millisecond: an RFC 3339 time with a fraction, or the clock.
    pub fn exact(millis: UnixMillis) -> Self {
        AuthenticatedAt { secs: millis.div_euclid(1000), millis }
    }

    /// A whole second, which cannot say where in that second the check happened. It is
    /// ordered at the second's last millisecond: a login in the same second as a
    /// revoke-all passes, because refusing it would also refuse the legitimate login that
    /// follows "log out everywhere" at once. An origin that wants that second ordered
    /// sends milliseconds (the origin SDK does).
    pub fn whole_second(secs: UnixSeconds) -> Self {
        AuthenticatedAt { secs, millis: secs.saturating_mul(1000).saturating_add(999) }
    }
}

/// `authenticated_at` as a create body may give it: RFC 3339 (with or without a
/// fraction) or whole unix seconds, at most [`AUTHENTICATED_AT_MAX_AGE_SECS`] before
/// `now` and never after it (compared in whole seconds: an origin clock a few
/// milliseconds ahead of this one is not "in the future").
pub fn parse_authenticated_at(value: &serde_json::Value, now: UnixSeconds) -> Result<AuthenticatedAt, AuthFactsError> {
    let at = match value {
        serde_json::Value::Number(n) => AuthenticatedAt::whole_second(
            crate::core::whole_number::from_number(n).ok_or(AuthFactsError::AuthenticatedAtFormat)?,
        ),
        serde_json::Value::String(s) => {
            let time = parse_rfc3339(s).ok_or(AuthFactsError::AuthenticatedAtFormat)?;
            if s.contains('.') {
                let millis: UnixMillis = time.secs * 1000 + i64::from(time.nanos / 1_000_000);
                AuthenticatedAt::exact(millis)
            } else {
                AuthenticatedAt::whole_second(time.secs)
            }
        }
        _ => return Err(AuthFactsError::AuthenticatedAtFormat),
    };
    if at.secs > now {
        return Err(AuthFactsError::AuthenticatedAtFuture);
    }
    // Saturating: `at` comes from the origin, and i64::MIN must read as very old, not wrap.
    if now.saturating_sub(at.secs) > AUTHENTICATED_AT_MAX_AGE_SECS {
        return Err(AuthFactsError::AuthenticatedAtTooOld);
    }
    Ok(at)
}

/// What a request asks of the session's authentication.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Freshness {
    /// The last authentication must be at most this many seconds ago.
    pub max_age_secs: Option<i64>,
    /// The session's `aal` must be at least this.
    pub min_aal: Option<u8>,
}

/// Which requirement a session failed; either or both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotFresh {
    pub too_old: bool,
    pub too_weak: bool,
}

impl Freshness {
    /// From the `max_age` and `min_aal` query parameters. Errors name the parameter.
    pub fn parse(max_age: Option<&str>, min_aal: Option<&str>) -> Result<Self, String> {
        let max_age_secs = match max_age {
            None => None,
            Some(raw) => Some(
                crate::core::whole_number::from_text(raw)
                    .filter(|n| (0..=MAX_AGE_LIMIT_SECS).contains(n))
                    .ok_or("max_age must be a whole number of seconds, 0 or more")?,
            ),
        };
        let min_aal = match min_aal {
            None => None,
            Some(raw) => Some(
                crate::core::whole_number::from_text(raw)
                    .and_then(|n| u8::try_from(n).ok())
                    .filter(|n| (AAL_MIN..=AAL_MAX).contains(n))
                    .ok_or("min_aal must be a whole number from 1 to 3")?,
            ),
        };
        Ok(Freshness { max_age_secs, min_aal })
    }

    pub fn is_required(&self) -> bool {
        self.max_age_secs.is_some() || self.min_aal.is_some()
    }

    /// Whether authentication at `authenticated_at` with `aal` satisfies this at `now`.
    pub fn check(&self, authenticated_at: UnixSeconds, aal: u8, now: UnixSeconds) -> Result<(), NotFresh> {
        let too_old = self.max_age_secs.is_some_and(|max| now.saturating_sub(authenticated_at) > max);
        let too_weak = self.min_aal.is_some_and(|min| aal < min);
        if too_old || too_weak {
            Err(NotFresh { too_old, too_weak })
        } else {
            Ok(())
        }
    }
}
