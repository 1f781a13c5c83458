//! Lifecycle events as the account's Durable Object records them: one audit line each
//! (`console.log`, for Workers Logs, Logpush and `wrangler tail`), and the outbox that
//! holds them for the `EVENTS` queue, in the object's SQLite storage (docs/storage.md).
//! Both carry the core's types and reasons (`core::event`; the schema is in
//! docs/events.md), and never a token or a token hash.
//! An event is written here in the same synchronous step as the state
//! change it describes, so a reset between the change and the send loses nothing; it
//! leaves only once the `EVENTS` queue has accepted it. Delivery is therefore at least
//! once, and the event's `id` is what consumers dedupe by.

use crate::core::account::AccountId;
use crate::core::event::{EventEnvelope, EventType, SessionEvent};
use crate::core::timestamp::rfc3339;
use crate::core::token::SessionId;
use crate::core::UnixSeconds;
use serde::{Deserialize, Serialize};
use worker::SqlStorage;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS event_outbox (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    body            TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0
);";

/// Most events sent in one `sendBatch` (Queues accepts up to 100 per batch).
pub const BATCH_LIMIT: u32 = 100;

/// The first retry of a failed send waits this long; each later one doubles it.
const RETRY_BASE_SECS: i64 = 10;
const RETRY_MAX_SECS: i64 = 600;

#[derive(Deserialize)]
pub struct OutboxEvent {
    pub seq: i64,
    /// The envelope as JSON, exactly the bytes the webhook will carry.
    pub body: String,
}

#[derive(Deserialize)]
struct NextAttempt {
    next: Option<i64>,
}

pub struct EventOutbox {
    sql: SqlStorage,
}

impl EventOutbox {
    pub fn open(sql: SqlStorage) -> Self {
        let _ = sql.exec(SCHEMA, None);
        EventOutbox { sql }
    }

    /// Queues one event. Synchronous: callers write it beside the change it describes,
    /// with no await in between, so both commit together.
    pub fn push(&self, event: &EventEnvelope) -> Result<(), String> {
        let body = serde_json::to_string(event).map_err(|e| e.to_string())?;
        self.sql
            .exec("INSERT INTO event_outbox (id, body) VALUES (?, ?)", vec![event.id.as_str().into(), body.into()])
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// The oldest events due for a send, in the order they happened.
    pub fn due(&self, now: UnixSeconds) -> Result<Vec<OutboxEvent>, String> {
        self.sql
            .exec(
                "SELECT seq, body FROM event_outbox WHERE next_attempt_at <= ? ORDER BY seq LIMIT ?",
                vec![now.into(), i64::from(BATCH_LIMIT).into()],
            )
            .and_then(|c| c.to_array())
            .map_err(|e| e.to_string())
    }

    /// The queue accepted exactly these events. Only they leave: a batch need not be a
    /// run of `seq`s, since an event between two due ones may be waiting out a retry.
    pub fn sent(&self, seqs: &[i64]) -> Result<(), String> {
        self.sql
            .exec(
                "DELETE FROM event_outbox WHERE seq IN (SELECT value FROM json_each(?))",
                vec![seq_list(seqs)?.into()],
            )
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// A send of these events failed: each waits, doubling its wait each time.
    pub fn defer(&self, seqs: &[i64], now: UnixSeconds) -> Result<(), String> {
        self.sql
            .exec(
                &format!(
                    "UPDATE event_outbox SET attempts = attempts + 1, next_attempt_at = ? + {RETRY_WAIT}
                     WHERE seq IN (SELECT value FROM json_each(?))"
                ),
                vec![now.into(), RETRY_MAX_SECS.into(), RETRY_BASE_SECS.into(), seq_list(seqs)?.into()],
            )
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// When the next send of a waiting event happens, if any event waits: its retry
    /// time, or, for one due now (which the caller is about to send), the retry that
    /// follows if that send fails.
    pub fn next_attempt(&self, now: UnixSeconds) -> Option<UnixSeconds> {
        let rows: Vec<NextAttempt> = self
            .sql
            .exec(
                &format!(
                    "SELECT MIN(CASE WHEN next_attempt_at > ? THEN next_attempt_at ELSE ? + {RETRY_WAIT} END) AS next
                     FROM event_outbox"
                ),
                vec![now.into(), now.into(), RETRY_MAX_SECS.into(), RETRY_BASE_SECS.into()],
            )
            .and_then(|c| c.to_array())
            .ok()?;
        rows.into_iter().next().and_then(|r| r.next)
    }
}

/// The wait before the retry of an event that failed `attempts` times already, in SQL
/// (binds `RETRY_MAX_SECS`, then `RETRY_BASE_SECS`).
const RETRY_WAIT: &str = "MIN(?, ? << MIN(attempts, 10))";

/// `seqs` as a JSON array, for `json_each`: one bound value however long the batch.
fn seq_list(seqs: &[i64]) -> Result<String, String> {
    serde_json::to_string(seqs).map_err(|e| e.to_string())
}

#[derive(Serialize)]
struct EventLine<'a> {
    event: EventType,
    account_id: &'a str,
    session_id: &'a str,
    reason: &'static str,
    at: String,
}

/// The audit line of one event.
pub fn log_event(event: SessionEvent, account_id: &AccountId, session_id: &SessionId, now: UnixSeconds) {
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
