//! The admin API for impersonation (support's "view as"): open one for an account, list
//! and end an account's, and list and end one actor's across accounts. Every handler
//! first passes [`require_admin`]. The rules the session is held to are the core's
//! (`core::impersonation`).

use crate::core::account::AccountId;
use crate::core::config::Config;
use crate::core::error_code::ErrorCode;
use crate::core::impersonation::{ImpersonationBody, ImpersonationRequest, ACTOR_MAX_LEN};
use crate::core::step_up::AuthenticatedAt;
use crate::core::timestamp::rfc3339;
use crate::edge::account::client::AccountClient;
use crate::edge::auth::require_admin;
use crate::edge::error::ApiError;
use crate::edge::platform;
use crate::edge::request::{parse_account_id, parse_session_address, read_optional_json, IncomingRequest};
use crate::edge::response::{json_response, no_content};
use crate::edge::session_store::{KeyMetadata, SessionStore};
use crate::edge::views::{
    EndedCount, FleetImpersonation, FleetImpersonationListing, ImpersonationListing, IssuedToken, ListedImpersonation,
    SessionView,
};
use worker::{Env, Response};

/// Most sessions one account's impersonation listing reads from its index.
const ACCOUNT_LIST_CAP: u32 = 1000;

/// Most KV list pages (1000 keys each) a search by actor reads: 100,000 live sessions.
/// Past that it answers with what it found and `"complete": false`.
const FLEET_SCAN_PAGES: u32 = 100;

/// `POST /v1/admin/accounts/{account_id}/impersonations` with
/// `{"actor", "reason", "ttl_secs"}`: 201 with the token, once, and the session. No
/// cookie: the token is for the support tool, not for the admin's own browser profile.
pub async fn handle_create(
    mut req: IncomingRequest,
    env: &Env,
    config: &Config,
    raw_account_id: &str,
) -> Result<Response, ApiError> {
    require_admin(&req, env)?;
    let account_id = parse_account_id(raw_account_id)?;
    let body: ImpersonationBody = read_optional_json(&mut req).await?;
    let request = ImpersonationRequest::parse(body)?;
    let now_ms = platform::now_millis();
    let token = platform::new_token()?;
    let record = request.start(&config.policy, account_id, token.session_id(), now_ms.div_euclid(1000))?;
    AccountClient::for_account(env, &record.account_id)?
        .create(&record, &token.hash(), AuthenticatedAt::exact(now_ms).millis)
        .await?;
    let body = IssuedToken {
        token: token.expose_secret(),
        session: SessionView::from(&record),
        // Never bound: an impersonation session is opened by the admin, not by a browser of its own.
        device_binding_registration: None,
    };
    Ok(json_response(201, &body))
}

/// `GET /v1/admin/accounts/{account_id}/impersonations`: the account's live
/// impersonation sessions, newest first, from its index.
pub async fn handle_list_account(req: &IncomingRequest, env: &Env, raw_account_id: &str) -> Result<Response, ApiError> {
    require_admin(req, env)?;
    let account_id = parse_account_id(raw_account_id)?;
    let records = AccountClient::for_account(env, &account_id)?.list(ACCOUNT_LIST_CAP, None).await?;
    let impersonations = records.iter().filter_map(ListedImpersonation::of).collect();
    Ok(json_response(200, &ImpersonationListing { impersonations }))
}

/// `DELETE /v1/admin/accounts/{account_id}/impersonations`: ends every impersonation of
/// the account; `{"ended": n}`. The user's own sessions stay.
pub async fn handle_end_account(req: &IncomingRequest, env: &Env, raw_account_id: &str) -> Result<Response, ApiError> {
    require_admin(req, env)?;
    let account_id = parse_account_id(raw_account_id)?;
    let ended = AccountClient::for_account(env, &account_id)?.end_impersonations(None, None).await?;
    Ok(json_response(200, &EndedCount { ended: ended.len() as u32 }))
}

