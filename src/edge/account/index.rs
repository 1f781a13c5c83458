//! The account Durable Object's SQLite storage: its index of sessions and its outbox of
//! KV deletes. The layout is documented in docs/storage.md.
//!
//! One rule holds by construction: **no row leaves the index without its KV key queued
//! for deletion.** [`SessionIndex::remove`] and [`SessionIndex::remove_expired`] are the
//! only deletes, and each queues the key and drops the row in one synchronous step (one
//! implicit SQLite transaction), so a reset can never lose a key that KV still serves.

use crate::core::drift::Baseline;
use crate::core::policy::IndexEntry;
use crate::core::record::{DecodeError, SessionRecord};
use crate::core::rotation_retry::PreviousToken;
use crate::core::token::{SessionId, TokenHash, KV_KEY_PREFIX};
use crate::core::{UnixMillis, UnixSeconds};
use serde::Deserialize;
use std::fmt;
use worker::{SqlStorage, SqlStorageValue};

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
);
CREATE TABLE IF NOT EXISTS revoked_tokens (
    token_hash TEXT PRIMARY KEY,
    revoked_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS account_facts (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);";

/// How long a revoked token's time is kept: well past KV's ~60 s, after which no
/// location still serves the revoked copy.
pub const REVOKED_MEMORY_SECS: i64 = 3600;

/// `account_facts` rows: when the account last had every session revoked, in whole
/// seconds (what builds before milliseconds read, so a rollback keeps the fence) and in
/// milliseconds.
const REVOKED_ALL_AT: &str = "revoked_all_at";
const REVOKED_ALL_AT_MS: &str = "revoked_all_at_ms";

/// Columns added after the first schema. Each `ADD COLUMN` fails harmlessly ("duplicate
/// column") on an object that already has it, so this runs on every start, against an
/// object created by any earlier build (docs/storage.md, "Migrating").
const MIGRATIONS: [&str; 8] = [
    // 1 from insert until KV confirmed the put: a row a reset left behind (a ghost)
    // counts toward nothing and the alarm removes it.
    "ALTER TABLE sessions ADD COLUMN pending INTEGER NOT NULL DEFAULT 0",
    // The ids a create evicted, as JSON, so a retried create answers the same.
    "ALTER TABLE sessions ADD COLUMN evicted TEXT",
    // The token the last holder rotation moved away from, and when: that token may
    // retry the rotation for a short window (core::rotation_retry).
    "ALTER TABLE sessions ADD COLUMN previous_token_hash TEXT",
    "ALTER TABLE sessions ADD COLUMN rotated_at INTEGER",
    // A device-bound session's public key (JWK JSON), and the issue time of the newest
    // refresh challenge it answered: an older or equal one is a replay.
    "ALTER TABLE sessions ADD COLUMN device_jwk TEXT",
    "ALTER TABLE sessions ADD COLUMN device_challenge_ms INTEGER",
    // Who acts as the user in an impersonation session (its record says so too); NULL
    // for the user's own sessions, and for every row older than the column, which were
    // all the user's own. Only the user's own count toward the session limit.
    "ALTER TABLE sessions ADD COLUMN actor TEXT",
    // The client the session was first used by, as JSON (core::drift::Baseline); the
    // KV record carries only its digest. NULL: none taken yet.
    "ALTER TABLE sessions ADD COLUMN baseline TEXT",
];

/// Why the index could not answer.
#[derive(Debug)]
pub enum IndexError {
    Sql(String),
    /// A stored record this build cannot read.
    Decode(DecodeError),
}

impl fmt::Display for IndexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IndexError::Sql(e) => write!(f, "sql: {e}"),
            IndexError::Decode(e) => write!(f, "index row: {e}"),
        }
    }
}

/// One session in the index.
#[derive(Deserialize)]
pub struct IndexRow {
    pub session_id: SessionId,
    pub token_hash: TokenHash,
    record: String,
    /// Not yet confirmed in KV (see [`SessionIndex::insert`]).
    pending: i64,
    evicted: Option<String>,
    previous_token_hash: Option<TokenHash>,
    rotated_at: Option<i64>,
    baseline: Option<String>,
}

impl IndexRow {
    pub fn record(&self) -> Result<SessionRecord, IndexError> {
        SessionRecord::decode(self.record.as_bytes()).map_err(IndexError::Decode)
    }

    pub fn is_pending(&self) -> bool {
        self.pending != 0
    }

    /// The token the last holder rotation moved this session away from, if any.
    pub fn previous_token(&self) -> Option<PreviousToken> {
        Some(PreviousToken { hash: self.previous_token_hash.clone()?, rotated_at: self.rotated_at? })
    }

