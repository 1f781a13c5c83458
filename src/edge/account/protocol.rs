//! Messages between the edge and an account's Durable Object. One JSON command per
//! request; the reply type depends on the command. Plain data: no token ever crosses
//! this boundary (the edge sends the token's hash), so the Durable Object, its storage
//! and its logs never see a plaintext token.
//!
//! Every field is a validated core type: a hash or id that decodes here is well formed,
//! and nothing downstream parses or compares it as a string again.

use crate::core::claims::SessionClaims;
use crate::core::device_binding::DeviceBinding;
use crate::core::drift::{Baseline, DriftVerdict};
use crate::core::event::RevokeReason;
use crate::core::policy::{TouchKind, Validity};
use crate::core::record::SessionRecord;
use crate::core::token::{SessionId, TokenHash};
use crate::core::{UnixMillis, UnixSeconds};
use serde::{Deserialize, Serialize};

/// Unknown fields are ignored, not refused: during a gradual deployment an object may run
/// an older build than the edge that calls it, so a field is only ever added as optional,
/// with a meaning an older object can safely go without (docs/storage.md).
///
/// On the wire, one JSON object: `op` (the variant's name in snake case) beside the
/// command's own fields. Decoded by [`AccountCommand::from_json`], not by a derived
/// `Deserialize`: serde's internally tagged enums buffer the whole object and decode
/// every field type a second time from the buffer (docs/performance.md, "Size").
#[derive(Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum AccountCommand {
    Create(CreateCommand),
    Touch(TouchCommand),
    Revoke(RevokeCommand),
    RevokeAll(RevokeAllCommand),
    List(ListCommand),
    Verify(VerifyCommand),
    Rotate(RotateCommand),
    UpdateClaims(UpdateClaimsCommand),
    BindDevice(BindDeviceCommand),
    RefreshBinding(RefreshBindingCommand),
    EndImpersonations(EndImpersonationsCommand),
    Observe(ObserveCommand),
}

/// The `op` of a command, read before its fields.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Op {
    Create,
    Touch,
    Revoke,
    RevokeAll,
    List,
    Verify,
    Rotate,
    UpdateClaims,
    BindDevice,
    RefreshBinding,
    EndImpersonations,
    Observe,
}

impl AccountCommand {
    /// Two passes over the bytes: the `op`, then that command's fields (each command
    /// type ignores the `op` field, as it ignores any field it does not know).
    pub fn from_json(bytes: &[u8]) -> serde_json::Result<Self> {
        #[derive(Deserialize)]
        struct Tag {
            op: Op,
        }
        let Tag { op } = serde_json::from_slice(bytes)?;
        Ok(match op {
            Op::Create => AccountCommand::Create(serde_json::from_slice(bytes)?),
            Op::Touch => AccountCommand::Touch(serde_json::from_slice(bytes)?),
            Op::Revoke => AccountCommand::Revoke(serde_json::from_slice(bytes)?),
            Op::RevokeAll => AccountCommand::RevokeAll(serde_json::from_slice(bytes)?),
            Op::List => AccountCommand::List(serde_json::from_slice(bytes)?),
            Op::Verify => AccountCommand::Verify(serde_json::from_slice(bytes)?),
            Op::Rotate => AccountCommand::Rotate(serde_json::from_slice(bytes)?),
            Op::UpdateClaims => AccountCommand::UpdateClaims(serde_json::from_slice(bytes)?),
            Op::BindDevice => AccountCommand::BindDevice(serde_json::from_slice(bytes)?),
            Op::RefreshBinding => AccountCommand::RefreshBinding(serde_json::from_slice(bytes)?),
            Op::EndImpersonations => AccountCommand::EndImpersonations(serde_json::from_slice(bytes)?),
            Op::Observe => AccountCommand::Observe(serde_json::from_slice(bytes)?),
        })
    }
}

/// Index a new session, evicting the oldest past the limit, and publish it to KV.
/// `authenticated_at_ms` orders the login against a revoke-all in the same second;
/// without it (an older edge) the record's whole second is used.
#[derive(Serialize, Deserialize)]
pub struct CreateCommand {
    pub record: SessionRecord,
    pub token_hash: TokenHash,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authenticated_at_ms: Option<UnixMillis>,
}

/// Extend a session's idle deadline if the policy says it is due for this kind.
#[derive(Serialize, Deserialize)]
pub struct TouchCommand {
    pub session_id: SessionId,
    pub token_hash: TokenHash,
    pub kind: TouchKind,
}

