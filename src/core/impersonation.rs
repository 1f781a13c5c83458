//! Impersonation: a session an admin opens so that support staff can act as a user
//! ("view as"), under rules the edge enforces on every request, so the app cannot forget
//! to check a flag.
//!
//! - The session is short and capped: `ttl_secs` is at most [`TTL_MAX_SECS`], and its
//!   absolute deadline is `created_at + ttl`. Touch, refresh, rotation and
//!   reauthentication keep the absolute deadline of the record they start from
//!   (`core::policy`), so nothing extends it.
//! - It does not count toward `MAX_SESSIONS_PER_ACCOUNT` and is not one of the user's
//!   devices: the account's Durable Object leaves it out of eviction, and listings show it
//!   apart, as "support (reason) signed in as you".
//! - It carries an RFC 8693 `act` claim (`{"sub": actor}`) wherever the session is
//!   described: `GET /v1/session`, assertions, events.
//! - At the gatekeeper it may use only [`ImpersonationRules`]' methods, never a denied
//!   path, and never the account's session-control API (`/v1/sessions`): the session
//!   check's [`ImpersonationAccess`] (`core::session_check`).

use crate::core::account::AccountId;
pub use crate::core::act::{Act, Impersonation};
use crate::core::event::SessionEvent;
use crate::core::path_patterns::RequirementPaths;
use crate::core::policy::{LifetimeError, LifetimeOverrides, Policy};
use crate::core::record::{check_text, MetaError, SessionMeta, SessionRecord};
use crate::core::timestamp::rfc3339;
use crate::core::token::SessionId;
use crate::core::vars::{self, ConfigError, Vars};
use crate::core::UnixSeconds;
use serde::Deserialize;
use std::fmt;

/// Longest impersonation an admin may open: an hour.
pub const TTL_MAX_SECS: i64 = 3600;
pub const ACTOR_MAX_LEN: usize = 128;
pub const REASON_MAX_LEN: usize = 256;

/// The holder's listing shows at most this many impersonations beside the user's
/// `MAX_SESSIONS_PER_ACCOUNT` devices (newest first).
pub const IMPERSONATIONS_LISTED_MAX: u32 = 50;

/// `POST /v1/admin/accounts/{account_id}/impersonations`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImpersonationBody {
    pub actor: Option<String>,
    pub reason: Option<String>,
    #[serde(default, deserialize_with = "crate::core::whole_number::optional")]
    pub ttl_secs: Option<i64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImpersonationError {
    /// `actor` or `reason` missing or blank.
    Missing(&'static str),
    /// `actor` or `reason` too long or with control characters.
    Text(MetaError),
    /// `actor` outside printable ASCII: it travels in the `X-Session-Actor` header, whose
    /// value a platform may refuse to set (and the origin would then not be told).
    ActorNotAscii,
    /// `ttl_secs` missing or outside 1..=3600.
    Ttl,
}

impl fmt::Display for ImpersonationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImpersonationError::Missing(field) => write!(f, "{field} is required"),
            ImpersonationError::Text(e) => e.fmt(f),
            ImpersonationError::ActorNotAscii => {
                f.write_str("actor must be printable ASCII: it is sent to the origin in X-Session-Actor")
            }
            ImpersonationError::Ttl => {
                write!(f, "ttl_secs: must be a whole number of seconds from 1 to {TTL_MAX_SECS}")
            }
        }
    }
}

impl std::error::Error for ImpersonationError {}

/// A checked request to open an impersonation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImpersonationRequest {
    pub actor: String,
    pub reason: String,
    pub ttl_secs: i64,
}

