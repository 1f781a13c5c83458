//! Messages between the edge and an account's Durable Object. One JSON command per
//! request; the reply type depends on the command. Plain data: no token ever crosses
//! this boundary (the edge sends the token's hash), so the Durable Object, its storage
//! and its logs never see a plaintext token.

use crate::core::record::SessionRecord;
use crate::core::token::SessionId;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum AccountCommand {
    /// Index a new session, evicting the oldest past the limit, and publish it to KV.
    Create { record: SessionRecord, token_hash: String },
    /// Use of a session: extend its idle deadline if the policy says it is due.
    /// `forced` ignores the touch interval (an explicit refresh).
    Touch { session_id: SessionId, token_hash: String, forced: bool },
    /// Revoke one session of this account. Ids of other accounts are simply not found.
    /// With `caller`, the command is refused unless the caller's own session is live.
    Revoke { session_id: SessionId, reason: String, caller: Option<SessionId> },
    /// Revoke every session of the account except `except` (log out everywhere / others).
    RevokeAll { except: Option<SessionId>, reason: String, caller: Option<SessionId> },
    /// The account's live sessions, newest first.
    List { limit: u32, caller: Option<SessionId> },
    /// Strong validation: the index's own view of one session.
    Verify { session_id: SessionId, token_hash: String },
}

#[derive(Serialize, Deserialize)]
pub struct CreateReply {
    pub evicted: Vec<SessionId>,
}

#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
pub enum TouchOutcome {
    Extended,
    NotDue,
    ExpiredIdle,
    ExpiredAbsolute,
    /// Not in the index: revoked, evicted or never created. Nothing was written.
    NotFound,
}

#[derive(Serialize, Deserialize)]
pub struct TouchReply {
    pub outcome: TouchOutcome,
    /// The session as the index now holds it (absent when not found).
    pub record: Option<SessionRecord>,
}

#[derive(Serialize, Deserialize)]
pub struct RevokeReply {
    pub revoked: bool,
}

#[derive(Serialize, Deserialize)]
pub struct RevokeAllReply {
    pub revoked: u32,
}

#[derive(Serialize, Deserialize)]
pub struct ListReply {
    pub sessions: Vec<SessionRecord>,
}

#[derive(Serialize, Deserialize)]
pub struct VerifyReply {
    /// The indexed record, if the session is in the index (valid or not).
    pub record: Option<SessionRecord>,
}
