//! The edge's side of the account protocol: typed calls to one account's Durable Object.

use crate::core::account::AccountId;
use crate::core::claims::SessionClaims;
use crate::core::device_binding::DeviceBinding;
use crate::core::drift::{Baseline, DriftVerdict};
use crate::core::error_code::ErrorCode;
use crate::core::event::RevokeReason;
use crate::core::policy::TouchKind;
use crate::core::record::SessionRecord;
use crate::core::token::{SessionId, TokenHash};
use crate::core::UnixMillis;
use crate::edge::account::protocol::*;
use crate::edge::error::{log_error, ApiError};
use serde::de::DeserializeOwned;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use worker::{web_sys, Env};

pub const ACCOUNTS_BINDING: &str = "ACCOUNTS";

#[wasm_bindgen]
extern "C" {
    /// A Durable Object stub, called directly: workers-rs's `Stub::fetch_with_request`
    /// takes its `RequestInit`, whose conversion serialises the (unused) `cf` options
    /// with serde-wasm-bindgen on every call (docs/performance.md, "Size").
    type ObjectStub;

    /// `fetch(request)`: a `Request`, as workers-rs sent it (the tests' fault wrappers
    /// read the command from it).
    #[wasm_bindgen(method, catch, js_name = fetch)]
    fn fetch_request(this: &ObjectStub, request: &web_sys::Request) -> Result<js_sys::Promise, JsValue>;
}

pub struct AccountClient {
    stub: ObjectStub,
}

impl AccountClient {
    /// The Durable Object named after the account: every request for one account,
    /// from any location, reaches the same single-threaded instance.
    pub fn for_account(env: &Env, account_id: &AccountId) -> Result<Self, ApiError> {
        Self::named(env, account_id.as_str())
    }

    /// The object the readiness check (`GET /v1/health/ready`) asks: its name holds a
    /// space, which no account id may, so it never holds an account's sessions.
    pub fn readiness_probe(env: &Env) -> Result<Self, ApiError> {
        Self::named(env, "readiness probe")
    }

    fn named(env: &Env, name: &str) -> Result<Self, ApiError> {
        let stub = env
            .durable_object(ACCOUNTS_BINDING)
            .and_then(|ns| ns.id_from_name(name)?.get_stub())
            .map_err(|e| ApiError::internal("ACCOUNTS binding", e))?;
        Ok(AccountClient { stub: stub.into_rpc() })
    }

    /// Creates a session. Sent a second time if the first reply is lost on the way
    /// (the call itself fails, as opposed to an error reply): the object answers a
    /// repeated create of the same session as it did the first, evicting nobody twice.
    pub async fn create(
        &self,
        record: &SessionRecord,
        hash: &TokenHash,
        authenticated_at_ms: UnixMillis,
    ) -> Result<Vec<SessionId>, ApiError> {
        let command = AccountCommand::Create(CreateCommand {
            record: record.clone(),
            token_hash: hash.clone(),
            authenticated_at_ms: Some(authenticated_at_ms),
        });
        let reply: CreateReply = match self.send(&command).await {
            Ok(reply) => reply.decode()?,
            Err(first) => {
                log_error("warn", "account: create reply lost, retrying", &first);
                self.call(&command).await?
            }
        };
        Ok(reply.evicted)
    }

    pub async fn touch(
        &self,
        session_id: &SessionId,
        hash: &TokenHash,
        kind: TouchKind,
    ) -> Result<TouchReply, ApiError> {
        let command =
            AccountCommand::Touch(TouchCommand { session_id: session_id.clone(), token_hash: hash.clone(), kind });
        decode(&self.exchange(&command).await?, TouchReply::from_json)
    }

    /// Revokes one session. `caller`: the session holder making the request, who must
    /// still be live in the index.
    pub async fn revoke(
        &self,
        session_id: &SessionId,
        reason: RevokeReason,
        caller: Option<&Caller>,
    ) -> Result<bool, ApiError> {
        let command =
            AccountCommand::Revoke(RevokeCommand { session_id: session_id.clone(), reason, caller: caller.cloned() });
        let reply: RevokeReply = self.call(&command).await?;
        Ok(reply.revoked)
    }

