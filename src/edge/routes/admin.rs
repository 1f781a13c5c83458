//! The admin API, for the origin's servers: every handler first passes
//! [`require_admin`] (a key compared in constant time, refused outright when none is
//! configured).

use crate::core::claims::SessionClaims;
use crate::core::config::Config;
use crate::core::cookie::session_cookie;
use crate::core::credentials::CredentialSource;
use crate::core::error_code::ErrorCode;
use crate::core::event::RevokeReason;
use crate::core::policy::LifetimeOverrides;
use crate::core::record::{SessionMeta, SessionRecord};
use crate::core::step_up::{check_auth_facts, parse_authenticated_at, AuthFacts, AuthenticatedAt, AAL_MIN};
use crate::core::token::SessionId;
use crate::core::whole_number;
use crate::core::UnixMillis;
use crate::edge::account::client::AccountClient;
use crate::edge::account::protocol::Reauthentication;
use crate::edge::auth::require_admin;
use crate::edge::device_binding::{registration_offer, session_cookies};
use crate::edge::error::ApiError;
use crate::edge::platform;
use crate::edge::request::{limit_param, parse_account_id, parse_session_address, read_optional_json, IncomingRequest};
use crate::edge::response::{json_response, no_content};
use crate::edge::session_store::SessionStore;
use crate::edge::views::{
    FleetListing, FleetSession, IssuedToken, ListedSession, Listing, RevokedCount, SessionView, UpdatedCount,
};
use serde::{Deserialize, Serialize};
use worker::{Env, Response};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CreateSessionBody {
    ip: Option<String>,
    user_agent: Option<String>,
    label: Option<String>,
    #[serde(default, deserialize_with = "whole_number::optional")]
    idle_ttl_secs: Option<i64>,
    #[serde(default, deserialize_with = "whole_number::optional")]
    absolute_ttl_secs: Option<i64>,
    /// When the origin checked the credentials: RFC 3339 or unix seconds, at most 10
    /// minutes ago. Default: now.
    authenticated_at: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "whole_number::optional")]
    aal: Option<u8>,
    amr: Option<Vec<String>>,
    /// Stored as they are and carried by assertions; see docs/claims.md.
    claims: Option<serde_json::Value>,
}

fn parse_claims(value: serde_json::Value) -> Result<SessionClaims, ApiError> {
    Ok(SessionClaims::parse(value)?)
}

/// The authentication facts a create or reauthentication body reports, checked.
/// Without `authenticated_at`, the login is dated by this worker's clock on arrival.
fn auth_facts(
    authenticated_at: Option<&serde_json::Value>,
    aal: Option<u8>,
    amr: Option<Vec<String>>,
    now_ms: UnixMillis,
) -> Result<(AuthFacts, AuthenticatedAt), ApiError> {
    let at = match authenticated_at {
        None => AuthenticatedAt::exact(now_ms),
        Some(value) => parse_authenticated_at(value, now_ms.div_euclid(1000))?,
    };
    let facts = AuthFacts { authenticated_at: at.secs, aal: aal.unwrap_or(AAL_MIN), amr: amr.unwrap_or_default() };
    check_auth_facts(facts.aal, &facts.amr)?;
    Ok((facts, at))
}

#[derive(Serialize)]
struct CreatedSession<'a> {
    #[serde(flatten)]
    issued: IssuedToken<'a>,
    evicted: Vec<SessionId>,
}

/// `POST /v1/admin/accounts/{account_id}/sessions`
pub async fn handle_create(
    mut req: IncomingRequest,
    env: &Env,
    config: &Config,
    raw_account_id: &str,
) -> Result<Response, ApiError> {
    require_admin(&req, env)?;
    let account_id = parse_account_id(raw_account_id)?;
    let body: CreateSessionBody = read_optional_json(&mut req).await?;
    let meta = SessionMeta { ip: body.ip, user_agent: body.user_agent, label: body.label };
    meta.validate()?;
    let overrides =
        LifetimeOverrides { idle_timeout_secs: body.idle_ttl_secs, absolute_lifetime_secs: body.absolute_ttl_secs };
    let now_ms = platform::now_millis();
    let now = now_ms.div_euclid(1000);
    let (facts, authenticated_at) = auth_facts(body.authenticated_at.as_ref(), body.aal, body.amr, now_ms)?;
    let claims = body.claims.map(parse_claims).transpose()?.unwrap_or_default();

    let token = platform::new_token()?;
    let mut record = config.policy.start(account_id, token.session_id(), meta, overrides, now)?.with_auth(facts);
    record.claims = claims;
    let evicted = AccountClient::for_account(env, &record.account_id)?
        .create(&record, &token.hash(), authenticated_at.millis)
        .await?;

    let body = CreatedSession {
        issued: IssuedToken {
            token: token.expose_secret(),
            session: SessionView::from(&record),
            device_binding_registration: registration_for_origin(config, &record),
        },
        evicted,
    };
    let mut response = json_response(201, &body);
    let cookie = session_cookie(&config.cookie_name, token.expose_secret(), record.absolute_expires_at, now);
    let _ = response.headers_mut().append("Set-Cookie", &cookie);
    Ok(response)
}

