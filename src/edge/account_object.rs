//! `AccountSessions`: one Durable Object per account, the source of truth for that
//! account's sessions.
//!
//! It keeps a SQLite index of the account's sessions and is the only writer of their KV
//! records. Every command runs under one async lock from its first read to its last KV
//! write, so commands for one account never interleave: a touch that starts after a
//! revoke finds no row and writes nothing, and one that started before finishes its KV
//! write before the revoke's delete is sent. (A Durable Object's input gate alone does
//! not give this: it admits new events while the object awaits KV.)
//!
//! Revocation is crash-safe through an outbox: the index row is dropped and the KV key
//! recorded in `pending_kv_deletes` in one synchronous step (one implicit transaction),
//! then the KV delete is attempted; a key whose delete failed stays pending and the
//! alarm retries it.

use crate::core::policy::{IndexEntry, Policy, Touch, Validity};
use crate::core::record::SessionRecord;
use crate::core::token::{SessionId, TokenHash, KV_KEY_PREFIX};
use crate::core::UnixSeconds;
use crate::edge::account_protocol::*;
use crate::edge::events::{emit, EventType};
use crate::edge::http::{json_response, ApiError};
use crate::edge::platform;
use crate::edge::session_store::SessionStore;
use crate::edge::settings::load_config;
use futures_util::lock::Mutex;
use serde::Deserialize;
use worker::{durable_object, DurableObject, Env, Request, Response, Result, ScheduledTime, SqlStorage, SqlStorageValue, State};

