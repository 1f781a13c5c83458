//! The session record: the value stored in KV under the token hash, and the row the
//! account's Durable Object keeps in its index.
//!
//! The JSON encoding is versioned (`"v": 1`) and pinned by a golden test: records
//! outlive deployments, so a change here must stay able to read what is already stored.
//! docs/storage.md has the layout and the steps for raising the version.

use crate::core::account::AccountId;
use crate::core::act::Impersonation;
use crate::core::claims::SessionClaims;
use crate::core::device_binding::DeviceBinding;
use crate::core::drift::{BaselineDigest, BaselineStamp};
use crate::core::token::SessionId;
use crate::core::UnixSeconds;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The encoding version this build writes.
///
/// - v1: the session's identity, deadlines and device metadata.
/// - v2: adds the authentication facts (`authenticated_at`, `aal`, `amr`) and `claims`.
/// - v3: adds optional `device_binding` (a DBSC-bound session's key thumbprint),
///   `impersonation` (who is acting as the user, why, since when) and `baseline` (the
///   digest of the client the session was first used by, and a drift hold: `core::drift`).
pub const RECORD_VERSION: u8 = 3;

/// The versions this build reads. A v1 record reads as authenticated when it was
/// created, at level 1, with no methods: what every session was before v2. A v1 or v2
/// record has no v3 fields; its next use by a client takes a baseline.
pub const READABLE_VERSIONS: [u8; 3] = [1, 2, 3];

/// Bounds on captured metadata, so a record always fits comfortably in KV metadata
/// budgets and a listing page stays small.
pub const IP_MAX_LEN: usize = 64;
pub const USER_AGENT_MAX_LEN: usize = 512;
pub const LABEL_MAX_LEN: usize = 128;

/// What the origin tells us about the device a session was created for.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionMeta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaError {
    TooLong(&'static str),
    ControlCharacter(&'static str),
}

impl fmt::Display for MetaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetaError::TooLong(field) => write!(f, "{field} is too long"),
            MetaError::ControlCharacter(field) => {
                write!(f, "{field} contains control or invisible formatting characters")
            }
        }
    }
}

impl SessionMeta {
    /// Checks bounds and refuses control characters, which would otherwise flow into
    /// log lines and listings.
    pub fn validate(&self) -> Result<(), MetaError> {
        let fields = [
            ("ip", &self.ip, IP_MAX_LEN),
            ("user_agent", &self.user_agent, USER_AGENT_MAX_LEN),
            ("label", &self.label, LABEL_MAX_LEN),
        ];
        for (name, value, max) in fields {
            let Some(value) = value else { continue };
            check_text(name, value, max)?;
        }
        Ok(())
    }
}

/// The rule every free-text field a listing shows follows (device metadata, an
/// impersonation's actor and reason): at most `max` bytes, no control or invisible
/// formatting characters.
pub fn check_text(name: &'static str, value: &str, max: usize) -> Result<(), MetaError> {
    if value.len() > max {
        return Err(MetaError::TooLong(name));
    }
    if value.chars().any(is_disallowed_in_metadata) {
        return Err(MetaError::ControlCharacter(name));
    }
    Ok(())
}

