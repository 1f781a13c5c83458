//! `AccountSessions`: one Durable Object per account, the source of truth for that
//! account's sessions. (The class name is fixed: the wrangler migration names it.)
//!
//! It keeps the account's [`SessionIndex`] and is the only writer of their KV records.
//! Every command runs under one async lock from its first read to its last KV write, so
//! commands for one account never interleave: a touch that starts after a revoke finds
//! no row and writes nothing, and one that started before finishes its KV write before
//! the revoke's delete is sent. (A Durable Object's input gate alone does not give this:
//! it admits new events while the object awaits KV.)
//!
//! Revocation is crash-safe through the index's outbox: a row never leaves without its KV
//! key queued; [`AccountSessions::settle`] then sends the deletes, and the alarm retries
//! any that failed.

use crate::core::account::AccountId;
use crate::core::claims::SessionClaims;
use crate::core::config::Config;
use crate::core::error_code::ErrorCode;
use crate::core::event::EventEnvelope;
use crate::core::event::{RevokeReason, RotationCause, SessionEvent};
use crate::core::policy::{Policy, Touch, TouchKind, Validity};
use crate::core::record::SessionRecord;
use crate::core::token::{SessionId, TokenHash};
use crate::core::UnixSeconds;
use crate::edge::account::event_outbox::{EventOutbox, BATCH_LIMIT};
use crate::edge::account::index::{IndexError, SessionIndex};
use crate::edge::account::protocol::*;
use crate::edge::error::{log_error, ApiError};
use crate::edge::events::emit;
use crate::edge::platform;
use crate::edge::response::json_response;
use crate::edge::session_store::SessionStore;
use crate::edge::settings::load_config;
use futures_util::lock::Mutex;
use worker::{durable_object, DurableObject, Env, Request, Response, Result, ScheduledTime, State};

/// The Queues producer that lifecycle events go to. Without it, events are log lines.
pub const EVENTS_BINDING: &str = "EVENTS";

/// How long to wait before retrying KV deletes that failed.
const PENDING_RETRY_SECS: i64 = 10;

#[durable_object]
pub struct AccountSessions {
    state: State,
    env: Env,
    index: SessionIndex,
    events: EventOutbox,
    /// Serialises commands end to end, including their KV I/O.
    serial: Mutex<()>,
}

impl From<IndexError> for ApiError {
    fn from(e: IndexError) -> Self {
        ApiError::internal("account: index", e)
    }
}

impl DurableObject for AccountSessions {
    fn new(state: State, env: Env) -> Self {
        let index = SessionIndex::open(state.storage().sql());
        let events = EventOutbox::open(state.storage().sql());
        AccountSessions { state, env, index, events, serial: Mutex::new(()) }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        Ok(self.handle(&mut req).await.unwrap_or_else(ApiError::into_response))
    }

    /// Housekeeping: drop expired rows, retry pending KV deletes, re-arm. A failure is
    /// logged with its detail and thrown, so the runtime retries the alarm.
    async fn alarm(&self) -> Result<Response> {
        let _guard = self.serial.lock().await;
        let now = platform::now();
        match self.housekeep(now).await {
            Ok(()) => Response::ok(""),
            Err(e) => {
                e.log_if_internal();
                Err(worker::Error::RustError("account housekeeping failed".into()))
            }
        }
    }
}

impl AccountSessions {
    /// What the alarm does: remove ghost rows and expired sessions (queueing their KV
    /// keys), then flush the queue and re-arm.
    async fn housekeep(&self, now: UnixSeconds) -> std::result::Result<(), ApiError> {
        let store = SessionStore::from_env(&self.env).map_err(|e| ApiError::internal("account: KV binding", e))?;
        let config = load_config(&self.env)?;
        self.index.remove_ghosts(None)?;
        self.purge_expired(&config, &store, now).await?;
        self.settle(&store, now).await;
        Ok(())
    }

