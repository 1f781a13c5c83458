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

    pub async fn revoke(&self, session_id: &SessionId, reason: &str) -> Result<bool, ApiError> {
        let command = AccountCommand::Revoke { session_id: session_id.clone(), reason: reason.to_owned() };
        let reply: RevokeReply = self.call(&command).await?;
        Ok(reply.revoked)
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
            // The object already logged the cause; pass its config errors through.
            let message = String::from_utf8_lossy(&bytes).into_owned();
            return Err(if message.contains("\"invalid_config\"") {
                ApiError::new(500, "invalid_config", extract_message(&bytes).unwrap_or(message))
            } else {
                ApiError::new(500, "internal_error", "the session service failed; try again")
            });
        }
        serde_json::from_slice(&bytes).map_err(|e| ApiError::internal("account: decode reply", e))
    }
}

fn extract_message(bytes: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    value.get("message")?.as_str().map(str::to_owned)
}