/// `DELETE /v1/admin/accounts/{account_id}/impersonations/{session_id}`: 204, or 404 when
/// it is not an impersonation session of this account (a user's own session is not
/// ended here).
pub async fn handle_end_one(
    req: &IncomingRequest,
    env: &Env,
    raw_account_id: &str,
    raw_session_id: &str,
) -> Result<Response, ApiError> {
    require_admin(req, env)?;
    let (account_id, session_id) = parse_session_address(raw_account_id, raw_session_id)?;
    let ended = AccountClient::for_account(env, &account_id)?.end_impersonations(Some(&session_id), None).await?;
    if ended.is_empty() {
        return Err(ApiError::new(ErrorCode::UnknownSessionId));
    }
    Ok(no_content())
}

/// `?actor=`: required, and held to the same rules as the actor a create names.
fn actor_param(req: &IncomingRequest) -> Result<String, ApiError> {
    let invalid = || ApiError::with_message(ErrorCode::InvalidScope, "actor= must name the actor (1 to 128 bytes)");
    let actor = req.query_param("actor").filter(|a| !a.trim().is_empty()).ok_or_else(invalid)?;
    crate::core::record::check_text("actor", &actor, ACTOR_MAX_LEN).map_err(|_| invalid())?;
    Ok(actor)
}

/// Every live impersonation by `actor`, across accounts, from KV key metadata; and
/// whether the scan covered the whole namespace.
async fn find_by_actor(env: &Env, actor: &str) -> Result<(Vec<KeyMetadata>, bool), ApiError> {
    let store = SessionStore::from_env(env)?;
    let now = platform::now();
    let mut found = Vec::new();
    let mut cursor = None;
    for _ in 0..FLEET_SCAN_PAGES {
        let (keys, next) =
            store.list_live(1000, cursor, now).await.map_err(|e| ApiError::internal("SESSIONS list", e))?;
        found.extend(keys.into_iter().filter(|k| k.actor.as_deref() == Some(actor)));
        match next {
            Some(next) => cursor = Some(next),
            None => return Ok((found, true)),
        }
    }
    Ok((found, false))
}

/// `GET /v1/admin/impersonations?actor=`: the actor's live impersonations across
/// accounts. Eventually consistent, like the fleet listing: one opened or ended in the
/// last minute may be missing or still shown.
pub async fn handle_list_actor(req: &IncomingRequest, env: &Env) -> Result<Response, ApiError> {
    require_admin(req, env)?;
    let actor = actor_param(req)?;
    let (keys, complete) = find_by_actor(env, &actor).await?;
    let impersonations = keys
        .iter()
        .map(|k| FleetImpersonation {
            account_id: &k.account_id,
            session_id: &k.session_id,
            actor: &actor,
            expires_at: rfc3339(k.absolute_expires_at.min(k.expires_at)),
        })
        .collect();
    Ok(json_response(200, &FleetImpersonationListing { impersonations, complete }))
}

/// `DELETE /v1/admin/impersonations?actor=`: ends the actor's impersonations in every
/// account the KV listing names (each account's index then ends all of that actor's, so
/// one opened a moment ago in a listed account ends too); `{"ended": n}`.
pub async fn handle_end_actor(req: &IncomingRequest, env: &Env) -> Result<Response, ApiError> {
    require_admin(req, env)?;
    let actor = actor_param(req)?;
    let (keys, _) = find_by_actor(env, &actor).await?;
    let mut accounts: Vec<&str> = keys.iter().map(|k| k.account_id.as_str()).collect();
    accounts.sort_unstable();
    accounts.dedup();
    let mut ended = 0u32;
    for account in accounts {
        let Ok(account_id) = AccountId::parse(account) else { continue };
        let client = AccountClient::for_account(env, &account_id)?;
        ended += client.end_impersonations(None, Some(&actor)).await?.len() as u32;
    }
    Ok(json_response(200, &EndedCount { ended }))
}