/// Revoke one session of this account. Ids of other accounts are simply not found.
/// With `caller`, the command is refused unless the caller's own session is live.
#[derive(Serialize, Deserialize)]
pub struct RevokeCommand {
    pub session_id: SessionId,
    pub reason: RevokeReason,
    pub caller: Option<Caller>,
}

/// Revoke every session of the account except `except` (log out everywhere / others).
/// Records the time, which later creates are fenced against.
#[derive(Serialize, Deserialize)]
pub struct RevokeAllCommand {
    pub except: Option<SessionId>,
    pub reason: RevokeReason,
    pub caller: Option<Caller>,
}

/// The account's live sessions, newest first.
#[derive(Serialize, Deserialize)]
pub struct ListCommand {
    pub limit: u32,
    pub caller: Option<Caller>,
}

/// Strong validation: the index's own view of one session.
#[derive(Serialize, Deserialize)]
pub struct VerifyCommand {
    pub session_id: SessionId,
    pub token_hash: TokenHash,
}

/// Moves a session to a new token; the old one stops working in the index at once.
/// With `caller`, the holder rotates their own session and must present its current
/// token's hash; without, the admin does (reauthentication). With `reauthenticated`,
/// the authentication facts are renewed too.
#[derive(Serialize, Deserialize)]
pub struct RotateCommand {
    pub session_id: SessionId,
    pub new_token_hash: TokenHash,
    pub caller: Option<Caller>,
    pub reauthenticated: Option<Reauthentication>,
}

/// Replaces the claims of one live session, or of every live one (`session_id: None`).
#[derive(Serialize, Deserialize)]
pub struct UpdateClaimsCommand {
    pub session_id: Option<SessionId>,
    pub claims: SessionClaims,
}

/// Binds the caller's own session to a device key (DBSC registration) and moves it to
/// a new token. Once per session. `jwk` is the public key, kept for refreshes.
#[derive(Serialize, Deserialize)]
pub struct BindDeviceCommand {
    pub caller: Caller,
    pub new_token_hash: TokenHash,
    pub binding: DeviceBinding,
    pub jwk: String,
}

/// A bound session's refresh: the index's record and key, if the session under this
/// hash may still be used, taking the refresh challenge issued at `challenge_issued_ms`
/// (each is taken once, newest first).
#[derive(Serialize, Deserialize)]
pub struct RefreshBindingCommand {
    pub session_id: SessionId,
    pub token_hash: TokenHash,
    pub challenge_issued_ms: UnixMillis,
}

/// Ends the account's impersonation sessions: the one named, or all of them (of one
/// actor, when given). The user's own sessions are never touched.
#[derive(Serialize, Deserialize)]
pub struct EndImpersonationsCommand {
    pub session_id: Option<SessionId>,
    pub actor: Option<String>,
}

/// A client whose signals the edge found different from the session's baseline (or
/// the session has none yet): classify the drift and apply `DRIFT_POLICY`.
#[derive(Serialize, Deserialize)]
pub struct ObserveCommand {
    pub session_id: SessionId,
    pub token_hash: TokenHash,
    pub observed: Baseline,
}

#[derive(Serialize, Deserialize)]
pub struct EndImpersonationsReply {
    pub ended: Vec<SessionId>,
}

/// Replies with an `outcome` are decoded by their `from_json`, in two passes, like
/// [`AccountCommand`].
#[derive(Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum BindReply {
    /// Bound, under the new token.
    Bound { record: Box<SessionRecord> },
    /// The session is bound already: binding is once per session.
    AlreadyBound,
    /// No such live session under the caller's token.
    NotFound,
}

#[derive(Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RefreshReply {
    /// The session may be used: check the proof with this key.
    Refreshable { record: Box<SessionRecord>, jwk: String },
    /// This challenge, or a newer one, was answered already.
    Replayed,
    /// Revoked, expired, fenced, rotated away or never bound: the browser should stop.
    Ended,
}

/// What the object decided about an observation; `None`: no such live session under
/// that token.
#[derive(Serialize, Deserialize)]
pub struct ObserveReply {
    pub verdict: Option<DriftVerdict>,
}

/// What a claims update did: the sessions as they now are.
#[derive(Serialize, Deserialize)]
pub struct ClaimsReply {
    pub updated: Vec<SessionRecord>,
}

/// The session holder on whose behalf a command runs: their session id and the hash of
/// the token they presented. The command runs only while that session is live in the
/// index under that very token (a rotated-away token is refused).
#[derive(Serialize, Deserialize, Clone)]
pub struct Caller {
    pub session_id: SessionId,
    pub token_hash: TokenHash,
}

