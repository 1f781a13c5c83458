//! What a command leaves for later, and the alarm that does it: recording lifecycle
//! events and sending them, sending queued KV deletes, purging sessions that ended, and
//! arming the alarm for the next of these.
//!
//! Revocation is crash-safe through the index's outbox: a row never leaves without its
//! KV key queued; [`AccountSessions::settle`] then sends the deletes, and the alarm
//! retries any that failed.

use crate::core::account::AccountId;
use crate::core::event::{EventEnvelope, RevokeReason, SessionEvent};
use crate::core::impersonation;
use crate::core::record::SessionRecord;
use crate::core::session_check::{check, DriftRule, Refusal, Requirement};
use crate::core::token::SessionId;
use crate::core::UnixSeconds;
use crate::edge::account::event_outbox::{log_event, BATCH_LIMIT};
use crate::edge::account::object::{AccountSessions, CommandContext};
use crate::edge::error::{log_error, ApiError};
use crate::edge::event_seal::seal_all;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use worker::ScheduledTime;

/// The Queues producer that lifecycle events go to. Without it, events are log lines.
pub const EVENTS_BINDING: &str = "EVENTS";

#[wasm_bindgen]
extern "C" {
    /// The `EVENTS` producer, called directly: workers-rs's `Queue::send_batch` converts
    /// every message and option with serde-wasm-bindgen (docs/performance.md, "Size").
    type EventsQueue;

    #[wasm_bindgen(method, catch, js_name = sendBatch)]
    fn send_batch(this: &EventsQueue, messages: &js_sys::Array) -> Result<js_sys::Promise, JsValue>;
}

/// Sends sealed events as one batch, each as workers-rs sent a `String`: the text as the
/// body, content type `json`.
async fn send_sealed(queue: &worker::Queue, messages: &[String]) -> Result<(), worker::Error> {
    let batch = js_sys::Array::new();
    for message in messages {
        let request = js_sys::Object::new();
        js_sys::Reflect::set(&request, &"body".into(), &JsValue::from_str(message))?;
        js_sys::Reflect::set(&request, &"contentType".into(), &"json".into())?;
        js_sys::Reflect::set(&request, &"delaySeconds".into(), &JsValue::UNDEFINED)?;
        batch.push(&request);
    }
    let queue: &EventsQueue = queue.as_ref().unchecked_ref();
    JsFuture::from(queue.send_batch(&batch)?).await?;
    Ok(())
}

/// How long to wait before retrying KV deletes that failed.
const PENDING_RETRY_SECS: i64 = 10;

impl AccountSessions {
    /// What the alarm does: remove ghost rows and expired sessions (queueing their KV
    /// keys), then flush the queue and re-arm.
    pub(super) async fn housekeep(&self, cx: &CommandContext) -> Result<(), ApiError> {
        self.index.remove_ghosts(None)?;
        self.purge_expired(cx).await?;
        self.settle(cx).await;
        Ok(())
    }

    /// Drops rows whose session has ended, queueing their KV keys, but first trusts KV
    /// over the index for an idle deadline: a touch writes KV, then the index, and a
    /// reset between the two leaves the index with the old deadline while KV serves the
    /// extended session. Such a row is brought up to date instead of purged.
    pub(super) async fn purge_expired(&self, cx: &CommandContext) -> Result<(), ApiError> {
        let CommandContext { config, store, now, .. } = cx;
        let now = *now;
        for row in self.index.idle_expired(now)? {
            // A failed read adopts nothing: the row is purged as its deadline says.
            let Ok(Some(published)) = store.get(&row.token_hash).await else { continue };
            let newer = row.record().map_or(true, |indexed| published.idle_expires_at > indexed.idle_expires_at);
            let usable = check(config, &published, &Requirement::live().drift(DriftRule::Ignored), now).is_ok();
            if published.session_id == row.session_id && newer && usable {
                self.index.update(&published)?;
            }
        }
        // From here on no await: each removal and its event commit together.
        for row in self.index.expired(now)? {
            if let Ok(record) = row.record() {
                let validity = config.policy.check(&record, now);
                self.record_session(SessionEvent::Expired(validity), &record, now);
            }
            self.index.remove(&row.session_id)?;
        }
        self.index.remove_expired(now)?; // ghosts past their deadlines
        if config.sessions_not_before.is_some() {
            // The fleet-wide cut-off needs no KV writes: the edge refuses such sessions
            // already; here their rows go, announced as revoked.
            for row in self.index.all()? {
                let Ok(record) = row.record() else { continue };
                if check(config, &record, &Requirement::locating(), now) == Err(Refusal::CutOff) {
                    let event = SessionEvent::Revoked(RevokeReason::SessionsNotBefore);
                    self.record_session(event, &record, now);
                    self.index.remove(&row.session_id)?;
                }
            }
        }
        Ok(())
    }

    /// Writes one event: the audit log line, and, when an `EVENTS` queue is bound, an
    /// outbox row in the same synchronous step as the change it describes (callers do
    /// not await between the two). [`AccountSessions::settle`] sends it.
    pub(super) fn record(&self, event: SessionEvent, account_id: &AccountId, session_id: &SessionId, now: UnixSeconds) {
        self.record_with_data(event, account_id, session_id, now, serde_json::Map::new());
    }