    /// The session's full baseline, if one was taken (one this build cannot read counts
    /// as none: the next use takes a new one).
    pub fn baseline(&self) -> Option<Baseline> {
        self.baseline.as_deref().and_then(|json| serde_json::from_str(json).ok())
    }

    /// What the create of this session evicted (empty for rows older than the column).
    pub fn evicted(&self) -> Vec<SessionId> {
        self.evicted.as_deref().and_then(|json| serde_json::from_str(json).ok()).unwrap_or_default()
    }
}

/// The columns every [`IndexRow`] query selects.
const ROW: &str = "session_id, token_hash, record, pending, evicted, previous_token_hash, rotated_at, baseline";

/// What a move to a new token does with the token it moves away from.
pub enum OldToken {
    /// A holder's rotation: remember it, so it may retry while the window is open.
    Remember { at: UnixSeconds },
    /// A retry of that rotation: the token remembered stays the one remembered, and the
    /// window keeps its start.
    KeepRemembered,
    /// A reauthentication: no token from before it may retry into the renewed session.
    Forget,
}

#[derive(Deserialize)]
struct DeviceKeyRow {
    device_jwk: Option<String>,
}

#[derive(Deserialize)]
struct EntryRow {
    session_id: SessionId,
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

pub struct SessionIndex {
    sql: SqlStorage,
}

impl SessionIndex {
    /// Opens the index, creating its tables if this object has none yet. Synchronous and
    /// idempotent; a failure here surfaces on the first query.
    pub fn open(sql: SqlStorage) -> Self {
        let _ = sql.exec(SCHEMA, None);
        for migration in MIGRATIONS {
            let _ = sql.exec(migration, None);
        }
        SessionIndex { sql }
    }

    /// One session, pending or not.
    pub fn get(&self, session_id: &SessionId) -> Result<Option<IndexRow>, IndexError> {
        let rows: Vec<IndexRow> =
            self.query(&format!("SELECT {ROW} FROM sessions WHERE session_id = ?"), vec![session_id.as_str().into()])?;
        Ok(rows.into_iter().next())
    }

    /// The session indexed under this token hash, pending or not.
    pub fn get_by_hash(&self, hash: &TokenHash) -> Result<Option<IndexRow>, IndexError> {
        let rows: Vec<IndexRow> =
            self.query(&format!("SELECT {ROW} FROM sessions WHERE token_hash = ?"), vec![hash.as_str().into()])?;
        Ok(rows.into_iter().next())
    }

    /// Every confirmed session.
    pub fn all(&self) -> Result<Vec<IndexRow>, IndexError> {
        self.query(&format!("SELECT {ROW} FROM sessions WHERE pending = 0"), vec![])
    }

    /// Confirmed sessions past either deadline in the index.
    pub fn expired(&self, now: UnixSeconds) -> Result<Vec<IndexRow>, IndexError> {
        self.query(
            &format!(
                "SELECT {ROW} FROM sessions WHERE pending = 0 AND (idle_expires_at <= ? OR absolute_expires_at <= ?)"
            ),
            vec![now.into(), now.into()],
        )
    }

    /// Confirmed sessions whose idle deadline in the index has passed while their
    /// absolute one has not: the ones a lost index update could make look expired.
    pub fn idle_expired(&self, now: UnixSeconds) -> Result<Vec<IndexRow>, IndexError> {
        self.query(
            &format!(
                "SELECT {ROW} FROM sessions WHERE pending = 0 AND idle_expires_at <= ? AND absolute_expires_at > ?"
            ),
            vec![now.into(), now.into()],
        )
    }

    /// Live sessions, newest first. Expired rows never show, even before the alarm has
    /// removed them. Same-second sessions: the last indexed first.
    pub fn live(&self, limit: u32, now: UnixSeconds) -> Result<Vec<IndexRow>, IndexError> {
        self.query(
            &format!(
                "SELECT {ROW} FROM sessions
                 WHERE pending = 0 AND idle_expires_at > ? AND absolute_expires_at > ?
                 ORDER BY created_at DESC, rowid DESC LIMIT ?"
            ),
            vec![now.into(), now.into(), i64::from(limit).into()],
        )
    }