impl ImpersonationRequest {
    /// `actor` and `reason` follow the device-metadata rules (bounded, no control or
    /// invisible characters) and may not be blank; `actor` is printable ASCII too (an
    /// email address or a staff id); `ttl_secs` is 1 to [`TTL_MAX_SECS`].
    pub fn parse(body: ImpersonationBody) -> Result<Self, ImpersonationError> {
        let text = |name: &'static str, value: Option<String>, max: usize| {
            let value = value.filter(|v| !v.trim().is_empty()).ok_or(ImpersonationError::Missing(name))?;
            check_text(name, &value, max).map_err(ImpersonationError::Text)?;
            Ok(value)
        };
        let actor = text("actor", body.actor, ACTOR_MAX_LEN)?;
        if !actor.bytes().all(|b| (b' '..=b'~').contains(&b)) {
            return Err(ImpersonationError::ActorNotAscii);
        }
        let reason = text("reason", body.reason, REASON_MAX_LEN)?;
        let ttl_secs = body.ttl_secs.filter(|t| (1..=TTL_MAX_SECS).contains(t)).ok_or(ImpersonationError::Ttl)?;
        Ok(ImpersonationRequest { actor, reason, ttl_secs })
    }

    /// The session record: created and authenticated now, ending for good at
    /// `now + ttl_secs` (or sooner, when the policy's lifetimes are shorter), with an idle
    /// window no longer than that. No device metadata: it is nobody's device. Built by the
    /// policy's own `start`, so it is an ordinary session in every other field.
    pub fn start(
        self,
        policy: &Policy,
        account_id: AccountId,
        session_id: SessionId,
        now: UnixSeconds,
    ) -> Result<SessionRecord, LifetimeError> {
        let lifetime = self.ttl_secs.min(policy.absolute_lifetime_secs);
        let overrides = LifetimeOverrides {
            idle_timeout_secs: Some(policy.idle_timeout_secs.min(lifetime)),
            absolute_lifetime_secs: Some(lifetime),
        };
        let record = policy.start(account_id, session_id, SessionMeta::default(), overrides, now)?;
        let impersonation = Impersonation { actor: self.actor, reason: self.reason, started_at: now };
        Ok(SessionRecord { impersonation: Some(impersonation), ..record })
    }
}

/// Whether a use of a session is open to an impersonation session. A requirement of the
/// one session check (`session_check::Requirement::impersonation`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ImpersonationAccess {
    /// Any session may (reading `GET /v1/session`, logging itself out).
    #[default]
    Allowed,
    /// Only the user's own sessions may: the session-control API, and gated requests
    /// that [`ImpersonationRules`] does not permit.
    Refused,
}

/// What an impersonation session may do at the gatekeeper: `IMPERSONATION_METHODS`
/// (default `GET,HEAD`, read-only) on any path but `IMPERSONATION_DENY_PATHS`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImpersonationRules {
    pub methods: Vec<String>,
    pub deny_paths: RequirementPaths,
}

impl Default for ImpersonationRules {
    fn default() -> Self {
        ImpersonationRules { methods: vec!["GET".into(), "HEAD".into()], deny_paths: RequirementPaths::default() }
    }
}

impl ImpersonationRules {
    pub fn from_vars(var: &impl Vars) -> Result<Self, ConfigError> {
        // Set but blank: an impersonation session may not reach the origin at all.
        let methods = vars::methods(var, "IMPERSONATION_METHODS")?.unwrap_or(ImpersonationRules::default().methods);
        let deny_paths = RequirementPaths::parse(&vars::var(var, "IMPERSONATION_DENY_PATHS").unwrap_or_default())
            .map_err(|reason| ConfigError::new("IMPERSONATION_DENY_PATHS", reason))?;
        Ok(ImpersonationRules { methods, deny_paths })
    }

    /// What a gated request asks of an impersonation session.
    pub fn access(&self, method: &str, path: &str) -> ImpersonationAccess {
        let method_ok = self.methods.iter().any(|m| m.eq_ignore_ascii_case(method));
        if method_ok && !self.deny_paths.covers(path) {
            ImpersonationAccess::Allowed
        } else {
            ImpersonationAccess::Refused
        }
    }
}

/// Whether `record` is an impersonation session refused by `access`.
pub fn refuses(access: ImpersonationAccess, record: &SessionRecord) -> bool {
    access == ImpersonationAccess::Refused && record.impersonation.is_some()
}

/// The `data` of a delivered event about `record`: for an impersonation session, its
/// `act`, and on its start and end the whole impersonation (actor, reason, start and
/// cap); nothing for the user's own sessions.
pub fn event_data(event: SessionEvent, record: &SessionRecord) -> serde_json::Map<String, serde_json::Value> {
    let mut data = serde_json::Map::new();
    let Some(imp) = &record.impersonation else { return data };
    data.insert("act".into(), serde_json::json!({ "sub": imp.actor }));
    if matches!(event, SessionEvent::ImpersonationStarted | SessionEvent::ImpersonationEnded(_)) {
        let described = serde_json::json!({
            "actor": imp.actor,
            "reason": imp.reason,
            "started_at": rfc3339(imp.started_at),
            "expires_at": rfc3339(record.absolute_expires_at),
        });
        data.insert("impersonation".into(), described);
    }
    data
}