    /// [`AccountSessions::record`] for a session whose record is at hand: an
    /// impersonation session's events carry its `act`, and an event that ends one is
    /// followed by `session.impersonation_ended`.
    pub(super) fn record_session(&self, event: SessionEvent, record: &SessionRecord, now: UnixSeconds) {
        let (account_id, session_id) = (&record.account_id, &record.session_id);
        self.record_with_data(event, account_id, session_id, now, impersonation::event_data(event, record));
        if record.impersonation.is_some() {
            if let Some(ended) = event.ends_impersonation() {
                self.record_with_data(ended, account_id, session_id, now, impersonation::event_data(ended, record));
            }
        }
    }

    /// [`AccountSessions::record`] with the delivered event's type-specific `data`.
    pub(super) fn record_with_data(
        &self,
        event: SessionEvent,
        account_id: &AccountId,
        session_id: &SessionId,
        now: UnixSeconds,
        data: serde_json::Map<String, serde_json::Value>,
    ) {
        log_event(event, account_id, session_id, now);
        if self.env.queue(EVENTS_BINDING).is_err() {
            return;
        }
        let mut random = [0u8; 16];
        if let Err(e) = getrandom::fill(&mut random) {
            log_error("error", "account: event id", &e);
            return;
        }
        let envelope = EventEnvelope { data, ..EventEnvelope::new(event, account_id, session_id, now, random) };
        if let Err(e) = self.events.push(&envelope) {
            log_error("error", "account: event outbox", &e);
        }
    }

    /// Finishes a command that changed something: arms the alarm first, then sends the
    /// queued KV deletes and events, so a reset halfway through still leaves a retry
    /// scheduled.
    pub(super) async fn settle(&self, cx: &CommandContext) {
        self.schedule_housekeeping(cx.now).await;
        self.flush_pending_deletes(cx).await;
        self.flush_events(cx).await;
    }

    /// Sends every queued KV delete; the ones that fail stay queued for the alarm.
    async fn flush_pending_deletes(&self, cx: &CommandContext) {
        let Ok(keys) = self.index.pending_deletes() else { return };
        for kv_key in keys {
            match cx.store.delete(&kv_key).await {
                Ok(()) => {
                    let _ = self.index.forget_pending(&kv_key);
                }
                // The key is a hash, not a token, but there is no need to log it.
                Err(e) => log_error("warn", "account: KV delete failed, will retry", &e),
            }
        }
    }

    /// Sends due events to the `EVENTS` queue, oldest first and sealed (`event_seal`),
    /// and forgets exactly those the queue accepted. A failed send leaves them for the
    /// alarm, backing off.
    async fn flush_events(&self, cx: &CommandContext) {
        let Ok(queue) = self.env.queue(EVENTS_BINDING) else { return };
        let now = cx.now;
        loop {
            let due = match self.events.due(now) {
                Ok(due) if !due.is_empty() => due,
                Ok(_) => return,
                Err(e) => return log_error("error", "account: event outbox", &e),
            };
            let full = due.len() as u32 == BATCH_LIMIT;
            let (seqs, bodies): (Vec<i64>, Vec<String>) = due.into_iter().map(|e| (e.seq, e.body)).unzip();
            let sent = match seal_all(cx.config.webhook.as_ref(), &bodies).await {
                Ok(messages) => send_sealed(&queue, &messages).await.map_err(|e| e.to_string()),
                Err(e) => Err(format!("sealing: {e}")),
            };
            match sent {
                Ok(()) => {
                    if let Err(e) = self.events.sent(&seqs) {
                        return log_error("error", "account: event outbox", &e);
                    }
                    if !full {
                        return;
                    }
                }
                Err(e) => {
                    log_error("warn", "account: sending events failed, will retry", &e);
                    if let Err(e) = self.events.defer(&seqs, now) {
                        log_error("error", "account: event outbox", &e);
                    }
                    return;
                }
            }
        }
    }

    /// Arms the alarm for the next thing housekeeping must do: a retry of pending
    /// deletes, a ghost to remove, an event to send, or the earliest deadline in the
    /// index.
    pub(super) async fn schedule_housekeeping(&self, now: UnixSeconds) {
        let retry = self.index.has_pending_work().unwrap_or(false).then_some(now + PENDING_RETRY_SECS);
        let next_deadline = self.index.next_deadline().ok().flatten();
        // An event due now is sent by this command's settle; the alarm is the retry, so
        // it is armed as if that send will fail. Any other waits for its own retry time.
        let next_event = self.events.next_attempt(now);
        let Some(next) = [retry, next_deadline, next_event].into_iter().flatten().min() else { return };
        let storage = self.state.storage();
        let current = storage.get_alarm().await.ok().flatten();
        let next_ms = next.max(now + 1) * 1000;
        if current.is_none_or(|at| at > next_ms) {
            // An absolute time: workers-rs reads a bare i64 as an offset from now.
            let at = ScheduledTime::new(js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(next_ms as f64)));
            let _ = storage.set_alarm(at).await;
        }
    }
}