/// A ready `Secure-Session-Registration` value for the origin's own login answer, when
/// device binding is on and the session is not bound yet.
fn registration_for_origin(config: &Config, record: &SessionRecord) -> Option<String> {
    registration_offer(config, record, CredentialSource::Cookie)
}

/// Default and largest page of an account's listing.
const ACCOUNT_LIST_DEFAULT: u32 = 50;
const ACCOUNT_LIST_CAP: u32 = 1000;

/// Default and largest page of the fleet-wide listing (KV `list` returns at most 1000).
const FLEET_LIST_DEFAULT: u32 = 200;
const FLEET_LIST_CAP: u32 = 1000;

/// `GET /v1/admin/accounts/{account_id}/sessions?limit=`: newest first, from the index.
pub async fn handle_list_account(req: &IncomingRequest, env: &Env, raw_account_id: &str) -> Result<Response, ApiError> {
    require_admin(req, env)?;
    let account_id = parse_account_id(raw_account_id)?;
    let limit = limit_param(req, ACCOUNT_LIST_DEFAULT, ACCOUNT_LIST_CAP)?;
    let records = AccountClient::for_account(env, &account_id)?.list(limit, None).await?;
    // Impersonation sessions are not the user's devices: `…/impersonations` lists them.
    let sessions = records.iter().filter(|r| r.impersonation.is_none()).map(|r| ListedSession::new(r, None)).collect();
    Ok(json_response(200, &Listing { sessions }))
}