    /// Revokes every session except `except`; returns how many.
    pub async fn revoke_all(
        &self,
        except: Option<&SessionId>,
        reason: RevokeReason,
        caller: Option<&Caller>,
    ) -> Result<u32, ApiError> {
        let command =
            AccountCommand::RevokeAll(RevokeAllCommand { except: except.cloned(), reason, caller: caller.cloned() });
        let reply: RevokeAllReply = self.call(&command).await?;
        Ok(reply.revoked)
    }

    pub async fn list(&self, limit: u32, caller: Option<&Caller>) -> Result<Vec<SessionRecord>, ApiError> {
        let reply: ListReply = self.call(&AccountCommand::List(ListCommand { limit, caller: caller.cloned() })).await?;
        Ok(reply.sessions)
    }

    /// Moves a session to `new_hash`; `None` when there is no such live session (for a
    /// holder: not under the token they presented).
    pub async fn rotate(
        &self,
        session_id: &SessionId,
        new_hash: &TokenHash,
        caller: Option<&Caller>,
        reauthenticated: Option<Reauthentication>,
    ) -> Result<Option<SessionRecord>, ApiError> {
        let command = AccountCommand::Rotate(RotateCommand {
            session_id: session_id.clone(),
            new_token_hash: new_hash.clone(),
            caller: caller.cloned(),
            reauthenticated,
        });
        match decode(&self.exchange(&command).await?, RotateReply::from_json)? {
            RotateReply::Rotated { record } => Ok(Some(*record)),
            RotateReply::NotFound => Ok(None),
        }
    }

    /// Replaces the claims of one live session, or of all (`None`); returns the sessions
    /// as they now are.
    pub async fn update_claims(
        &self,
        session_id: Option<&SessionId>,
        claims: &SessionClaims,
    ) -> Result<Vec<SessionRecord>, ApiError> {
        let command = AccountCommand::UpdateClaims(UpdateClaimsCommand {
            session_id: session_id.cloned(),
            claims: claims.clone(),
        });
        let reply: ClaimsReply = self.call(&command).await?;
        Ok(reply.updated)
    }

    /// Binds the caller's session to a device key, under a new token.
    pub async fn bind_device(
        &self,
        caller: &Caller,
        new_hash: &TokenHash,
        binding: DeviceBinding,
        jwk: String,
    ) -> Result<BindReply, ApiError> {
        let command = AccountCommand::BindDevice(BindDeviceCommand {
            caller: caller.clone(),
            new_token_hash: new_hash.clone(),
            binding,
            jwk,
        });
        decode(&self.exchange(&command).await?, BindReply::from_json)
    }

    /// A bound session's refresh check, taking the challenge issued at `challenge_issued_ms`.
    pub async fn refresh_binding(
        &self,
        session_id: &SessionId,
        hash: &TokenHash,
        challenge_issued_ms: UnixMillis,
    ) -> Result<RefreshReply, ApiError> {
        let command = AccountCommand::RefreshBinding(RefreshBindingCommand {
            session_id: session_id.clone(),
            token_hash: hash.clone(),
            challenge_issued_ms,
        });
        decode(&self.exchange(&command).await?, RefreshReply::from_json)
    }

    /// Asks the object to classify a client's signals; `None`: no such live session.
    pub async fn observe(
        &self,
        session_id: &SessionId,
        hash: &TokenHash,
        observed: &Baseline,
    ) -> Result<Option<DriftVerdict>, ApiError> {
        let command = AccountCommand::Observe(ObserveCommand {
            session_id: session_id.clone(),
            token_hash: hash.clone(),
            observed: observed.clone(),
        });
        let reply: ObserveReply = self.call(&command).await?;
        Ok(reply.verdict)
    }