    /// Drops rows whose session has ended, queueing their KV keys, but first trusts KV
    /// over the index for an idle deadline: a touch writes KV, then the index, and a
    /// reset between the two leaves the index with the old deadline while KV serves the
    /// extended session. Such a row is brought up to date instead of purged.
    async fn purge_expired(
        &self,
        config: &Config,
        store: &SessionStore,
        now: UnixSeconds,
    ) -> std::result::Result<(), ApiError> {
        let policy = &config.policy;
        for row in self.index.idle_expired(now)? {
            // A failed read adopts nothing: the row is purged as its deadline says.
            let Ok(Some(published)) = store.get(&row.token_hash).await else { continue };
            let newer = row.record().map_or(true, |indexed| published.idle_expires_at > indexed.idle_expires_at);
            if published.session_id == row.session_id && newer && policy.check(&published, now) == Validity::Valid {
                self.index.update(&published)?;
            }
        }
        // From here on no await: each removal and its event commit together.
        for row in self.index.expired(now)? {
            if let Ok(record) = row.record() {
                let validity = policy.check(&record, now);
                self.record(SessionEvent::Expired(validity), &record.account_id, &row.session_id, now);
            }
            self.index.remove(&row.session_id)?;
        }
        self.index.remove_expired(now)?; // ghosts past their deadlines
        if config.sessions_not_before.is_some() {
            // The fleet-wide cut-off needs no KV writes: the edge refuses such sessions
            // already; here their rows go, announced as revoked.
            for row in self.index.all()? {
                let Ok(record) = row.record() else { continue };
                if config.is_cut_off(&record) {
                    self.record(
                        SessionEvent::Revoked(RevokeReason::SessionsNotBefore),
                        &record.account_id,
                        &row.session_id,
                        now,
                    );
                    self.index.remove(&row.session_id)?;
                }
            }
        }
        Ok(())
    }

    /// Writes one event: the audit log line, and, when an `EVENTS` queue is bound, an
    /// outbox row in the same synchronous step as the change it describes (callers do
    /// not await between the two). [`AccountSessions::settle`] sends it.
    fn record(&self, event: SessionEvent, account_id: &AccountId, session_id: &SessionId, now: UnixSeconds) {
        emit(event, account_id, session_id, now);
        if self.env.queue(EVENTS_BINDING).is_err() {
            return;
        }
        let mut random = [0u8; 16];
        if let Err(e) = getrandom::fill(&mut random) {
            log_error("error", "account: event id", &e);
            return;
        }
        let envelope = EventEnvelope::new(event, account_id, session_id, now, random);
        if let Err(e) = self.events.push(&envelope) {
            log_error("error", "account: event outbox", &e);
        }
    }

    /// Sends due events to the `EVENTS` queue, oldest first, and forgets them once the
    /// queue has accepted them. A failed send leaves them for the alarm, backing off.
    async fn flush_events(&self, now: UnixSeconds) {
        let Ok(queue) = self.env.queue(EVENTS_BINDING) else { return };
        loop {
            let due = match self.events.due(now) {
                Ok(due) if !due.is_empty() => due,
                Ok(_) => return,
                Err(e) => return log_error("error", "account: event outbox", &e),
            };
            let (first, last) = (due[0].seq, due[due.len() - 1].seq);
            let full = due.len() as u32 == BATCH_LIMIT;
            let bodies: Vec<String> = due.into_iter().map(|e| e.body).collect();
            match queue.send_batch(bodies).await {
                Ok(()) => {
                    if let Err(e) = self.events.sent(first, last) {
                        return log_error("error", "account: event outbox", &e);
                    }
                    if !full {
                        return;
                    }
                }
                Err(e) => {
                    log_error("warn", "account: sending events failed, will retry", &e);
                    if let Err(e) = self.events.defer(now) {
                        log_error("error", "account: event outbox", &e);
                    }
                    return;
                }
            }
        }
    }