    /// Every confirmed row as eviction sees it, with its insertion order. Pending rows
    /// are not here: a ghost never counts toward the limit, so it never evicts anyone.
    /// Nor are impersonation sessions: they are not the user's devices.
    pub fn entries(&self) -> Result<Vec<IndexEntry>, IndexError> {
        let rows: Vec<EntryRow> = self.query(
            "SELECT session_id, created_at, rowid AS seq FROM sessions WHERE pending = 0 AND actor IS NULL",
            vec![],
        )?;
        Ok(rows
            .into_iter()
            .map(|e| IndexEntry { session_id: e.session_id, created_at: e.created_at, seq: e.seq })
            .collect())
    }

    /// Indexes a new session as pending: it counts for nothing until
    /// [`SessionIndex::confirm`] records that KV has it. The row now owns its KV key, so
    /// a delete of that key still queued from an earlier attempt is dropped.
    pub fn insert(&self, record: &SessionRecord, hash: &TokenHash) -> Result<(), IndexError> {
        self.exec("DELETE FROM pending_kv_deletes WHERE kv_key = ?", vec![hash.kv_key().into()])?;
        self.exec(
            "INSERT INTO sessions
                 (session_id, token_hash, created_at, idle_expires_at, absolute_expires_at, record, pending, actor)
             VALUES (?, ?, ?, ?, ?, ?, 1, ?)",
            vec![
                record.session_id.as_str().into(),
                hash.as_str().into(),
                record.created_at.into(),
                record.idle_expires_at.into(),
                record.absolute_expires_at.into(),
                record.encode().into(),
                match &record.impersonation {
                    Some(imp) => imp.actor.as_str().into(),
                    None => SqlStorageValue::Null,
                },
            ],
        )
    }

    /// KV has the new session: it counts from now on. `evicted` is kept so a retried
    /// create can answer the same.
    pub fn confirm(&self, session_id: &SessionId, evicted: &[SessionId]) -> Result<(), IndexError> {
        let evicted = serde_json::to_string(evicted).map_err(|e| IndexError::Sql(e.to_string()))?;
        self.exec(
            "UPDATE sessions SET pending = 0, evicted = ? WHERE session_id = ?",
            vec![evicted.into(), session_id.as_str().into()],
        )
    }

    /// Removes every pending row except `keep`, queueing their keys (the put may have
    /// landed before the reset). Commands run one at a time, so a pending row seen by
    /// any other command is a ghost.
    pub fn remove_ghosts(&self, keep: Option<&SessionId>) -> Result<(), IndexError> {
        let keep = keep.map_or("", SessionId::as_str);
        self.exec(
            "INSERT OR IGNORE INTO pending_kv_deletes (kv_key)
             SELECT ? || token_hash FROM sessions WHERE pending = 1 AND session_id != ?",
            vec![KV_KEY_PREFIX.into(), keep.into()],
        )?;
        self.exec("DELETE FROM sessions WHERE pending = 1 AND session_id != ?", vec![keep.into()])
    }

    /// When every session of the account was last revoked (log out everywhere, by the
    /// holder or the admin), if ever, in milliseconds. An object whose last revoke-all
    /// an older build recorded has only the second: read as its first millisecond, which
    /// fences exactly what that build fenced.
    pub fn revoked_all_at(&self) -> Result<Option<UnixMillis>, IndexError> {
        // The later of the two: a build without milliseconds (a rollback) may have
        // written a newer second since.
        let secs = self.fact(REVOKED_ALL_AT)?.map(|s| s.saturating_mul(1000));
        Ok(self.fact(REVOKED_ALL_AT_MS)?.max(secs))
    }

    pub fn set_revoked_all_at(&self, at: UnixMillis) -> Result<(), IndexError> {
        self.set_fact(REVOKED_ALL_AT, at.div_euclid(1000))?;
        self.set_fact(REVOKED_ALL_AT_MS, at)
    }

    fn fact(&self, name: &str) -> Result<Option<i64>, IndexError> {
        #[derive(Deserialize)]
        struct Fact {
            value: i64,
        }
        let rows: Vec<Fact> = self.query("SELECT value FROM account_facts WHERE name = ?", vec![name.into()])?;
        Ok(rows.into_iter().next().map(|f| f.value))
    }

    /// Facts only move forward: a clock that steps back never reopens a fence.
    fn set_fact(&self, name: &str, value: i64) -> Result<(), IndexError> {
        self.exec(
            "INSERT INTO account_facts (name, value) VALUES (?, ?)
             ON CONFLICT(name) DO UPDATE SET value = MAX(value, excluded.value)",
            vec![name.into(), value.into()],
        )
    }