    /// The index's record for a session, if it is indexed under this hash.
    pub async fn verify(&self, session_id: &SessionId, hash: &TokenHash) -> Result<VerifyReply, ApiError> {
        let command =
            AccountCommand::Verify(VerifyCommand { session_id: session_id.clone(), token_hash: hash.clone() });
        self.call(&command).await
    }

    /// Ends the account's impersonation sessions (the one named, or all, of one actor
    /// when given); the ids ended.
    pub async fn end_impersonations(
        &self,
        session_id: Option<&SessionId>,
        actor: Option<&str>,
    ) -> Result<Vec<SessionId>, ApiError> {
        let command = AccountCommand::EndImpersonations(EndImpersonationsCommand {
            session_id: session_id.cloned(),
            actor: actor.map(str::to_owned),
        });
        let reply: EndImpersonationsReply = self.call(&command).await?;
        Ok(reply.ended)
    }

    async fn call<R: DeserializeOwned>(&self, command: &AccountCommand) -> Result<R, ApiError> {
        decode(&self.exchange(command).await?, |bytes| serde_json::from_slice(bytes))
    }

    /// One round trip whose reply must arrive: the reply's bytes, or the error it
    /// carries. Not generic over the reply, so its future exists once.
    async fn exchange(&self, command: &AccountCommand) -> Result<Vec<u8>, ApiError> {
        self.send(command).await.map_err(|e| ApiError::internal("account: call", e))?.into_bytes()
    }

    /// One round trip. `Err` means no reply arrived (the command may or may not have
    /// run); an error reply is a `Reply` like any other.
    async fn send(&self, command: &AccountCommand) -> Result<Reply, worker::Error> {
        let body = serde_json::to_string(command)?;
        let headers = web_sys::Headers::new()?;
        headers.set("Content-Type", "application/json")?;
        let init = web_sys::RequestInit::new();
        init.set_method("POST");
        init.set_headers(&headers);
        init.set_body(&JsValue::from_str(&body));
        let request = web_sys::Request::new_with_str_and_init("https://account.internal/command", &init)?;
        let promise = self.stub.fetch_request(&request)?;
        let response: web_sys::Response = JsFuture::from(promise).await?.unchecked_into();
        let status = response.status();
        let buffer = JsFuture::from(response.array_buffer()?).await?;
        Ok(Reply { status, bytes: js_sys::Uint8Array::new(&buffer).to_vec() })
    }
}

struct Reply {
    status: u16,
    bytes: Vec<u8>,
}

impl Reply {
    fn into_bytes(self) -> Result<Vec<u8>, ApiError> {
        if self.status != 200 {
            return Err(passed_through_error(&self.bytes));
        }
        Ok(self.bytes)
    }

    fn decode<R: DeserializeOwned>(self) -> Result<R, ApiError> {
        decode(&self.into_bytes()?, |bytes| serde_json::from_slice(bytes))
    }
}

fn decode<R>(bytes: &[u8], from_json: fn(&[u8]) -> serde_json::Result<R>) -> Result<R, ApiError> {
    from_json(bytes).map_err(|e| ApiError::internal("account: decode reply", e))
}

/// The object's own errors that mean something to the caller (its session is gone, the
/// configuration is bad) pass through with their message; anything else was logged by
/// the object and becomes a plain 500 here.
fn passed_through_error(bytes: &[u8]) -> ApiError {
    #[derive(serde::Deserialize)]
    struct ErrorBody {
        error: ErrorCode,
        message: String,
    }
    match serde_json::from_slice::<ErrorBody>(bytes) {
        Ok(ErrorBody { error, message })
            if matches!(
                error,
                ErrorCode::SessionNotFound
                    | ErrorCode::SessionExpired
                    | ErrorCode::SessionRevoked
                    | ErrorCode::StaleAuthentication
                    | ErrorCode::ReauthenticationRequired
                    | ErrorCode::InvalidConfig
            ) =>
        {
            ApiError::with_message(error, message)
        }
        _ => ApiError::new(ErrorCode::InternalError),
    }
}