    async fn handle(&self, req: &mut Request) -> std::result::Result<Response, ApiError> {
        let body = req.bytes().await.map_err(|e| ApiError::internal("account: read command", e))?;
        let command: AccountCommand =
            serde_json::from_slice(&body).map_err(|e| ApiError::internal("account: decode command", e))?;
        let config = load_config(&self.env)?;
        let policy = config.policy;
        let store = SessionStore::from_env(&self.env).map_err(|e| ApiError::internal("account: KV binding", e))?;

        let _guard = self.serial.lock().await;
        let now = platform::now();
        match command {
            AccountCommand::Create { record, token_hash } => {
                let evicted = self.create(&config, &store, record, &token_hash, now).await?;
                Ok(json_response(200, &CreateReply { evicted }))
            }
            AccountCommand::Touch { session_id, token_hash, kind } => {
                let reply = self.touch(&policy, &store, &session_id, &token_hash, kind, now).await?;
                Ok(json_response(200, &reply))
            }
            AccountCommand::Revoke { session_id, reason, caller } => {
                self.require_live_caller(&config, caller.as_ref(), now)?;
                let revoked = self.revoke(&store, &session_id, reason, now).await?;
                Ok(json_response(200, &RevokeReply { revoked }))
            }
            AccountCommand::RevokeAll { except, reason, caller } => {
                self.require_live_caller(&config, caller.as_ref(), now)?;
                let revoked = self.revoke_all(&config, &store, except.as_ref(), reason, now).await?;
                Ok(json_response(200, &RevokeAllReply { revoked }))
            }
            AccountCommand::List { limit, caller } => {
                self.require_live_caller(&config, caller.as_ref(), now)?;
                let records: Vec<SessionRecord> =
                    self.index.live(limit, now)?.iter().map(|row| row.record()).collect::<Result<_, _>>()?;
                // Cut-off sessions are gone for every purpose, even before their rows are.
                let sessions = records.into_iter().filter(|r| !config.is_cut_off(r)).collect();
                Ok(json_response(200, &ListReply { sessions }))
            }
            AccountCommand::Verify { session_id, token_hash } => {
                let record = match self.index.get(&session_id)? {
                    Some(row) if row.token_hash == token_hash => Some(row.record()?),
                    _ => None,
                };
                Ok(json_response(200, &VerifyReply { record }))
            }
            AccountCommand::UpdateClaims { session_id, claims } => {
                let updated = self.update_claims(&config, &store, session_id.as_ref(), &claims, now).await?;
                Ok(json_response(200, &ClaimsReply { updated }))
            }
            AccountCommand::Rotate { session_id, new_token_hash, caller, reauthenticated } => {
                if caller.is_some() {
                    self.require_live_caller(&config, caller.as_ref(), now)?;
                }
                let reply = self
                    .rotate(&config, &store, &session_id, &new_token_hash, caller.is_some(), reauthenticated, now)
                    .await?;
                Ok(json_response(200, &reply))
            }
        }
    }

    /// Replaces claims on one live session or all of them. Like a touch: KV first, then
    /// the index, so a failed write leaves the index as it was and the caller retries.
    async fn update_claims(
        &self,
        config: &Config,
        store: &SessionStore,
        only: Option<&SessionId>,
        claims: &SessionClaims,
        now: UnixSeconds,
    ) -> std::result::Result<Vec<SessionRecord>, ApiError> {
        let rows = match only {
            Some(session_id) => self.index.get(session_id)?.into_iter().filter(|r| !r.is_pending()).collect(),
            None => self.index.all()?,
        };
        let mut updated = Vec::new();
        for row in rows {
            let record = row.record()?;
            if config.policy.check(&record, now) != Validity::Valid || config.is_cut_off(&record) {
                continue;
            }
            let changed = SessionRecord { claims: claims.clone(), ..record };
            store
                .put(&row.token_hash, &changed, config.policy.kv_ttl(&changed, now))
                .await
                .map_err(|e| ApiError::internal("account: publish claims", e))?;
            self.index.update(&changed)?;
            self.record(SessionEvent::ClaimsUpdated, &changed.account_id, &changed.session_id, now);
            updated.push(changed);
        }
        self.settle(store, now).await;
        Ok(updated)
    }

