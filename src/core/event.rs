//! What happened to a session, as data: the event types and reasons that the account
//! Durable Object emits, that the account protocol carries, and that docs/events.md
//! documents. A host test (`tests/core_events_doc.rs`) checks that every type and reason
//! here is in that document.
//!
//! Each event has two renderings: the audit log line (`session_revoked`, fine-grained
//! reasons, unchanged since the first release) and the delivered event
//! ([`EventEnvelope`]: `session.revoked`, the webhook reasons), which consumers act on.

use crate::core::account::AccountId;
use crate::core::drift::DriftAction;
use crate::core::policy::{TouchKind, Validity};
use crate::core::timestamp::rfc3339;
use crate::core::token::SessionId;
use crate::core::UnixSeconds;
use serde::{Deserialize, Serialize};

/// Why a session was revoked. Chosen by the route that asked, carried to the account's
/// Durable Object in the revoke command, and written into the event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevokeReason {
    /// `DELETE /v1/session`.
    Logout,
    /// `DELETE /v1/sessions/{session_id}`.
    RevokedByUser,
    /// `DELETE /v1/sessions?scope=others`.
    LogoutOthers,
    /// `DELETE /v1/sessions`.
    LogoutEverywhere,
    /// `DELETE /v1/admin/accounts/{account_id}/sessions/{session_id}`.
    AdminRevoke,
    /// `DELETE /v1/admin/accounts/{account_id}/sessions`.
    AdminRevokeAll,
    /// Authenticated before `SESSIONS_NOT_BEFORE`, the fleet-wide cut-off.
    SessionsNotBefore,
    /// A device-bound session's refresh was signed by another key than its own: the
    /// session's cookies are in someone else's hands.
    BindingMismatch,
    /// Used from a client that drifted from its baseline, under `DRIFT_POLICY` `revoke`.
    Drift,
}

impl RevokeReason {
    pub const ALL: [RevokeReason; 9] = [
        RevokeReason::Logout,
        RevokeReason::RevokedByUser,
        RevokeReason::LogoutOthers,
        RevokeReason::LogoutEverywhere,
        RevokeReason::AdminRevoke,
        RevokeReason::AdminRevokeAll,
        RevokeReason::SessionsNotBefore,
        RevokeReason::BindingMismatch,
        RevokeReason::Drift,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            RevokeReason::Logout => "logout",
            RevokeReason::RevokedByUser => "revoked_by_user",
            RevokeReason::LogoutOthers => "logout_others",
            RevokeReason::LogoutEverywhere => "logout_everywhere",
            RevokeReason::AdminRevoke => "admin_revoke",
            RevokeReason::AdminRevokeAll => "admin_revoke_all",
            RevokeReason::SessionsNotBefore => "sessions_not_before",
            RevokeReason::BindingMismatch => "binding_mismatch",
            RevokeReason::Drift => "drift",
        }
    }
}

impl RevokeReason {
    /// The reason a delivered `session.revoked` event carries: who ended it, in the
    /// coarse terms consumers branch on.
    pub const fn delivered(self) -> &'static str {
        match self {
            RevokeReason::Logout => "logout",
            RevokeReason::RevokedByUser => "revoke",
            RevokeReason::LogoutOthers | RevokeReason::LogoutEverywhere => "revoke_all",
            RevokeReason::AdminRevoke | RevokeReason::AdminRevokeAll | RevokeReason::SessionsNotBefore => "admin",
            RevokeReason::BindingMismatch => "binding_mismatch",
            RevokeReason::Drift => "drift",
        }
    }
}

/// One change to one session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionEvent {
    Created,
    /// The idle deadline moved, through use or an explicit refresh.
    Refreshed(TouchKind),
    Revoked(RevokeReason),
    /// Dropped to keep the account within `MAX_SESSIONS_PER_ACCOUNT`.
    Evicted,
    /// Dropped by housekeeping (the alarm, or a command that tidies first) because a
    /// deadline passed. Carries which one: `ExpiredIdle` or `ExpiredAbsolute`.
    Expired(Validity),
    /// The session moved to a new token; the old one no longer works.
    Rotated(RotationCause),
    /// The user proved who they are again: new authentication time, level and methods.
    Reauthenticated,
    /// The origin replaced the session's claims.
    ClaimsUpdated,
    /// The session was bound to a device key (DBSC registration).
    Bound,
    /// An admin opened an impersonation session (beside its `Created`).
    ImpersonationStarted,
    /// An impersonation session ended (beside the event that ended it).
    ImpersonationEnded(ImpersonationEnd),
    /// The session was used from a client that drifted from its baseline; carries what
    /// `DRIFT_POLICY` did about it (`core::drift`).
    Anomaly(DriftAction),
}

