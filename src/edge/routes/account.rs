//! A session holder's control over their own account: list its sessions, revoke one,
//! log out everywhere else, log out everywhere. Each call goes to the account's Durable
//! Object, which refuses it unless the caller's own session is still live in the index.

use crate::core::config::Config;
use crate::core::cookie::clear_session_cookie;
use crate::core::error_code::ErrorCode;
use crate::core::event::RevokeReason;
use crate::core::impersonation::IMPERSONATIONS_LISTED_MAX;
use crate::core::token::SessionId;
use crate::edge::account::client::AccountClient;
use crate::edge::auth::SessionCheck;
use crate::edge::error::ApiError;
use crate::edge::platform;
use crate::edge::request::IncomingRequest;
use crate::edge::response::{json_response, no_content};
use crate::edge::views::{HolderListing, ListedImpersonation, ListedSession, RevokedCount};
use worker::{Env, Response};

/// `GET /v1/sessions`: the caller's account's live sessions, newest first.
pub async fn handle_list(req: &IncomingRequest, env: &Env, config: &Config) -> Result<Response, ApiError> {
    let auth = SessionCheck::new().rate_limited().session_control().check(req, env, config, platform::now()).await?;
    let own = &auth.record.session_id;
    let client = AccountClient::for_account(env, &auth.record.account_id)?;
    let limit = config.policy.max_sessions.saturating_add(IMPERSONATIONS_LISTED_MAX);
    let records = client.list(limit, Some(&auth.caller())).await?;
    let (impersonations, own_devices): (Vec<_>, Vec<_>) = records.iter().partition(|r| r.impersonation.is_some());
    let sessions = own_devices.into_iter().map(|r| ListedSession::new(r, Some(&r.session_id == own))).collect();
    let impersonations = impersonations.into_iter().filter_map(ListedImpersonation::of).collect();
    Ok(json_response(200, &HolderListing { sessions, impersonations }))
}

/// `DELETE /v1/sessions/{session_id}`: revoke one of the caller's own account's
/// sessions. An id of another account answers exactly like an unknown id (404).
pub async fn handle_revoke_one(
    req: &IncomingRequest,
    env: &Env,
    config: &Config,
    raw_session_id: &str,
) -> Result<Response, ApiError> {
    let auth =
        SessionCheck::new().csrf().rate_limited().session_control().check(req, env, config, platform::now()).await?;
    let not_found = || ApiError::new(ErrorCode::UnknownSessionId);
    let session_id = SessionId::parse(raw_session_id).ok_or_else(not_found)?;
    let client = AccountClient::for_account(env, &auth.record.account_id)?;
    if !client.revoke(&session_id, RevokeReason::RevokedByUser, Some(&auth.caller())).await? {
        return Err(not_found());
    }
    Ok(no_content())
}

/// `DELETE /v1/sessions` (log out everywhere, clearing this cookie too) and
/// `DELETE /v1/sessions?scope=others` (everywhere but here).
pub async fn handle_revoke_all(req: &IncomingRequest, env: &Env, config: &Config) -> Result<Response, ApiError> {
    let keep_current = match req.query_param("scope").as_deref() {
        None | Some("all") => false,
        Some("others") => true,
        Some(_) => return Err(ApiError::new(ErrorCode::InvalidScope)),
    };
    let auth =
        SessionCheck::new().csrf().rate_limited().session_control().check(req, env, config, platform::now()).await?;
    let own = &auth.record.session_id;
    let client = AccountClient::for_account(env, &auth.record.account_id)?;
    let (except, reason) =
        if keep_current { (Some(own), RevokeReason::LogoutOthers) } else { (None, RevokeReason::LogoutEverywhere) };
    let revoked = client.revoke_all(except, reason, Some(&auth.caller())).await?;
    let mut response = json_response(200, &RevokedCount { revoked });
    if !keep_current {
        let _ = response.headers_mut().append("Set-Cookie", &clear_session_cookie(&config.cookie_name));
    }
    Ok(response)
}
