//! Structured audit events: one JSON line per create, refresh, revoke and eviction,
//! written with `console.log` so Workers Logs / Logpush / `wrangler tail` carry them.
//! The types and reasons are the core's (`core::event`); the schema is documented in
//! docs/events.md. They never carry a token or a token hash.

use crate::core::account::AccountId;
use crate::core::event::{EventType, SessionEvent};
use crate::core::timestamp::rfc3339;
use crate::core::token::SessionId;
use crate::core::UnixSeconds;
use serde::Serialize;

#[derive(Serialize)]
struct EventLine<'a> {
    event: EventType,
    account_id: &'a str,
    session_id: &'a str,
    reason: &'static str,
    at: String,
}

pub fn emit(event: SessionEvent, account_id: &AccountId, session_id: &SessionId, now: UnixSeconds) {
    let line = EventLine {
        event: event.event_type(),
        account_id: account_id.as_str(),
        session_id: session_id.as_str(),
        reason: event.reason(),
        at: rfc3339(now),
    };
    if let Ok(json) = serde_json::to_string(&line) {
        worker::console_log!("{json}");
    }
}