/// What ended an impersonation session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImpersonationEnd {
    /// Revoked: by the user from their listing, by the admin, by a logout.
    Revoked(RevokeReason),
    /// Its cap (or idle window) passed.
    Expired,
}

impl SessionEvent {
    /// The `ImpersonationEnded` that goes beside this event when it ends an
    /// impersonation session, if it ends a session at all.
    pub const fn ends_impersonation(self) -> Option<SessionEvent> {
        match self {
            SessionEvent::Revoked(reason) => Some(SessionEvent::ImpersonationEnded(ImpersonationEnd::Revoked(reason))),
            SessionEvent::Expired(_) => Some(SessionEvent::ImpersonationEnded(ImpersonationEnd::Expired)),
            _ => None,
        }
    }
}

/// Why a token was rotated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RotationCause {
    /// `POST /v1/session/rotate`.
    Holder,
    /// `POST /v1/session/rotate` with the token the last rotation moved away from, inside
    /// the retry window (its reply was lost, or someone else holds that token: a signal
    /// worth watching).
    HolderRetry,
    /// `POST /v1/admin/accounts/{account_id}/sessions/{session_id}/reauthenticate`.
    Reauthentication,
    /// `POST /v1/dbsc/register`: binding moves the session off the token a copied
    /// cookie jar holds.
    DeviceBinding,
}

/// The `event` field of an event line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    SessionCreated,
    SessionRefreshed,
    SessionRevoked,
    SessionEvicted,
    SessionExpired,
    SessionRotated,
    SessionReauthenticated,
    SessionClaimsUpdated,
    SessionBound,
    SessionImpersonationStarted,
    SessionImpersonationEnded,
    SessionAnomaly,
}

impl EventType {
    pub const ALL: [EventType; 12] = [
        EventType::SessionCreated,
        EventType::SessionRefreshed,
        EventType::SessionRevoked,
        EventType::SessionEvicted,
        EventType::SessionExpired,
        EventType::SessionRotated,
        EventType::SessionReauthenticated,
        EventType::SessionClaimsUpdated,
        EventType::SessionBound,
        EventType::SessionImpersonationStarted,
        EventType::SessionImpersonationEnded,
        EventType::SessionAnomaly,
    ];

    /// The `event` field of the log line.
    pub const fn as_str(self) -> &'static str {
        match self {
            EventType::SessionCreated => "session_created",
            EventType::SessionRefreshed => "session_refreshed",
            EventType::SessionRevoked => "session_revoked",
            EventType::SessionEvicted => "session_evicted",
            EventType::SessionExpired => "session_expired",
            EventType::SessionRotated => "session_rotated",
            EventType::SessionReauthenticated => "session_reauthenticated",
            EventType::SessionClaimsUpdated => "session_claims_updated",
            EventType::SessionBound => "session_bound",
            EventType::SessionImpersonationStarted => "session_impersonation_started",
            EventType::SessionImpersonationEnded => "session_impersonation_ended",
            EventType::SessionAnomaly => "session_anomaly",
        }
    }

    /// The `type` of a delivered event (and what `WEBHOOK_EVENTS` lists).
    pub const fn delivered(self) -> &'static str {
        match self {
            EventType::SessionCreated => "session.created",
            EventType::SessionRefreshed => "session.refreshed",
            EventType::SessionRevoked => "session.revoked",
            EventType::SessionEvicted => "session.evicted",
            EventType::SessionExpired => "session.expired",
            EventType::SessionRotated => "session.rotated",
            EventType::SessionReauthenticated => "session.reauthenticated",
            EventType::SessionClaimsUpdated => "session.claims_updated",
            EventType::SessionBound => "session.bound",
            EventType::SessionImpersonationStarted => "session.impersonation_started",
            EventType::SessionImpersonationEnded => "session.impersonation_ended",
            EventType::SessionAnomaly => "session.anomaly",
        }
    }

    pub fn parse_delivered(s: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.delivered() == s)
    }
}

impl SessionEvent {
    pub const fn event_type(self) -> EventType {
        match self {
            SessionEvent::Created => EventType::SessionCreated,
            SessionEvent::Refreshed(_) => EventType::SessionRefreshed,
            SessionEvent::Revoked(_) => EventType::SessionRevoked,
            SessionEvent::Evicted => EventType::SessionEvicted,
            SessionEvent::Expired(_) => EventType::SessionExpired,
            SessionEvent::Rotated(_) => EventType::SessionRotated,
            SessionEvent::Reauthenticated => EventType::SessionReauthenticated,
            SessionEvent::ClaimsUpdated => EventType::SessionClaimsUpdated,
            SessionEvent::Bound => EventType::SessionBound,
            SessionEvent::ImpersonationStarted => EventType::SessionImpersonationStarted,
            SessionEvent::ImpersonationEnded(_) => EventType::SessionImpersonationEnded,
            SessionEvent::Anomaly(_) => EventType::SessionAnomaly,
        }
    }