    /// The public JWK a session is bound to, if it is bound.
    pub fn device_key(&self, session_id: &SessionId) -> Result<Option<String>, IndexError> {
        let rows: Vec<DeviceKeyRow> =
            self.query("SELECT device_jwk FROM sessions WHERE session_id = ?", vec![session_id.as_str().into()])?;
        Ok(rows.into_iter().next().and_then(|r| r.device_jwk))
    }

    /// Binds a session to a device key: once, and never undone (the record says so too).
    pub fn set_device_key(&self, session_id: &SessionId, jwk: &str) -> Result<(), IndexError> {
        self.exec(
            "UPDATE sessions SET device_jwk = ? WHERE session_id = ? AND device_jwk IS NULL",
            vec![jwk.into(), session_id.as_str().into()],
        )
    }

    /// Takes a refresh challenge issued at `issued_ms` if it is newer than every one this
    /// session answered before; `false` for a replay (or an older challenge).
    pub fn accept_challenge(&self, session_id: &SessionId, issued_ms: UnixMillis) -> Result<bool, IndexError> {
        let taken: Vec<DeviceKeyRow> = self.query(
            "UPDATE sessions SET device_challenge_ms = ?
             WHERE session_id = ? AND (device_challenge_ms IS NULL OR device_challenge_ms < ?)
             RETURNING device_jwk",
            vec![issued_ms.into(), session_id.as_str().into(), issued_ms.into()],
        )?;
        Ok(!taken.is_empty())
    }

    /// Moves a session to a new token hash: the row now answers to `new_hash` only,
    /// and the old KV key is queued for deletion, in one synchronous step.
    pub fn rekey(&self, record: &SessionRecord, new_hash: &TokenHash, old: OldToken) -> Result<(), IndexError> {
        self.exec(
            "INSERT OR IGNORE INTO pending_kv_deletes (kv_key)
             SELECT ? || token_hash FROM sessions WHERE session_id = ?",
            vec![KV_KEY_PREFIX.into(), record.session_id.as_str().into()],
        )?;
        self.exec("DELETE FROM pending_kv_deletes WHERE kv_key = ?", vec![new_hash.kv_key().into()])?;
        // The right-hand sides read the row as it was, so `previous_token_hash =
        // token_hash` takes the token being moved away from.
        let previous = match old {
            OldToken::Remember { .. } => "previous_token_hash = token_hash, rotated_at = ?,",
            OldToken::KeepRemembered => "",
            OldToken::Forget => "previous_token_hash = NULL, rotated_at = NULL,",
        };
        let mut bindings: Vec<SqlStorageValue> = Vec::with_capacity(5);
        if let OldToken::Remember { at } = old {
            bindings.push(at.into());
        }
        bindings.extend([
            new_hash.as_str().into(),
            record.idle_expires_at.into(),
            record.encode().into(),
            record.session_id.as_str().into(),
        ]);
        self.exec(
            &format!(
                "UPDATE sessions SET {previous} token_hash = ?, idle_expires_at = ?, record = ? WHERE session_id = ?"
            ),
            bindings,
        )
    }

    /// Closes the rotation retry window of one session (its new token was seen) or of
    /// every session (`None`: a revoke-all). Writes only rows that have one open.
    pub fn forget_previous_tokens(&self, only: Option<&SessionId>) -> Result<(), IndexError> {
        let clear =
            "UPDATE sessions SET previous_token_hash = NULL, rotated_at = NULL WHERE previous_token_hash IS NOT NULL";
        match only {
            Some(session_id) => self.exec(&format!("{clear} AND session_id = ?"), vec![session_id.as_str().into()]),
            None => self.exec(clear, vec![]),
        }
    }

    /// Replaces a session's full baseline (`None`: take a new one on the next use).
    pub fn set_baseline(&self, session_id: &SessionId, baseline: Option<&Baseline>) -> Result<(), IndexError> {
        let json = match baseline {
            Some(b) => serde_json::to_string(b).map_err(|e| IndexError::Sql(e.to_string()))?.into(),
            None => SqlStorageValue::Null,
        };
        self.exec("UPDATE sessions SET baseline = ? WHERE session_id = ?", vec![json, session_id.as_str().into()])
    }

    /// Stores a touched record (its idle deadline and last use moved).
    pub fn update(&self, record: &SessionRecord) -> Result<(), IndexError> {
        self.exec(
            "UPDATE sessions SET idle_expires_at = ?, record = ? WHERE session_id = ?",
            vec![record.idle_expires_at.into(), record.encode().into(), record.session_id.as_str().into()],
        )
    }

