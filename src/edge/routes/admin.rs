//! The admin API, for the origin's servers: every handler first passes
//! [`require_admin`] (a key compared in constant time, refused outright when none is
//! configured).

use crate::core::account::AccountId;
use crate::core::config::Config;
use crate::core::cookie::session_cookie;
use crate::core::error_code::ErrorCode;
use crate::core::event::RevokeReason;
use crate::core::policy::LifetimeOverrides;
use crate::core::record::SessionMeta;
use crate::core::timestamp::rfc3339;
use crate::core::token::SessionId;
use crate::edge::account::client::AccountClient;
use crate::edge::auth::require_admin;
use crate::edge::error::ApiError;
use crate::edge::platform;
use crate::edge::request::{limit_param, query_param, read_optional_json};
use crate::edge::response::{json_response, no_content};
use crate::edge::session_store::SessionStore;
use crate::edge::views::{FleetListing, FleetSession, ListedSession, Listing, RevokedCount};
use serde::{Deserialize, Serialize};
use worker::{Env, Request, Response};

fn parse_account_id(raw: &str) -> Result<AccountId, ApiError> {
    AccountId::parse(raw).map_err(|e| ApiError::with_message(ErrorCode::InvalidAccountId, e.to_string()))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CreateSessionBody {
    ip: Option<String>,
    user_agent: Option<String>,
    label: Option<String>,
    idle_ttl_secs: Option<i64>,
    absolute_ttl_secs: Option<i64>,
}

#[derive(Serialize)]
struct CreatedSession<'a> {
    /// The plaintext token: returned here once and never again.
    token: &'a str,
    session_id: &'a str,
    account_id: &'a str,
    created_at: String,
    expires_at: String,
    absolute_expires_at: String,
    evicted: Vec<SessionId>,
}

/// `POST /v1/admin/accounts/{account_id}/sessions`
pub async fn handle_create(
    mut req: Request,
    env: &Env,
    config: &Config,
    raw_account_id: &str,
) -> Result<Response, ApiError> {
    require_admin(&req, env)?;
    let account_id = parse_account_id(raw_account_id)?;
    let body: CreateSessionBody = read_optional_json(&mut req).await?;
    let meta = SessionMeta { ip: body.ip, user_agent: body.user_agent, label: body.label };
    meta.validate().map_err(|e| ApiError::with_message(ErrorCode::InvalidMetadata, e.to_string()))?;
    let overrides =
        LifetimeOverrides { idle_timeout_secs: body.idle_ttl_secs, absolute_lifetime_secs: body.absolute_ttl_secs };

    let token = platform::new_token().map_err(|e| ApiError::internal("random token", e))?;
    let now = platform::now();
    let record = config
        .policy
        .start(account_id, token.session_id(), meta, overrides, now)
        .map_err(|e| ApiError::with_message(ErrorCode::InvalidLifetime, e.to_string()))?;
    let evicted = AccountClient::for_account(env, &record.account_id)?.create(&record, &token.hash()).await?;

    let body = CreatedSession {
        token: token.expose_secret(),
        session_id: record.session_id.as_str(),
        account_id: record.account_id.as_str(),
        created_at: rfc3339(record.created_at),
        expires_at: rfc3339(record.idle_expires_at),
        absolute_expires_at: rfc3339(record.absolute_expires_at),
        evicted,
    };
    let mut response = json_response(201, &body);
    let cookie = session_cookie(&config.cookie_name, token.expose_secret(), record.absolute_expires_at, now);
    let _ = response.headers_mut().append("Set-Cookie", &cookie);
    Ok(response)
}

/// Default and largest page of an account's listing.
const ACCOUNT_LIST_DEFAULT: u32 = 50;
const ACCOUNT_LIST_CAP: u32 = 1000;

/// Default and largest page of the fleet-wide listing (KV `list` returns at most 1000).
const FLEET_LIST_DEFAULT: u32 = 200;
const FLEET_LIST_CAP: u32 = 1000;

/// `GET /v1/admin/accounts/{account_id}/sessions?limit=`: newest first, from the index.
pub async fn handle_list_account(req: &Request, env: &Env, raw_account_id: &str) -> Result<Response, ApiError> {
    require_admin(req, env)?;
    let account_id = parse_account_id(raw_account_id)?;
    let limit = limit_param(req, ACCOUNT_LIST_DEFAULT, ACCOUNT_LIST_CAP)?;
    let records = AccountClient::for_account(env, &account_id)?.list(limit, None).await?;
    let sessions = records.iter().map(|r| ListedSession::new(r, None)).collect();
    Ok(json_response(200, &Listing { sessions }))
}

/// `DELETE /v1/admin/accounts/{account_id}/sessions`: revoke all; `{"revoked": n}`.
pub async fn handle_revoke_account(req: &Request, env: &Env, raw_account_id: &str) -> Result<Response, ApiError> {
    require_admin(req, env)?;
    let account_id = parse_account_id(raw_account_id)?;
    let revoked =
        AccountClient::for_account(env, &account_id)?.revoke_all(None, RevokeReason::AdminRevokeAll, None).await?;
    Ok(json_response(200, &RevokedCount { revoked }))
}

/// `DELETE /v1/admin/accounts/{account_id}/sessions/{session_id}`: 204, or 404 when the
/// session is not this account's.
pub async fn handle_revoke_session(
    req: &Request,
    env: &Env,
    raw_account_id: &str,
    raw_session_id: &str,
) -> Result<Response, ApiError> {
    require_admin(req, env)?;
    let account_id = parse_account_id(raw_account_id)?;
    let not_found = || ApiError::new(ErrorCode::UnknownSessionId);
    let session_id = SessionId::parse(raw_session_id).ok_or_else(not_found)?;
    if !AccountClient::for_account(env, &account_id)?.revoke(&session_id, RevokeReason::AdminRevoke, None).await? {
        return Err(not_found());
    }
    Ok(no_content())
}

/// `GET /v1/admin/sessions?limit=&cursor=`: active sessions across all accounts, from
/// KV key metadata. Eventually consistent (see README): a page can include a session
/// revoked in the last minute and miss one created in the last minute.
pub async fn handle_list_fleet(req: &Request, env: &Env) -> Result<Response, ApiError> {
    require_admin(req, env)?;
    let limit = limit_param(req, FLEET_LIST_DEFAULT, FLEET_LIST_CAP)?;
    let cursor = query_param(req, "cursor");
    let invalid_cursor = || ApiError::new(ErrorCode::InvalidCursor);
    if let Some(c) = &cursor {
        let plausible =
            !c.is_empty() && c.len() <= 1024 && c.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_=+/.".contains(&b));
        if !plausible {
            return Err(invalid_cursor());
        }
    }
    let supplied_cursor = cursor.is_some();
    let store = SessionStore::from_env(env).map_err(|e| ApiError::internal("SESSIONS binding", e))?;
    let (keys, cursor) = store.list_live(limit, cursor, platform::now()).await.map_err(|e| {
        // KV rejects a cursor it did not issue; that is the caller's mistake.
        if supplied_cursor {
            invalid_cursor()
        } else {
            ApiError::internal("SESSIONS list", e)
        }
    })?;
    let sessions = keys
        .iter()
        .map(|k| FleetSession {
            account_id: &k.account_id,
            session_id: &k.session_id,
            expires_at: k.expires_at,
            absolute_expires_at: k.absolute_expires_at,
        })
        .collect();
    Ok(json_response(200, &FleetListing { sessions, cursor }))
}