/// Control characters, plus the invisible and direction-changing characters that would
/// let a label or user agent disguise itself in a device listing (U+202E and friends)
/// or break a line (U+2028/9).
fn is_disallowed_in_metadata(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// One session. Deadlines are exclusive: the session is valid while `now` is strictly
/// before both of them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionRecord {
    pub v: u8,
    pub account_id: AccountId,
    pub session_id: SessionId,
    pub created_at: UnixSeconds,
    /// When the session was last touched (or created). Moves at most once per touch
    /// interval, so it is accurate to that interval.
    pub last_seen_at: UnixSeconds,
    /// This session's idle window, which may be shorter than the policy's.
    pub idle_timeout_secs: i64,
    pub idle_expires_at: UnixSeconds,
    pub absolute_expires_at: UnixSeconds,
    #[serde(default)]
    pub meta: SessionMeta,
    /// When the user last proved who they are (password, second factor): the creation
    /// time, an earlier login the origin reports, or the last reauthentication. (v2)
    #[serde(default)]
    pub authenticated_at: UnixSeconds,
    /// Authentication assurance level, 1 to 3. (v2)
    #[serde(default = "default_aal")]
    pub aal: u8,
    /// Authentication methods (RFC 8176 style: `pwd`, `otp`, `hwk`, ...). (v2)
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    /// What the origin wants every check to carry (roles, tenant, plan). (v2)
    #[serde(default, skip_serializing_if = "SessionClaims::is_empty")]
    pub claims: SessionClaims,
    /// Set once the session is bound to a device key (`core::device_binding`). (v3)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_binding: Option<DeviceBinding>,
    /// Set on a session an admin opened to act as the user (support's "view as"). (v3)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impersonation: Option<Impersonation>,
    /// The digest of the client the session was first used by, and any hold a drift
    /// placed on it (`core::drift`). `None` until the first use by a client. (v3)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineStamp>,
}

fn default_aal() -> u8 {
    1
}

#[derive(Debug)]
pub enum DecodeError {
    /// Not JSON, or JSON of another shape.
    Malformed(serde_json::Error),
    /// Written by a newer (or much older) build.
    UnsupportedVersion(u8),
    /// JSON of the right shape whose deadlines cannot belong to a real session.
    Inconsistent,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Malformed(e) => write!(f, "malformed session record: {e}"),
            DecodeError::UnsupportedVersion(v) => write!(f, "unsupported session record version {v}"),
            DecodeError::Inconsistent => f.write_str("session record deadlines are inconsistent"),
        }
    }
}

impl std::error::Error for DecodeError {}

impl SessionRecord {
    /// The digest a request's theft signals must match (`core::drift`), once the
    /// session has a baseline.
    pub fn baseline_digest(&self) -> Option<&BaselineDigest> {
        self.baseline.as_ref().map(|stamp| &stamp.digest)
    }

    /// The same session with the authentication facts a create reported.
    pub fn with_auth(self, facts: crate::core::step_up::AuthFacts) -> Self {
        SessionRecord { authenticated_at: facts.authenticated_at, aal: facts.aal, amr: facts.amr, ..self }
    }

    pub fn encode(&self) -> String {
        // Serialising a struct of strings and integers to a String cannot fail.
        serde_json::to_string(self).expect("session record serialises")
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut record: SessionRecord = serde_json::from_slice(bytes).map_err(DecodeError::Malformed)?;
        if !READABLE_VERSIONS.contains(&record.v) {
            return Err(DecodeError::UnsupportedVersion(record.v));
        }
        if record.v == 1 {
            let v2_fields = record.authenticated_at != 0 || record.aal != 1 || !record.amr.is_empty();
            if v2_fields || !record.claims.is_empty() || record.impersonation.is_some() {
                return Err(DecodeError::Inconsistent); // v2 fields in a v1 record
            }
            record.authenticated_at = record.created_at;
        }
        if record.v < 3 && record.device_binding.is_some() {
            return Err(DecodeError::Inconsistent); // a v3 field in an older record
        }
        if record.device_binding.as_ref().is_some_and(|b| b.thumbprint().is_none()) {
            return Err(DecodeError::Inconsistent);
        }
        if record.v < 3 && record.impersonation.is_some() {
            return Err(DecodeError::Inconsistent); // a v3 field in an older record
        }
        let ordered = record.created_at <= record.last_seen_at
            && record.idle_expires_at <= record.absolute_expires_at
            && record.created_at < record.absolute_expires_at
            && record.idle_timeout_secs > 0
            && record.authenticated_at > 0
            && record.authenticated_at < record.absolute_expires_at;
        if !ordered || crate::core::step_up::check_auth_facts(record.aal, &record.amr).is_err() {
            return Err(DecodeError::Inconsistent);
        }
        // Read as the version this build writes: a v1 or v2 record rewritten (touched) is v3.
        record.v = RECORD_VERSION;
        Ok(record)
    }
}