    /// Moves a live session to a new token. The index answers to the new hash only from
    /// the same synchronous step that queues the old key's deletion, so the old token is
    /// refused by the object at once, and a touch that raced it finds no match and
    /// writes nothing. Then the new record is published and the old key deleted.
    ///
    /// If the publish fails, the session is left with neither token working at the edge
    /// (the old one is queued for deletion, the new one never reached KV): it fails
    /// closed, and the caller gets a 500 and logs in again.
    #[allow(clippy::too_many_arguments)]
    async fn rotate(
        &self,
        config: &Config,
        store: &SessionStore,
        session_id: &SessionId,
        new_hash: &TokenHash,
        by_holder: bool,
        reauthenticated: Option<Reauthentication>,
        now: UnixSeconds,
    ) -> std::result::Result<RotateReply, ApiError> {
        let policy = &config.policy;
        let Some(row) = self.index.get(session_id)? else { return Ok(RotateReply::NotFound) };
        let record = row.record()?;
        if row.is_pending() || policy.check(&record, now) != Validity::Valid || config.is_cut_off(&record) {
            return Ok(RotateReply::NotFound);
        }
        let reauthenticating = reauthenticated.is_some();
        let rotated = match reauthenticated {
            Some(Reauthentication { aal, amr }) => policy.reauthenticate(&record, aal, amr, now),
            None => record,
        };
        self.index.rekey(&rotated, new_hash)?;
        if reauthenticating {
            self.record(SessionEvent::Reauthenticated, &rotated.account_id, session_id, now);
        }
        let cause = if by_holder { RotationCause::Holder } else { RotationCause::Reauthentication };
        self.record(SessionEvent::Rotated(cause), &rotated.account_id, session_id, now);
        self.schedule_housekeeping(now).await;
        let published = store.put(new_hash, &rotated, policy.kv_ttl(&rotated, now)).await;
        self.settle(store, now).await;
        published.map_err(|e| ApiError::internal("account: publish rotated session", e))?;
        Ok(RotateReply::Rotated { record: rotated })
    }

    async fn create(
        &self,
        config: &Config,
        store: &SessionStore,
        record: SessionRecord,
        hash: &TokenHash,
        now: UnixSeconds,
    ) -> std::result::Result<Vec<SessionId>, ApiError> {
        let policy = &config.policy;
        // A retry of a create whose reply was lost: answer as the first attempt did,
        // evicting nobody again. A retry of one cut short before KV confirmed it
        // publishes it now.
        if let Some(existing) = self.index.get(&record.session_id)? {
            if existing.token_hash != *hash {
                return Err(ApiError::internal("account: create", "session id indexed under another hash"));
            }
            if !existing.is_pending() {
                return Ok(existing.evicted());
            }
        } else {
            // A login that checked the credentials before the account signed out
            // everywhere (a password change) must not open a session after it.
            if self.index.revoked_all_at()?.is_some_and(|at| record.authenticated_at < at) || config.is_cut_off(&record)
            {
                return Err(ApiError::new(ErrorCode::StaleAuthentication));
            }
            self.index.insert(&record, hash)?;
        }
        // Index first (pending), then KV, then confirm: a KV record the index does not
        // know could never be revoked, and a pending row that a reset leaves behind
        // counts toward nothing. Evictions are decided now but applied only once the
        // new session is published, so a failed create evicts nobody.
        self.index.remove_ghosts(Some(&record.session_id))?;
        self.purge_expired(config, store, now).await?;
        let evicted = policy.evict(&self.index.entries()?);
        self.schedule_housekeeping(now).await;

        if let Err(e) = store.put(hash, &record, policy.kv_ttl(&record, now)).await {
            // Not published (or published despite the error): drop the row, which queues
            // its key, so nothing the index does not know can stay in KV.
            self.index.remove(&record.session_id)?;
            self.settle(store, now).await;
            return Err(ApiError::internal("account: publish new session", e));
        }
        for session_id in &evicted {
            self.index.remove(session_id)?;
        }
        self.index.confirm(&record.session_id, &evicted)?;
        self.record(SessionEvent::Created, &record.account_id, &record.session_id, now);
        for session_id in &evicted {
            self.record(SessionEvent::Evicted, &record.account_id, session_id, now);
        }
        self.settle(store, now).await;
        Ok(evicted)
    }

    async fn touch(
        &self,
        policy: &Policy,
        store: &SessionStore,
        session_id: &SessionId,
        hash: &TokenHash,
        kind: TouchKind,
        now: UnixSeconds,
    ) -> std::result::Result<TouchReply, ApiError> {
        let Some(row) = self.index.get(session_id)? else { return Ok(TouchReply::NotFound) };
        if row.token_hash != *hash {
            return Ok(TouchReply::NotFound);
        }
        let record = row.record()?;
        match policy.extend_for(kind, &record, now) {
            Touch::NotDue => Ok(TouchReply::NotDue { record }),
            Touch::Expired(validity) => Ok(TouchReply::Expired { validity }),
            Touch::Extended(extended) => {
                // KV first, then the index: if the write fails, the index still holds
                // the old deadline, so the next touch is due again and retries it.
                // (The lock keeps a revoke from running in between.)
                store
                    .put(hash, &extended, policy.kv_ttl(&extended, now))
                    .await
                    .map_err(|e| ApiError::internal("account: publish touch", e))?;
                self.index.update(&extended)?;
                self.record(SessionEvent::Refreshed(kind), &extended.account_id, session_id, now);
                self.settle(store, now).await;
                Ok(TouchReply::Extended { record: extended })
            }
        }
    }

