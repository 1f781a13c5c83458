//! Structured audit events: one JSON line per create, refresh, revoke and eviction,
//! written with `console.log` so Workers Logs / Logpush / `wrangler tail` carry them.
//! They never carry a token or a token hash. The schema is documented in
//! docs/events.md.

use crate::core::account::AccountId;
use crate::core::timestamp::rfc3339;
use crate::core::token::SessionId;
use crate::core::UnixSeconds;
use serde::Serialize;

#[derive(Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    SessionCreated,
    SessionRefreshed,
    SessionRevoked,
    SessionEvicted,
}

#[derive(Serialize)]
struct Event<'a> {
    event: EventType,
    account_id: &'a str,
    session_id: &'a str,
    reason: &'a str,
    at: String,
}

pub fn emit(event: EventType, account_id: &AccountId, session_id: &SessionId, reason: &str, now: UnixSeconds) {
    let line = Event { event, account_id: account_id.as_str(), session_id: session_id.as_str(), reason, at: rfc3339(now) };
    if let Ok(json) = serde_json::to_string(&line) {
        worker::console_log!("{json}");
    }
}
