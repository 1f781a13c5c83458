//! A session holder's control over their own account: list its sessions, revoke one,
//! log out everywhere else, log out everywhere. Each call goes to the account's Durable
//! Object, which refuses it unless the caller's own session is still live in the index.

use crate::core::config::Config;
use crate::core::cookie::clear_session_cookie;
use crate::core::record::SessionRecord;
use crate::core::timestamp::rfc3339;
use crate::core::token::SessionId;
use crate::edge::account_client::AccountClient;
use crate::edge::http::{json_response, no_content, query_param, ApiError};
use crate::edge::platform;
use crate::edge::session_routes::{authenticate, require_trusted_origin};
use serde::Serialize;
use worker::{Env, Request, Response};

/// One session in a listing. Never a token, never a hash.
#[derive(Serialize)]
pub struct ListedSession<'a> {
    pub session_id: &'a str,
    pub created_at: String,
    pub last_seen_at: String,
    pub expires_at: String,
    pub absolute_expires_at: String,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub label: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<bool>,
}

impl<'a> ListedSession<'a> {
    pub fn new(r: &'a SessionRecord, current: Option<bool>) -> Self {
        ListedSession {
            session_id: r.session_id.as_str(),
            created_at: rfc3339(r.created_at),
            last_seen_at: rfc3339(r.last_seen_at),
            expires_at: rfc3339(r.idle_expires_at),
            absolute_expires_at: rfc3339(r.absolute_expires_at),
            ip: r.meta.ip.as_deref(),
            user_agent: r.meta.user_agent.as_deref(),
            label: r.meta.label.as_deref(),
            current,
        }
    }
}

#[derive(Serialize)]
pub struct Listing<'a> {
    pub sessions: Vec<ListedSession<'a>>,
}

#[derive(Serialize)]
pub struct RevokedCount {
    pub revoked: u32,
}

/// `GET /v1/sessions`: the caller's account's live sessions, newest first.
pub async fn handle_list(req: &Request, env: &Env, config: &Config) -> Result<Response, ApiError> {
    let auth = authenticate(req, env, config, platform::now()).await?;
    let own = &auth.record.session_id;
    let client = AccountClient::for_account(env, &auth.record.account_id)?;
    let records = client.list(config.policy.max_sessions, Some(own)).await?;
    let sessions = records.iter().map(|r| ListedSession::new(r, Some(&r.session_id == own))).collect();
    Ok(json_response(200, &Listing { sessions }))
}

/// `DELETE /v1/sessions/{session_id}`: revoke one of the caller's own account's
/// sessions. An id of another account answers exactly like an unknown id (404).
pub async fn handle_revoke_one(req: &Request, env: &Env, config: &Config, raw_session_id: &str) -> Result<Response, ApiError> {
    let auth = authenticate(req, env, config, platform::now()).await?;
    require_trusted_origin(req, config, auth.source)?;
    let not_found = || ApiError::new(404, "session_not_found", "no session with this id in your account");
    let session_id = SessionId::parse(raw_session_id).ok_or_else(not_found)?;
    let client = AccountClient::for_account(env, &auth.record.account_id)?;
    if !client.revoke(&session_id, "revoked_by_user", Some(&auth.record.session_id)).await? {
        return Err(not_found());
    }
    Ok(no_content())
}

/// `DELETE /v1/sessions` (log out everywhere, clearing this cookie too) and
/// `DELETE /v1/sessions?scope=others` (everywhere but here).
pub async fn handle_revoke_all(req: &Request, env: &Env, config: &Config) -> Result<Response, ApiError> {
    let keep_current = match query_param(req, "scope").as_deref() {
        None | Some("all") => false,
        Some("others") => true,
        Some(_) => return Err(ApiError::bad_request("invalid_scope", "scope must be 'others' or 'all'")),
    };
    let auth = authenticate(req, env, config, platform::now()).await?;
    require_trusted_origin(req, config, auth.source)?;
    let own = &auth.record.session_id;
    let client = AccountClient::for_account(env, &auth.record.account_id)?;
    let (except, reason) = if keep_current { (Some(own), "logout_others") } else { (None, "logout_everywhere") };
    let revoked = client.revoke_all(except, reason, Some(own)).await?;
    let mut response = json_response(200, &RevokedCount { revoked });
    if !keep_current {
        let _ = response.headers_mut().append("Set-Cookie", &clear_session_cookie(&config.cookie_name));
    }
    Ok(response)
}