/// How long to wait before retrying KV deletes that failed.
const PENDING_RETRY_SECS: i64 = 10;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sessions (
    session_id          TEXT PRIMARY KEY,
    token_hash          TEXT NOT NULL UNIQUE,
    created_at          INTEGER NOT NULL,
    idle_expires_at     INTEGER NOT NULL,
    absolute_expires_at INTEGER NOT NULL,
    record              TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS pending_kv_deletes (
    kv_key TEXT PRIMARY KEY
);";

#[durable_object]
pub struct AccountSessions {
    state: State,
    env: Env,
    /// Serialises commands end to end, including their KV I/O.
    serial: Mutex<()>,
}

#[derive(Deserialize)]
struct SessionRow {
    session_id: String,
    token_hash: String,
    record: String,
}

#[derive(Deserialize)]
struct EntryRow {
    session_id: String,
    created_at: i64,
    seq: i64,
}

#[derive(Deserialize)]
struct KeyRow {
    kv_key: String,
}

#[derive(Deserialize)]
struct NextDeadline {
    next: Option<i64>,
}

impl DurableObject for AccountSessions {
    fn new(state: State, env: Env) -> Self {
        // Synchronous and idempotent; a failure here surfaces on the first query.
        let _ = state.storage().sql().exec(SCHEMA, None);
        AccountSessions { state, env, serial: Mutex::new(()) }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        Ok(match self.handle(&mut req).await {
            Ok(response) => response,
            Err(err) => err.into_response(),
        })
    }

    /// Housekeeping: retry pending KV deletes, drop expired rows, re-arm.
    async fn alarm(&self) -> Result<Response> {
        let _guard = self.serial.lock().await;
        let now = platform::now();
        let store = SessionStore::from_env(&self.env).map_err(|e| worker::Error::RustError(e.to_string()))?;
        let sql = self.sql();
        self.purge_expired(&sql, now).map_err(|e| worker::Error::RustError(e.message))?;
        self.settle(&sql, &store, now).await;
        Response::ok("")
    }
}

impl AccountSessions {
    fn sql(&self) -> SqlStorage {
        self.state.storage().sql()
    }

    async fn handle(&self, req: &mut Request) -> std::result::Result<Response, ApiError> {
        let body = req.bytes().await.map_err(|e| ApiError::internal("account: read command", e))?;
        let command: AccountCommand =
            serde_json::from_slice(&body).map_err(|e| ApiError::internal("account: decode command", e))?;
        let policy = load_config(&self.env)?.policy;
        let store = SessionStore::from_env(&self.env).map_err(|e| ApiError::internal("account: KV binding", e))?;

        let _guard = self.serial.lock().await;
        let now = platform::now();
        match command {
            AccountCommand::Create { record, token_hash } => {
                let hash = TokenHash::parse(&token_hash).ok_or_else(|| ApiError::internal("account: create", "bad hash"))?;
                let evicted = self.create(&policy, &store, record, hash, now).await?;
                Ok(json_response(200, &CreateReply { evicted }))
            }
            AccountCommand::Touch { session_id, token_hash, forced } => {
                let reply = self.touch(&policy, &store, &session_id, &token_hash, forced, now).await?;
                Ok(json_response(200, &reply))
            }
            AccountCommand::Revoke { session_id, reason, caller } => {
                self.require_live_caller(&policy, caller.as_ref(), now)?;
                let revoked = self.revoke(&store, &session_id, &reason, now).await?;
                Ok(json_response(200, &RevokeReply { revoked }))
            }
            AccountCommand::RevokeAll { except, reason, caller } => {
                self.require_live_caller(&policy, caller.as_ref(), now)?;
                let revoked = self.revoke_all(&store, except.as_ref(), &reason, now).await?;
                Ok(json_response(200, &RevokeAllReply { revoked }))
            }
            AccountCommand::List { limit, caller } => {
                self.require_live_caller(&policy, caller.as_ref(), now)?;
                Ok(json_response(200, &ListReply { sessions: self.list(limit, now)? }))
            }
            AccountCommand::Verify { session_id, token_hash } => {
                let record = match self.row(&self.sql(), &session_id)? {
                    Some(row) if row.token_hash == token_hash => Some(decode_row(&row)?),
                    _ => None,
                };
                Ok(json_response(200, &VerifyReply { record }))
            }
        }
    }

    async fn create(
        &self,
        policy: &Policy,
        store: &SessionStore,
        record: SessionRecord,
        hash: TokenHash,
        now: UnixSeconds,
    ) -> std::result::Result<Vec<SessionId>, ApiError> {
        let sql = self.sql();
        // Index first, then KV: a KV record the index does not know could never be
        // revoked. Evictions are decided now but applied only once the new session is
        // published, so a failed create evicts nobody.
        self.purge_expired(&sql, now)?;
        let entries: Vec<EntryRow> = query(&sql, "SELECT session_id, created_at, rowid AS seq FROM sessions", vec![])?;
        let index: Vec<IndexEntry> = entries
            .into_iter()
            .filter_map(|e| Some(IndexEntry { session_id: SessionId::parse(&e.session_id)?, created_at: e.created_at, seq: e.seq }))
            .collect();
        let evicted = policy.evict(&index);
        exec(
            &sql,
            "INSERT INTO sessions (session_id, token_hash, created_at, idle_expires_at, absolute_expires_at, record)
             VALUES (?, ?, ?, ?, ?, ?)",
            vec![
                record.session_id.as_str().into(),
                hash.as_str().into(),
                record.created_at.into(),
                record.idle_expires_at.into(),
                record.absolute_expires_at.into(),
                record.encode().into(),
            ],
        )?;
        self.schedule_housekeeping(&sql, now).await;

        if let Err(e) = store.put(&hash, &record, policy.kv_ttl(&record, now)).await {
            // Not published (or published despite the error): drop the row and queue
            // its key, so nothing the index does not know can stay in KV.
            self.drop_row(&sql, &record.session_id)?;
            self.settle(&sql, store, now).await;
            return Err(ApiError::internal("account: publish new session", e));
        }
        for session_id in &evicted {
            self.drop_row(&sql, session_id)?;
        }
        emit(EventType::SessionCreated, &record.account_id, &record.session_id, "created", now);
        for session_id in &evicted {
            emit(EventType::SessionEvicted, &record.account_id, session_id, "session_limit", now);
        }
        self.settle(&sql, store, now).await;
        Ok(evicted)
    }

    async fn touch(
        &self,
        policy: &Policy,
        store: &SessionStore,
        session_id: &SessionId,
        token_hash: &str,
        forced: bool,
        now: UnixSeconds,
    ) -> std::result::Result<TouchReply, ApiError> {
        let sql = self.sql();
        let not_found = TouchReply { outcome: TouchOutcome::NotFound, record: None };
        let Some(row) = self.row(&sql, session_id)? else { return Ok(not_found) };
        if row.token_hash != token_hash {
            return Ok(not_found);
        }
        let record = decode_row(&row)?;
        let decision = if forced { policy.refresh(&record, now) } else { policy.touch(&record, now) };
        match decision {
            Touch::NotDue => Ok(TouchReply { outcome: TouchOutcome::NotDue, record: Some(record) }),
            Touch::Expired(validity) => {
                let outcome = match validity {
                    Validity::ExpiredAbsolute => TouchOutcome::ExpiredAbsolute,
                    _ => TouchOutcome::ExpiredIdle,
                };
                Ok(TouchReply { outcome, record: Some(record) })
            }
            Touch::Extended(extended) => {
                let hash = TokenHash::parse(token_hash).ok_or_else(|| ApiError::internal("account: touch", "bad hash"))?;
                // KV first, then the index: if the write fails, the index still holds
                // the old deadline, so the next touch is due again and retries it.
                // (The lock keeps a revoke from running in between.)
                store
                    .put(&hash, &extended, policy.kv_ttl(&extended, now))
                    .await
                    .map_err(|e| ApiError::internal("account: publish touch", e))?;
                exec(
                    &sql,
                    "UPDATE sessions SET idle_expires_at = ?, record = ? WHERE session_id = ?",
                    vec![extended.idle_expires_at.into(), extended.encode().into(), session_id.as_str().into()],
                )?;
                let reason = if forced { "refresh" } else { "touch" };
                emit(EventType::SessionRefreshed, &extended.account_id, session_id, reason, now);
                Ok(TouchReply { outcome: TouchOutcome::Extended, record: Some(extended) })
            }
        }
    }

    async fn revoke(
        &self,
        store: &SessionStore,
        session_id: &SessionId,
        reason: &str,
        now: UnixSeconds,
    ) -> std::result::Result<bool, ApiError> {
        let sql = self.sql();
        let Some(row) = self.row(&sql, session_id)? else { return Ok(false) };
        self.drop_row(&sql, session_id)?;
        if let Ok(record) = decode_row(&row) {
            emit(EventType::SessionRevoked, &record.account_id, session_id, reason, now);
        }
        self.settle(&sql, store, now).await;
        Ok(true)
    }

    /// Revokes every session of the account except `except`; returns how many.
    async fn revoke_all(
        &self,
        store: &SessionStore,
        except: Option<&SessionId>,
        reason: &str,
        now: UnixSeconds,
    ) -> std::result::Result<u32, ApiError> {
        let sql = self.sql();
        // Expired rows are housekeeping, not revocations: neither counted nor logged.
        self.purge_expired(&sql, now)?;
        let rows: Vec<SessionRow> = query(&sql, "SELECT session_id, token_hash, record FROM sessions", vec![])?;
        let mut revoked = 0;
        for row in rows {
            let Some(session_id) = SessionId::parse(&row.session_id) else { continue };
            if Some(&session_id) == except {
                continue;
            }
            self.drop_row(&sql, &session_id)?;
            revoked += 1;
            if let Ok(record) = decode_row(&row) {
                emit(EventType::SessionRevoked, &record.account_id, &session_id, reason, now);
            }
        }
        self.settle(&sql, store, now).await;
        Ok(revoked)
    }

    /// Live sessions, newest first. Expired rows never show, even before the alarm
    /// has removed them.
    fn list(&self, limit: u32, now: UnixSeconds) -> std::result::Result<Vec<SessionRecord>, ApiError> {
        let rows: Vec<SessionRow> = query(
            &self.sql(),
            "SELECT session_id, token_hash, record FROM sessions
             WHERE idle_expires_at > ? AND absolute_expires_at > ?
             ORDER BY created_at DESC, rowid DESC LIMIT ?",
            vec![now.into(), now.into(), i64::from(limit).into()],
        )?;
        rows.iter().map(decode_row).collect()
    }

    /// Account-scoped commands from a session holder run only while the caller's own
    /// session is live in the index: a revoked session cannot list or revoke others,
    /// even while KV still has its stale copy.
    fn require_live_caller(
        &self,
        policy: &Policy,
        caller: Option<&SessionId>,
        now: UnixSeconds,
    ) -> std::result::Result<(), ApiError> {
        let Some(caller) = caller else { return Ok(()) };
        let Some(row) = self.row(&self.sql(), caller)? else {
            return Err(ApiError::unauthorized("session_not_found", "no session matches this token"));
        };
        match policy.check(&decode_row(&row)?, now) {
            Validity::Valid => Ok(()),
            _ => Err(ApiError::unauthorized("session_expired", "the session has expired")),
        }
    }

    fn row(&self, sql: &SqlStorage, session_id: &SessionId) -> std::result::Result<Option<SessionRow>, ApiError> {
        let rows: Vec<SessionRow> = query(
            sql,
            "SELECT session_id, token_hash, record FROM sessions WHERE session_id = ?",
            vec![session_id.as_str().into()],
        )?;
        Ok(rows.into_iter().next().filter(|r| r.session_id == session_id.as_str()))
    }

    /// Drops one row and queues its KV key for deletion, in one synchronous step.
    fn drop_row(&self, sql: &SqlStorage, session_id: &SessionId) -> std::result::Result<(), ApiError> {
        exec(
            sql,
            "INSERT OR IGNORE INTO pending_kv_deletes (kv_key)
             SELECT ? || token_hash FROM sessions WHERE session_id = ?",
            vec![KV_KEY_PREFIX.into(), session_id.as_str().into()],
        )?;
        exec(sql, "DELETE FROM sessions WHERE session_id = ?", vec![session_id.as_str().into()])
    }

    /// Drops rows whose session can no longer be valid, queueing their KV keys.
    fn purge_expired(&self, sql: &SqlStorage, now: UnixSeconds) -> std::result::Result<(), ApiError> {
        let expired = "idle_expires_at <= ? OR absolute_expires_at <= ?";
        exec(
            sql,
            &format!("INSERT OR IGNORE INTO pending_kv_deletes (kv_key) SELECT ? || token_hash FROM sessions WHERE {expired}"),
            vec![KV_KEY_PREFIX.into(), now.into(), now.into()],
        )?;
        exec(sql, &format!("DELETE FROM sessions WHERE {expired}"), vec![now.into(), now.into()])
    }

    /// Finishes a command that queued KV deletes: arms the alarm first, then sends the
    /// deletes, so a reset halfway through the flush still leaves a retry scheduled.
    async fn settle(&self, sql: &SqlStorage, store: &SessionStore, now: UnixSeconds) {
        self.schedule_housekeeping(sql, now).await;
        self.flush_pending_deletes(store).await;
    }

    /// Sends every queued KV delete; the ones that fail stay queued for the alarm.
    async fn flush_pending_deletes(&self, store: &SessionStore) {
        let sql = self.sql();
        let Ok(keys) = query::<KeyRow>(&sql, "SELECT kv_key FROM pending_kv_deletes", vec![]) else { return };
        for KeyRow { kv_key } in keys {
            match store.delete(&kv_key).await {
                Ok(()) => {
                    let _ = exec(&sql, "DELETE FROM pending_kv_deletes WHERE kv_key = ?", vec![kv_key.into()]);
                }
                Err(e) => {
                    // The key is a hash, not a token, but there is no need to log it.
                    crate::edge::http::log_error("warn", "account: KV delete failed, will retry", &e);
                }
            }
        }
    }

    /// Arms the alarm for the next thing housekeeping must do: a retry of pending
    /// deletes, or the earliest deadline in the index.
    async fn schedule_housekeeping(&self, sql: &SqlStorage, now: UnixSeconds) {
        let pending: Vec<KeyRow> = query(sql, "SELECT kv_key FROM pending_kv_deletes LIMIT 1", vec![]).unwrap_or_default();
        let next_deadline: Option<i64> =
            query::<NextDeadline>(sql, "SELECT MIN(MIN(idle_expires_at, absolute_expires_at)) AS next FROM sessions", vec![])
                .ok()
                .and_then(|rows| rows.into_iter().next())
                .and_then(|r| r.next);
        let retry = (!pending.is_empty()).then_some(now + PENDING_RETRY_SECS);
        let Some(next) = [retry, next_deadline].into_iter().flatten().min() else { return };
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

fn decode_row(row: &SessionRow) -> std::result::Result<SessionRecord, ApiError> {
    SessionRecord::decode(row.record.as_bytes()).map_err(|e| ApiError::internal("account: index row", e))
}

fn exec(sql: &SqlStorage, statement: &str, bindings: Vec<SqlStorageValue>) -> std::result::Result<(), ApiError> {
    sql.exec(statement, bindings).map(|_| ()).map_err(|e| ApiError::internal("account: sql", e))
}

fn query<T: serde::de::DeserializeOwned>(
    sql: &SqlStorage,
    statement: &str,
    bindings: Vec<SqlStorageValue>,
) -> std::result::Result<Vec<T>, ApiError> {
    sql.exec(statement, bindings)
        .and_then(|cursor| cursor.to_array())
        .map_err(|e| ApiError::internal("account: sql", e))
}