/// `DELETE /v1/admin/accounts/{account_id}/sessions[?except=<session_id>]`: revoke all,
/// or all but one (what an origin calls after a password change, keeping the session
/// that changed it); `{"revoked": n}`. Later creates whose authentication predates this
/// are refused (409 `stale_authentication`).
pub async fn handle_revoke_account(
    req: &IncomingRequest,
    env: &Env,
    raw_account_id: &str,
) -> Result<Response, ApiError> {
    require_admin(req, env)?;
    let account_id = parse_account_id(raw_account_id)?;
    let except =
        match req.query_param("except") {
            None => None,
            Some(raw) => Some(SessionId::parse(&raw).ok_or_else(|| {
                ApiError::with_message(ErrorCode::InvalidScope, "except must be a session id (sid_...)")
            })?),
        };
    let revoked = AccountClient::for_account(env, &account_id)?
        .revoke_all(except.as_ref(), RevokeReason::AdminRevokeAll, None)
        .await?;
    Ok(json_response(200, &RevokedCount { revoked }))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ReauthenticateBody {
    #[serde(default, deserialize_with = "whole_number::optional")]
    aal: Option<u8>,
    amr: Option<Vec<String>>,
}

/// `POST /v1/admin/accounts/{account_id}/sessions/{session_id}/reauthenticate`: for the
/// origin, after it checked the password or second factor again. The session gets a new
/// token (ASVS 7.2.4) and new authentication facts, dated now; its idle window starts
/// over; its id, creation time and absolute deadline stay. 200 with the token and a ready
/// `Set-Cookie`; 404 when the session is not this account's live session.
pub async fn handle_reauthenticate(
    mut req: IncomingRequest,
    env: &Env,
    config: &Config,
    raw_account_id: &str,
    raw_session_id: &str,
) -> Result<Response, ApiError> {
    require_admin(&req, env)?;
    let (account_id, session_id) = parse_session_address(raw_account_id, raw_session_id)?;
    let not_found = || ApiError::new(ErrorCode::UnknownSessionId);
    let body: ReauthenticateBody = read_optional_json(&mut req).await?;
    let now_ms = platform::now_millis();
    let now = now_ms.div_euclid(1000);
    let (facts, _) = auth_facts(None, body.aal, body.amr, now_ms)?;
    let token = platform::new_token()?;
    let reauthentication = Reauthentication { aal: facts.aal, amr: facts.amr };
    let record = AccountClient::for_account(env, &account_id)?
        .rotate(&session_id, &token.hash(), None, Some(reauthentication))
        .await?
        .ok_or_else(not_found)?;
    let issued = IssuedToken {
        token: token.expose_secret(),
        session: SessionView::from(&record),
        device_binding_registration: registration_for_origin(config, &record),
    };
    let mut response = json_response(200, &issued);
    // A bound session keeps its binding: its browser gets a new bound cookie and the new
    // token in the DBSC endpoints' cookie (the token in the body works at those only).
    for cookie in session_cookies(config, &token, &record, now) {
        let _ = response.headers_mut().append("Set-Cookie", &cookie);
    }
    Ok(response)
}

/// `DELETE /v1/admin/accounts/{account_id}/sessions/{session_id}`: 204, or 404 when the
/// session is not this account's.
pub async fn handle_revoke_session(
    req: &IncomingRequest,
    env: &Env,
    raw_account_id: &str,
    raw_session_id: &str,
) -> Result<Response, ApiError> {
    require_admin(req, env)?;
    let (account_id, session_id) = parse_session_address(raw_account_id, raw_session_id)?;
    let not_found = || ApiError::new(ErrorCode::UnknownSessionId);
    if !AccountClient::for_account(env, &account_id)?.revoke(&session_id, RevokeReason::AdminRevoke, None).await? {
        return Err(not_found());
    }
    Ok(no_content())
}

/// `GET /v1/admin/sessions?limit=&cursor=`: active sessions across all accounts, from
/// KV key metadata. Eventually consistent (see README): a page can include a session
/// revoked in the last minute and miss one created in the last minute.
pub async fn handle_list_fleet(req: &IncomingRequest, env: &Env) -> Result<Response, ApiError> {
    require_admin(req, env)?;
    let limit = limit_param(req, FLEET_LIST_DEFAULT, FLEET_LIST_CAP)?;
    let cursor = req.query_param("cursor");
    let invalid_cursor = || ApiError::new(ErrorCode::InvalidCursor);
    if let Some(c) = &cursor {
        let plausible =
            !c.is_empty() && c.len() <= 1024 && c.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_=+/.".contains(&b));
        if !plausible {
            return Err(invalid_cursor());
        }
    }
    let supplied_cursor = cursor.is_some();
    let store = SessionStore::from_env(env)?;
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClaimsBody {
    claims: serde_json::Value,
}

impl Default for ClaimsBody {
    fn default() -> Self {
        // An empty body is not "no claims": it is a mistake, refused as not an object.
        ClaimsBody { claims: serde_json::Value::Null }
    }
}

/// `PATCH /v1/admin/accounts/{account_id}/sessions/{session_id}` with `{"claims": {...}}`:
/// replaces one session's claims; answers with the session (as listings show it).
pub async fn handle_update_session_claims(
    mut req: IncomingRequest,
    env: &Env,
    raw_account_id: &str,
    raw_session_id: &str,
) -> Result<Response, ApiError> {
    require_admin(&req, env)?;
    let (account_id, session_id) = parse_session_address(raw_account_id, raw_session_id)?;
    let not_found = || ApiError::new(ErrorCode::UnknownSessionId);
    let body: ClaimsBody = read_optional_json(&mut req).await?;
    let claims = parse_claims(body.claims)?;
    let updated = AccountClient::for_account(env, &account_id)?.update_claims(Some(&session_id), &claims).await?;
    let record = updated.first().ok_or_else(not_found)?;
    Ok(json_response(200, &ListedSession::new(record, None)))
}

/// `PATCH /v1/admin/accounts/{account_id}/sessions` with `{"claims": {...}}`: replaces the
/// claims of every live session of the account (a role change); `{"updated": n}`.
pub async fn handle_update_account_claims(
    mut req: IncomingRequest,
    env: &Env,
    raw_account_id: &str,
) -> Result<Response, ApiError> {
    require_admin(&req, env)?;
    let account_id = parse_account_id(raw_account_id)?;
    let body: ClaimsBody = read_optional_json(&mut req).await?;
    let claims = parse_claims(body.claims)?;
    let updated = AccountClient::for_account(env, &account_id)?.update_claims(None, &claims).await?;
    Ok(json_response(200, &UpdatedCount { updated: updated.len() as u32 }))
}
