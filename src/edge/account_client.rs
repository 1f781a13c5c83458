//! The edge's side of the account protocol: typed calls to one account's Durable Object.

use crate::core::account::AccountId;
use crate::core::record::SessionRecord;
use crate::core::token::{SessionId, TokenHash};
use crate::edge::account_protocol::*;
use crate::edge::http::ApiError;
use serde::de::DeserializeOwned;
use worker::{Env, Headers, Method, Request, RequestInit, Stub};

pub const ACCOUNTS_BINDING: &str = "ACCOUNTS";

pub struct AccountClient {
    stub: Stub,
}

impl AccountClient {
    /// The Durable Object named after the account: every request for one account,
    /// from any location, reaches the same single-threaded instance.
    pub fn for_account(env: &Env, account_id: &AccountId) -> Result<Self, ApiError> {
        let stub = env
            .durable_object(ACCOUNTS_BINDING)
            .and_then(|ns| ns.id_from_name(account_id.as_str())?.get_stub())
            .map_err(|e| ApiError::internal("ACCOUNTS binding", e))?;
        Ok(AccountClient { stub })
    }

    pub async fn create(&self, record: &SessionRecord, hash: &TokenHash) -> Result<Vec<SessionId>, ApiError> {
        let command = AccountCommand::Create { record: record.clone(), token_hash: hash.as_str().to_owned() };
        let reply: CreateReply = self.call(&command).await?;
        Ok(reply.evicted)
    }

    pub async fn touch(&self, session_id: &SessionId, hash: &TokenHash, forced: bool) -> Result<TouchReply, ApiError> {
        let command = AccountCommand::Touch {
            session_id: session_id.clone(),
            token_hash: hash.as_str().to_owned(),
            forced,
        };
        self.call(&command).await
    }

    /// Revokes one session. `caller`: the session holder making the request, who must
    /// still be live in the index.
    pub async fn revoke(&self, session_id: &SessionId, reason: &str, caller: Option<&SessionId>) -> Result<bool, ApiError> {
        let command = AccountCommand::Revoke {
            session_id: session_id.clone(),
            reason: reason.to_owned(),
            caller: caller.cloned(),
        };
        let reply: RevokeReply = self.call(&command).await?;
        Ok(reply.revoked)
    }

    /// Revokes every session except `except`; returns how many.
    pub async fn revoke_all(&self, except: Option<&SessionId>, reason: &str, caller: Option<&SessionId>) -> Result<u32, ApiError> {
        let command = AccountCommand::RevokeAll { except: except.cloned(), reason: reason.to_owned(), caller: caller.cloned() };
        let reply: RevokeAllReply = self.call(&command).await?;
        Ok(reply.revoked)
    }

    pub async fn list(&self, limit: u32, caller: Option<&SessionId>) -> Result<Vec<SessionRecord>, ApiError> {
        let reply: ListReply = self.call(&AccountCommand::List { limit, caller: caller.cloned() }).await?;
        Ok(reply.sessions)
    }

    /// The index's record for a session, if it is indexed under this hash.
    pub async fn verify(&self, session_id: &SessionId, hash: &TokenHash) -> Result<Option<SessionRecord>, ApiError> {
        let command = AccountCommand::Verify { session_id: session_id.clone(), token_hash: hash.as_str().to_owned() };
        let reply: VerifyReply = self.call(&command).await?;
        Ok(reply.record)
    }

    async fn call<R: DeserializeOwned>(&self, command: &AccountCommand) -> Result<R, ApiError> {
        let body = serde_json::to_string(command).map_err(|e| ApiError::internal("account: encode command", e))?;
        let headers = Headers::new();
        let _ = headers.set("Content-Type", "application/json");
        let mut init = RequestInit::new();
        init.with_method(Method::Post).with_headers(headers).with_body(Some(body.into()));
        let request = Request::new_with_init("https://account.internal/command", &init)
            .map_err(|e| ApiError::internal("account: build request", e))?;
        let mut response = self
            .stub
            .fetch_with_request(request)
            .await
            .map_err(|e| ApiError::internal("account: call", e))?;
        let status = response.status_code();
        let bytes = response.bytes().await.map_err(|e| ApiError::internal("account: read reply", e))?;
        if status != 200 {
            return Err(passed_through_error(status, &bytes));
        }
        serde_json::from_slice(&bytes).map_err(|e| ApiError::internal("account: decode reply", e))
    }
}

/// The object's own errors that mean something to the caller (its session is gone, the
/// configuration is bad) pass through; anything else was logged by the object and
/// becomes a plain 500.
fn passed_through_error(status: u16, bytes: &[u8]) -> ApiError {
    #[derive(serde::Deserialize)]
    struct ErrorBody {
        error: String,
        message: String,
    }
    let Ok(body) = serde_json::from_slice::<ErrorBody>(bytes) else {
        return ApiError::new(500, "internal_error", "the session service failed; try again");
    };
    let code = match body.error.as_str() {
        "session_not_found" => "session_not_found",
        "session_expired" => "session_expired",
        "invalid_config" => "invalid_config",
        _ => return ApiError::new(500, "internal_error", "the session service failed; try again"),
    };
    ApiError::new(status, code, body.message)
}