/// New authentication facts, after the origin checked the user again.
#[derive(Serialize, Deserialize, Clone)]
pub struct Reauthentication {
    pub aal: u8,
    pub amr: Vec<String>,
}

#[derive(Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RotateReply {
    /// The session as it now is, under the new token.
    Rotated { record: Box<SessionRecord> },
    /// No such live session (or, for a holder, not under the presented token).
    NotFound,
}

#[derive(Serialize, Deserialize)]
pub struct CreateReply {
    pub evicted: Vec<SessionId>,
}

/// What a touch did.
#[derive(Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum TouchReply {
    /// The idle deadline moved; KV and the index hold this record.
    Extended { record: SessionRecord },
    /// Valid, nothing to write: the touch interval has not passed, or the deadline is
    /// already at the absolute cap.
    NotDue { record: SessionRecord },
    /// The session has ended by its own deadlines; nothing was written.
    Expired { validity: Validity },
    /// Not in the index: revoked, evicted or never created. Nothing was written.
    NotFound,
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
    /// The indexed record, if the session is in the index under this hash (valid or not).
    pub record: Option<SessionRecord>,
    /// Otherwise, when this hash was revoked, evicted or rotated away, if that was
    /// recently enough for the object to remember (metrics: the stale-hit age).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<UnixSeconds>,
}

/// The `outcome` of a reply, read before its fields.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Outcome {
    Bound,
    AlreadyBound,
    NotFound,
    Refreshable,
    Replayed,
    Ended,
    Rotated,
    Extended,
    NotDue,
    Expired,
}

/// The fields of the outcomes that carry data, each read in the second pass.
#[derive(Deserialize)]
struct RecordField {
    record: Box<SessionRecord>,
}

#[derive(Deserialize)]
struct RefreshableFields {
    record: Box<SessionRecord>,
    jwk: String,
}

#[derive(Deserialize)]
struct ValidityField {
    validity: Validity,
}

fn outcome(bytes: &[u8]) -> serde_json::Result<Outcome> {
    #[derive(Deserialize)]
    struct Tag {
        outcome: Outcome,
    }
    Ok(serde_json::from_slice::<Tag>(bytes)?.outcome)
}

fn record_field(bytes: &[u8]) -> serde_json::Result<Box<SessionRecord>> {
    Ok(serde_json::from_slice::<RecordField>(bytes)?.record)
}

/// An outcome of another reply type: the object and the edge disagree on the command.
fn unexpected() -> serde_json::Error {
    serde::de::Error::custom("an outcome this reply does not have")
}

impl BindReply {
    pub fn from_json(bytes: &[u8]) -> serde_json::Result<Self> {
        match outcome(bytes)? {
            Outcome::Bound => Ok(BindReply::Bound { record: record_field(bytes)? }),
            Outcome::AlreadyBound => Ok(BindReply::AlreadyBound),
            Outcome::NotFound => Ok(BindReply::NotFound),
            _ => Err(unexpected()),
        }
    }
}

impl RefreshReply {
    pub fn from_json(bytes: &[u8]) -> serde_json::Result<Self> {
        match outcome(bytes)? {
            Outcome::Refreshable => {
                let RefreshableFields { record, jwk } = serde_json::from_slice(bytes)?;
                Ok(RefreshReply::Refreshable { record, jwk })
            }
            Outcome::Replayed => Ok(RefreshReply::Replayed),
            Outcome::Ended => Ok(RefreshReply::Ended),
            _ => Err(unexpected()),
        }
    }
}

impl RotateReply {
    pub fn from_json(bytes: &[u8]) -> serde_json::Result<Self> {
        match outcome(bytes)? {
            Outcome::Rotated => Ok(RotateReply::Rotated { record: record_field(bytes)? }),
            Outcome::NotFound => Ok(RotateReply::NotFound),
            _ => Err(unexpected()),
        }
    }
}

impl TouchReply {
    pub fn from_json(bytes: &[u8]) -> serde_json::Result<Self> {
        match outcome(bytes)? {
            Outcome::Extended => Ok(TouchReply::Extended { record: *record_field(bytes)? }),
            Outcome::NotDue => Ok(TouchReply::NotDue { record: *record_field(bytes)? }),
            Outcome::Expired => {
                let ValidityField { validity } = serde_json::from_slice(bytes)?;
                Ok(TouchReply::Expired { validity })
            }
            Outcome::NotFound => Ok(TouchReply::NotFound),
            _ => Err(unexpected()),
        }
    }
}
