//! The admin API, for the origin: authenticated by `Authorization: Bearer <ADMIN_KEY>`,
//! compared in constant time, and refused outright when no key is configured.

use crate::core::account::AccountId;
use crate::core::admin_key::AdminKeyState;
use crate::core::config::Config;
use crate::core::cookie::session_cookie;
use crate::core::credentials::bearer_value;
use crate::core::policy::LifetimeOverrides;
use crate::core::record::SessionMeta;
use crate::core::timestamp::rfc3339;
use crate::core::token::SessionId;
use crate::edge::account_client::AccountClient;
use crate::edge::account_routes::{ListedSession, Listing, RevokedCount};
use crate::edge::http::{header, json_response, limit_param, no_content, query_param, read_optional_json, ApiError};
use crate::edge::session_store::SessionStore;
use crate::edge::platform;
use crate::edge::settings::admin_key;
use serde::{Deserialize, Serialize};
use worker::{Env, Request, Response};

/// Fails closed: no key configured means no admin API.
pub fn require_admin(req: &Request, env: &Env) -> Result<(), ApiError> {
    let key = match admin_key(env) {
        AdminKeyState::NotConfigured => {
            return Err(ApiError::new(403, "admin_disabled", "the admin API is disabled: ADMIN_KEY is not configured"))
        }
        AdminKeyState::TooShort => {
            return Err(ApiError::new(500, "invalid_config", "invalid configuration: ADMIN_KEY must be at least 32 characters"))
        }
        AdminKeyState::Configured(key) => key,
    };
    let presented = header(req, "Authorization");
    match presented.as_deref().and_then(bearer_value) {
        Some(candidate) if key.verify(candidate) => Ok(()),
        _ => Err(ApiError::unauthorized("invalid_admin_key", "a valid admin key is required")),
    }
}

pub fn parse_account_id(raw: &str) -> Result<AccountId, ApiError> {
    AccountId::parse(raw).map_err(|e| ApiError::bad_request("invalid_account_id", e.to_string()))
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
pub async fn handle_create(mut req: Request, env: &Env, config: &Config, raw_account_id: &str) -> Result<Response, ApiError> {
    require_admin(&req, env)?;
    let account_id = parse_account_id(raw_account_id)?;
    let body: CreateSessionBody = read_optional_json(&mut req).await?;
    let meta = SessionMeta { ip: body.ip, user_agent: body.user_agent, label: body.label };
    meta.validate().map_err(|e| ApiError::bad_request("invalid_metadata", e.to_string()))?;
    let overrides = LifetimeOverrides { idle_timeout_secs: body.idle_ttl_secs, absolute_lifetime_secs: body.absolute_ttl_secs };

    let token = platform::new_token().map_err(|e| ApiError::internal("random token", e))?;
    let now = platform::now();
    let record = config
        .policy
        .start(account_id, token.session_id(), meta, overrides, now)
        .map_err(|e| ApiError::bad_request("invalid_lifetime", e.to_string()))?;
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
    let revoked = AccountClient::for_account(env, &account_id)?.revoke_all(None, "admin_revoke_all", None).await?;
    Ok(json_response(200, &RevokedCount { revoked }))
}

/// `DELETE /v1/admin/accounts/{account_id}/sessions/{session_id}`: 204, or 404 when the
/// session is not this account's.
pub async fn handle_revoke_session(req: &Request, env: &Env, raw_account_id: &str, raw_session_id: &str) -> Result<Response, ApiError> {
    require_admin(req, env)?;
    let account_id = parse_account_id(raw_account_id)?;
    let not_found = || ApiError::new(404, "session_not_found", "no session with this id in this account");
    let session_id = SessionId::parse(raw_session_id).ok_or_else(not_found)?;
    if !AccountClient::for_account(env, &account_id)?.revoke(&session_id, "admin_revoke", None).await? {
        return Err(not_found());
    }
    Ok(no_content())
}

#[derive(Serialize)]
struct FleetListing {
    sessions: Vec<crate::edge::session_store::ListedKey>,
    /// Pass back as `?cursor=` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    cursor: Option<String>,
}

/// `GET /v1/admin/sessions?limit=&cursor=`: active sessions across all accounts, from
/// KV key metadata. Eventually consistent (see README): a page can include a session
/// revoked in the last minute and miss one created in the last minute.
pub async fn handle_list_fleet(req: &Request, env: &Env) -> Result<Response, ApiError> {
    require_admin(req, env)?;
    let limit = limit_param(req, FLEET_LIST_DEFAULT, FLEET_LIST_CAP)?;
    let cursor = query_param(req, "cursor");
    let invalid_cursor = || ApiError::bad_request("invalid_cursor", "cursor must be one returned by a previous page");
    if let Some(c) = &cursor {
        let plausible = !c.is_empty() && c.len() <= 1024 && c.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_=+/.".contains(&b));
        if !plausible {
            return Err(invalid_cursor());
        }
    }
    let supplied_cursor = cursor.is_some();
    let store = SessionStore::from_env(env).map_err(|e| ApiError::internal("SESSIONS binding", e))?;
    let (sessions, cursor) = store.list_live(limit, cursor, platform::now()).await.map_err(|e| {
        // KV rejects a cursor it did not issue; that is the caller's mistake.
        if supplied_cursor { invalid_cursor() } else { ApiError::internal("SESSIONS list", e) }
    })?;
    Ok(json_response(200, &FleetListing { sessions, cursor }))
}
