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
//! This file is the object's shell: construction, the lock, decoding a command and
//! sending it to its handler (`commands.rs`), and the alarm (`housekeeping.rs`).

use crate::core::config::Config;
use crate::core::step_up::AuthenticatedAt;
use crate::core::{UnixMillis, UnixSeconds};
use crate::edge::account::event_outbox::EventOutbox;
use crate::edge::account::index::{IndexError, SessionIndex};
use crate::edge::account::protocol::*;
use crate::edge::config::load_config;
use crate::edge::error::ApiError;
use crate::edge::platform;
use crate::edge::response::json_response;
use crate::edge::session_store::SessionStore;
use futures_util::lock::Mutex;
use std::rc::Rc;
use worker::{durable_object, DurableObject, Env, Request, Response, Result, State};

#[durable_object]
pub struct AccountSessions {
    pub(super) state: State,
    pub(super) env: Env,
    pub(super) index: SessionIndex,
    pub(super) events: EventOutbox,
    /// Serialises commands end to end, including their KV I/O.
    serial: Mutex<()>,
}

/// What every command and housekeeping pass runs with: the settings, KV, and the one
/// moment it runs at (read once, under the lock), in seconds and in milliseconds.
pub(super) struct CommandContext {
    pub config: Rc<Config>,
    pub store: SessionStore,
    pub now: UnixSeconds,
    pub now_ms: UnixMillis,
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

    /// Housekeeping: drop expired rows, retry pending KV deletes and events, re-arm. A
    /// failure is logged with its detail and thrown, so the runtime retries the alarm.
    async fn alarm(&self) -> Result<Response> {
        let _guard = self.serial.lock().await;
        let outcome = match self.context() {
            Ok(cx) => self.housekeep(&cx).await,
            Err(e) => Err(e),
        };
        match outcome {
            Ok(()) => Response::ok(""),
            Err(e) => {
                e.log_if_internal();
                Err(worker::Error::RustError("account housekeeping failed".into()))
            }
        }
    }
}

impl AccountSessions {
    /// Settings, KV and the clock, for a command about to run under the lock.
    fn context(&self) -> std::result::Result<CommandContext, ApiError> {
        let config = load_config(&self.env)?;
        let store = SessionStore::from_env(&self.env)?;
        let now_ms = platform::now_millis();
        Ok(CommandContext { config, store, now: now_ms.div_euclid(1000), now_ms })
    }

    async fn handle(&self, req: &mut Request) -> std::result::Result<Response, ApiError> {
        let body = req.bytes().await.map_err(|e| ApiError::internal("account: read command", e))?;
        let command = AccountCommand::from_json(&body).map_err(|e| ApiError::internal("account: decode command", e))?;

        let _guard = self.serial.lock().await;
        let cx = self.context()?;
        match command {
            AccountCommand::Create(CreateCommand { record, token_hash, authenticated_at_ms }) => {
                let authenticated_at = authenticated_at_ms
                    .map_or_else(|| AuthenticatedAt::whole_second(record.authenticated_at), AuthenticatedAt::exact);
                let evicted = self.create(&cx, record, &token_hash, authenticated_at).await?;
                Ok(json_response(200, &CreateReply { evicted }))
            }
            AccountCommand::Touch(TouchCommand { session_id, token_hash, kind }) => {
                Ok(json_response(200, &self.touch(&cx, &session_id, &token_hash, kind).await?))
            }
            AccountCommand::Revoke(RevokeCommand { session_id, reason, caller }) => {
                let revoked = match caller {
                    // Ending one's own session (logout): the presented token must be the
                    // session's current one, so a rotated-away token whose KV copy
                    // lingers cannot end the session that replaced it.
                    Some(caller) if caller.session_id == session_id => self.revoke_own(&cx, &caller, reason).await?,
                    caller => {
                        self.require_live_caller(&cx, caller.as_ref())?;
                        self.revoke(&cx, &session_id, reason).await?
                    }
                };
                Ok(json_response(200, &RevokeReply { revoked }))
            }
            AccountCommand::RevokeAll(RevokeAllCommand { except, reason, caller }) => {
                self.require_live_caller(&cx, caller.as_ref())?;
                let revoked = self.revoke_all(&cx, except.as_ref(), reason).await?;
                Ok(json_response(200, &RevokeAllReply { revoked }))
            }
            AccountCommand::List(ListCommand { limit, caller }) => {
                self.require_live_caller(&cx, caller.as_ref())?;
                Ok(json_response(200, &ListReply { sessions: self.list(&cx, limit)? }))
            }
            AccountCommand::Verify(VerifyCommand { session_id, token_hash }) => {
                Ok(json_response(200, &self.verify(&session_id, &token_hash)?))
            }
            AccountCommand::BindDevice(BindDeviceCommand { caller, new_token_hash, binding, jwk }) => {
                Ok(json_response(200, &self.bind_device(&cx, &caller, &new_token_hash, binding, &jwk).await?))
            }
            AccountCommand::RefreshBinding(RefreshBindingCommand { session_id, token_hash, challenge_issued_ms }) => {
                Ok(json_response(200, &self.refresh_binding(&cx, &session_id, &token_hash, challenge_issued_ms)?))
            }
            AccountCommand::EndImpersonations(EndImpersonationsCommand { session_id, actor }) => {
                let ended = self.end_impersonations(&cx, session_id.as_ref(), actor.as_deref()).await?;
                Ok(json_response(200, &EndImpersonationsReply { ended }))
            }
            AccountCommand::Observe(ObserveCommand { session_id, token_hash, observed }) => {
                let verdict = self.observe(&cx, &session_id, &token_hash, observed).await?;
                Ok(json_response(200, &ObserveReply { verdict }))
            }
            AccountCommand::UpdateClaims(UpdateClaimsCommand { session_id, claims }) => {
                let updated = self.update_claims(&cx, session_id.as_ref(), &claims).await?;
                Ok(json_response(200, &ClaimsReply { updated }))
            }
            // One command on the wire (older edges send it in this shape during a
            // gradual deployment), two meanings: the holder moving their own session to
            // a new token, or the admin renewing its authentication.
            AccountCommand::Rotate(RotateCommand { session_id, new_token_hash, caller, reauthenticated }) => {
                let reply = match (caller, reauthenticated) {
                    (Some(caller), None) if caller.session_id == session_id => {
                        self.rotate(&cx, &caller, &new_token_hash).await?
                    }
                    (Some(_), None) => RotateReply::NotFound,
                    (None, Some(facts)) => self.reauthenticate(&cx, &session_id, &new_token_hash, facts).await?,
                    _ => return Err(ApiError::internal("account: rotate", "needs a caller or new facts, not both")),
                };
                Ok(json_response(200, &reply))
            }
        }
    }
}
