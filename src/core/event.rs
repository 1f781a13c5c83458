//! What happened to a session, as data: the event types and reasons that the account
//! Durable Object emits, that the account protocol carries, and that docs/events.md
//! documents. A host test (`tests/core_events_doc.rs`) checks that every type and reason
//! here is in that document.

use crate::core::policy::TouchKind;
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
}

impl RevokeReason {
    pub const ALL: [RevokeReason; 6] = [
        RevokeReason::Logout,
        RevokeReason::RevokedByUser,
        RevokeReason::LogoutOthers,
        RevokeReason::LogoutEverywhere,
        RevokeReason::AdminRevoke,
        RevokeReason::AdminRevokeAll,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            RevokeReason::Logout => "logout",
            RevokeReason::RevokedByUser => "revoked_by_user",
            RevokeReason::LogoutOthers => "logout_others",
            RevokeReason::LogoutEverywhere => "logout_everywhere",
            RevokeReason::AdminRevoke => "admin_revoke",
            RevokeReason::AdminRevokeAll => "admin_revoke_all",
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
}

/// The `event` field of an event line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    SessionCreated,
    SessionRefreshed,
    SessionRevoked,
    SessionEvicted,
}

impl EventType {
    pub const ALL: [EventType; 4] =
        [EventType::SessionCreated, EventType::SessionRefreshed, EventType::SessionRevoked, EventType::SessionEvicted];

    pub const fn as_str(self) -> &'static str {
        match self {
            EventType::SessionCreated => "session_created",
            EventType::SessionRefreshed => "session_refreshed",
            EventType::SessionRevoked => "session_revoked",
            EventType::SessionEvicted => "session_evicted",
        }
    }
}

impl SessionEvent {
    pub const fn event_type(self) -> EventType {
        match self {
            SessionEvent::Created => EventType::SessionCreated,
            SessionEvent::Refreshed(_) => EventType::SessionRefreshed,
            SessionEvent::Revoked(_) => EventType::SessionRevoked,
            SessionEvent::Evicted => EventType::SessionEvicted,
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
        }
    }

    /// Every (type, reason) pair an event can have, for documentation checks.
    pub fn all() -> Vec<SessionEvent> {
        let mut all = vec![
            SessionEvent::Created,
            SessionEvent::Refreshed(TouchKind::Use),
            SessionEvent::Refreshed(TouchKind::Refresh),
            SessionEvent::Evicted,
        ];
        all.extend(RevokeReason::ALL.map(SessionEvent::Revoked));
        all
    }
}