    async fn revoke(
        &self,
        store: &SessionStore,
        session_id: &SessionId,
        reason: RevokeReason,
        now: UnixSeconds,
    ) -> std::result::Result<bool, ApiError> {
        let Some(row) = self.index.get(session_id)? else { return Ok(false) };
        self.index.remove(session_id)?;
        // An unreadable row is still revoked; it only goes unannounced.
        if let Ok(record) = row.record() {
            self.record(SessionEvent::Revoked(reason), &record.account_id, session_id, now);
        }
        self.settle(store, now).await;
        Ok(true)
    }

    /// Revokes every session of the account except `except`; returns how many.
    async fn revoke_all(
        &self,
        config: &Config,
        store: &SessionStore,
        except: Option<&SessionId>,
        reason: RevokeReason,
        now: UnixSeconds,
    ) -> std::result::Result<u32, ApiError> {
        // Expired rows are housekeeping, not revocations: not counted, and announced as
        // expired, not revoked.
        self.purge_expired(config, store, now).await?;
        self.index.remove_ghosts(None)?;
        self.index.set_revoked_all_at(now)?;
        let mut revoked = 0;
        for row in self.index.all()? {
            if Some(&row.session_id) == except {
                continue;
            }
            self.index.remove(&row.session_id)?;
            revoked += 1;
            if let Ok(record) = row.record() {
                self.record(SessionEvent::Revoked(reason), &record.account_id, &row.session_id, now);
            }
        }
        self.settle(store, now).await;
        Ok(revoked)
    }

    /// Account-scoped commands from a session holder run only while the caller's own
    /// session is live in the index: a revoked session cannot list or revoke others,
    /// even while KV still has its stale copy.
    fn require_live_caller(
        &self,
        config: &Config,
        caller: Option<&Caller>,
        now: UnixSeconds,
    ) -> std::result::Result<(), ApiError> {
        let Some(caller) = caller else { return Ok(()) };
        let row =
            self.index.get(&caller.session_id)?.filter(|row| row.token_hash == caller.token_hash && !row.is_pending());
        let Some(row) = row else {
            return Err(ApiError::new(ErrorCode::SessionNotFound));
        };
        let record = row.record()?;
        if config.is_cut_off(&record) {
            return Err(ApiError::new(ErrorCode::SessionRevoked));
        }
        match config.policy.check(&record, now) {
            Validity::Valid => Ok(()),
            _ => Err(ApiError::new(ErrorCode::SessionExpired)),
        }
    }

    /// Finishes a command that changed something: arms the alarm first, then sends the
    /// queued KV deletes and events, so a reset halfway through still leaves a retry
    /// scheduled.
    async fn settle(&self, store: &SessionStore, now: UnixSeconds) {
        self.schedule_housekeeping(now).await;
        self.flush_pending_deletes(store).await;
        self.flush_events(now).await;
    }

    /// Sends every queued KV delete; the ones that fail stay queued for the alarm.
    async fn flush_pending_deletes(&self, store: &SessionStore) {
        let Ok(keys) = self.index.pending_deletes() else { return };
        for kv_key in keys {
            match store.delete(&kv_key).await {
                Ok(()) => {
                    let _ = self.index.forget_pending(&kv_key);
                }
                // The key is a hash, not a token, but there is no need to log it.
                Err(e) => log_error("warn", "account: KV delete failed, will retry", &e),
            }
        }
    }

    /// Arms the alarm for the next thing housekeeping must do: a retry of pending
    /// deletes, a ghost to remove, an event to send, or the earliest deadline in the
    /// index.
    async fn schedule_housekeeping(&self, now: UnixSeconds) {
        let retry = self.index.has_pending_work().unwrap_or(false).then_some(now + PENDING_RETRY_SECS);
        let next_deadline = self.index.next_deadline().ok().flatten();
        // An event recorded now is sent by this command's settle; the alarm is the
        // retry, so it is armed as if that send will fail.
        let next_event = self.events.next_attempt().map(|at| at.max(now + PENDING_RETRY_SECS));
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