    /// The `reason` field: why, in the terms of the event type.
    pub const fn reason(self) -> &'static str {
        match self {
            SessionEvent::Created => "created",
            SessionEvent::Refreshed(TouchKind::Use) => "touch",
            SessionEvent::Refreshed(TouchKind::Refresh) => "refresh",
            SessionEvent::Revoked(reason) => reason.as_str(),
            SessionEvent::Evicted => "session_limit",
            SessionEvent::Expired(Validity::ExpiredAbsolute) => "absolute",
            SessionEvent::Expired(_) => "idle",
            SessionEvent::Rotated(RotationCause::Holder) => "holder",
            SessionEvent::Rotated(RotationCause::HolderRetry) => "holder_retry",
            SessionEvent::Rotated(RotationCause::Reauthentication) => "reauthentication",
            SessionEvent::Rotated(RotationCause::DeviceBinding) => "device_binding",
            SessionEvent::Reauthenticated => "reauthenticated",
            SessionEvent::ClaimsUpdated => "admin",
            SessionEvent::Bound => "dbsc",
            SessionEvent::ImpersonationStarted => "admin",
            SessionEvent::ImpersonationEnded(ImpersonationEnd::Revoked(reason)) => reason.as_str(),
            SessionEvent::ImpersonationEnded(ImpersonationEnd::Expired) => "expired",
            SessionEvent::Anomaly(action) => action.as_str(),
        }
    }

    /// The `reason` of the delivered event.
    pub const fn delivered_reason(self) -> &'static str {
        match self {
            SessionEvent::Revoked(reason) => reason.delivered(),
            SessionEvent::ImpersonationEnded(ImpersonationEnd::Revoked(reason)) => reason.delivered(),
            other => other.reason(),
        }
    }

    /// Every (type, reason) pair an event can have, for documentation checks.
    pub fn all() -> Vec<SessionEvent> {
        let mut all = vec![
            SessionEvent::Created,
            SessionEvent::Refreshed(TouchKind::Use),
            SessionEvent::Refreshed(TouchKind::Refresh),
            SessionEvent::Evicted,
            SessionEvent::Expired(Validity::ExpiredIdle),
            SessionEvent::Expired(Validity::ExpiredAbsolute),
            SessionEvent::Rotated(RotationCause::Holder),
            SessionEvent::Rotated(RotationCause::HolderRetry),
            SessionEvent::Rotated(RotationCause::Reauthentication),
            SessionEvent::Rotated(RotationCause::DeviceBinding),
            SessionEvent::Reauthenticated,
            SessionEvent::ClaimsUpdated,
            SessionEvent::Bound,
            SessionEvent::ImpersonationStarted,
            SessionEvent::ImpersonationEnded(ImpersonationEnd::Expired),
        ];
        all.extend(RevokeReason::ALL.map(SessionEvent::Revoked));
        all.extend(RevokeReason::ALL.map(|r| SessionEvent::ImpersonationEnded(ImpersonationEnd::Revoked(r))));
        all.extend(DriftAction::ALL.map(SessionEvent::Anomaly));
        all
    }
}

/// Prefix of every event id.
pub const EVENT_ID_PREFIX: &str = "evt_";

/// A delivered event: what the account's Durable Object queues and the webhook sends.
/// Its `id` is drawn once, when the event is recorded, so every redelivery carries the
/// same one and consumers can dedupe by it. Never holds a token or a token hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventEnvelope {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub occurred_at: String,
    pub account_id: AccountId,
    pub session_id: SessionId,
    pub reason: String,
    pub data: serde_json::Map<String, serde_json::Value>,
}

impl EventEnvelope {
    /// `random` is 16 bytes from the CSPRNG (the caller draws them; the core does not).
    pub fn new(
        event: SessionEvent,
        account_id: &AccountId,
        session_id: &SessionId,
        now: UnixSeconds,
        random: [u8; 16],
    ) -> Self {
        let mut id = String::with_capacity(EVENT_ID_PREFIX.len() + 32);
        id.push_str(EVENT_ID_PREFIX);
        for b in random {
            id.push_str(&format!("{b:02x}"));
        }
        EventEnvelope {
            id,
            event_type: event.event_type().delivered().to_owned(),
            occurred_at: rfc3339(now),
            account_id: account_id.clone(),
            session_id: session_id.clone(),
            reason: event.delivered_reason().to_owned(),
            data: serde_json::Map::new(),
        }
    }
}