    /// Remembers, for [`REVOKED_MEMORY_SECS`], that the session's current token was
    /// revoked, evicted or rotated away at `now`: a strong check that refuses it then
    /// knows how stale the accepting KV copy was (the stale-hit metric). Call before
    /// the row goes. Older memories are dropped here.
    pub fn remember_revoked(&self, session_id: &SessionId, now: UnixSeconds) -> Result<(), IndexError> {
        self.exec("DELETE FROM revoked_tokens WHERE revoked_at < ?", vec![(now - REVOKED_MEMORY_SECS).into()])?;
        self.exec(
            "INSERT OR REPLACE INTO revoked_tokens (token_hash, revoked_at)
             SELECT token_hash, ? FROM sessions WHERE session_id = ? AND pending = 0",
            vec![now.into(), session_id.as_str().into()],
        )
    }

    /// When `hash` was revoked, if within [`REVOKED_MEMORY_SECS`].
    pub fn revoked_at(&self, hash: &TokenHash) -> Result<Option<UnixSeconds>, IndexError> {
        #[derive(Deserialize)]
        struct Revoked {
            revoked_at: i64,
        }
        let rows: Vec<Revoked> =
            self.query("SELECT revoked_at FROM revoked_tokens WHERE token_hash = ?", vec![hash.as_str().into()])?;
        Ok(rows.into_iter().next().map(|r| r.revoked_at))
    }

    /// Drops one row and queues its KV key for deletion, in one synchronous step.
    pub fn remove(&self, session_id: &SessionId) -> Result<(), IndexError> {
        self.exec(
            "INSERT OR IGNORE INTO pending_kv_deletes (kv_key)
             SELECT ? || token_hash FROM sessions WHERE session_id = ?",
            vec![KV_KEY_PREFIX.into(), session_id.as_str().into()],
        )?;
        self.exec("DELETE FROM sessions WHERE session_id = ?", vec![session_id.as_str().into()])
    }

    /// Drops rows whose session can no longer be valid, queueing their KV keys.
    pub fn remove_expired(&self, now: UnixSeconds) -> Result<(), IndexError> {
        let expired = "idle_expires_at <= ? OR absolute_expires_at <= ?";
        self.exec(
            &format!(
                "INSERT OR IGNORE INTO pending_kv_deletes (kv_key) SELECT ? || token_hash FROM sessions WHERE {expired}"
            ),
            vec![KV_KEY_PREFIX.into(), now.into(), now.into()],
        )?;
        self.exec(&format!("DELETE FROM sessions WHERE {expired}"), vec![now.into(), now.into()])
    }

    /// KV keys whose delete has not yet succeeded.
    pub fn pending_deletes(&self) -> Result<Vec<String>, IndexError> {
        let rows: Vec<KeyRow> = self.query("SELECT kv_key FROM pending_kv_deletes", vec![])?;
        Ok(rows.into_iter().map(|r| r.kv_key).collect())
    }

    /// Whether housekeeping has work besides deadlines: KV deletes to retry, or ghost
    /// rows to remove.
    pub fn has_pending_work(&self) -> Result<bool, IndexError> {
        let rows: Vec<KeyRow> = self.query(
            "SELECT kv_key FROM pending_kv_deletes
             UNION ALL SELECT token_hash AS kv_key FROM sessions WHERE pending = 1 LIMIT 1",
            vec![],
        )?;
        Ok(!rows.is_empty())
    }

    /// A KV delete succeeded: the key leaves the outbox.
    pub fn forget_pending(&self, kv_key: &str) -> Result<(), IndexError> {
        self.exec("DELETE FROM pending_kv_deletes WHERE kv_key = ?", vec![kv_key.into()])
    }

    /// The earliest deadline of any indexed session.
    pub fn next_deadline(&self) -> Result<Option<UnixSeconds>, IndexError> {
        let rows: Vec<NextDeadline> =
            self.query("SELECT MIN(MIN(idle_expires_at, absolute_expires_at)) AS next FROM sessions", vec![])?;
        Ok(rows.into_iter().next().and_then(|r| r.next))
    }

    fn exec(&self, statement: &str, bindings: Vec<SqlStorageValue>) -> Result<(), IndexError> {
        self.sql.exec(statement, bindings).map(|_| ()).map_err(|e| IndexError::Sql(e.to_string()))
    }

    fn query<T: serde::de::DeserializeOwned>(
        &self,
        statement: &str,
        bindings: Vec<SqlStorageValue>,
    ) -> Result<Vec<T>, IndexError> {
        self.sql
            .exec(statement, bindings)
            .and_then(|cursor| cursor.to_array())
            .map_err(|e| IndexError::Sql(e.to_string()))
    }
}
