//! Endpoints for the session holder: validate, refresh, logout.

use crate::core::cookie::clear_session_cookie;
use crate::core::config::Config;
use crate::core::credentials::{extract_credential, Credential, CredentialError, CredentialSource};
use crate::core::origin::{cookie_write_allowed, origin_of_url};
use crate::core::policy::{Touch, Validity};
use crate::core::record::SessionRecord;
use crate::core::timestamp::rfc3339;
use crate::core::token::TokenHash;
use crate::core::UnixSeconds;
use crate::edge::account_client::AccountClient;
use crate::edge::account_protocol::TouchOutcome;
use crate::edge::http::{header, json_response, no_content, query_param, ApiError};
use crate::edge::platform;
use crate::edge::session_store::{SessionStore, StoreError};
use serde::Serialize;
use worker::{Context, Env, Request, Response};

/// What the session endpoints return about a session.
#[derive(Serialize)]
pub struct SessionView<'a> {
    pub account_id: &'a str,
    pub session_id: &'a str,
    pub created_at: String,
    /// The idle deadline: the session ends here unless it is used.
    pub expires_at: String,
    pub absolute_expires_at: String,
}

impl<'a> From<&'a SessionRecord> for SessionView<'a> {
    fn from(r: &'a SessionRecord) -> Self {
        SessionView {
            account_id: r.account_id.as_str(),
            session_id: r.session_id.as_str(),
            created_at: rfc3339(r.created_at),
            expires_at: rfc3339(r.idle_expires_at),
            absolute_expires_at: rfc3339(r.absolute_expires_at),
        }
    }
}

/// A request whose token opened a currently valid session.
pub struct Authenticated {
    pub hash: TokenHash,
    pub record: SessionRecord,
    pub source: CredentialSource,
}

/// The request's credential, mapped to the API's error codes.
pub fn credential(req: &Request, config: &Config) -> Result<Credential, ApiError> {
    let cookie = header(req, "Cookie");
    let authorization = header(req, "Authorization");
    extract_credential(cookie.as_deref(), authorization.as_deref(), &config.cookie_name).map_err(|e| {
        let message = e.to_string();
        match e {
            CredentialError::Missing => ApiError::unauthorized("missing_token", message),
            CredentialError::Invalid(_) | CredentialError::NotBearer => ApiError::unauthorized("invalid_token", message),
            CredentialError::DuplicateCookie | CredentialError::Conflicting => ApiError::bad_request("ambiguous_token", message),
            CredentialError::HeaderTooLarge => ApiError::new(431, "header_too_large", message),
        }
    })
}

/// One KV read, then the record's own deadlines (KV expiry is lazy; never trust it).
pub async fn authenticate(req: &Request, env: &Env, config: &Config, now: UnixSeconds) -> Result<Authenticated, ApiError> {
    let Credential { token, source } = credential(req, config)?;
    let hash = token.hash();
    let record = load_record(env, &hash).await?.ok_or_else(session_not_found)?;
    match config.policy.check(&record, now) {
        Validity::Valid => Ok(Authenticated { hash, record, source }),
        Validity::ExpiredIdle | Validity::ExpiredAbsolute => Err(session_expired()),
    }
}

async fn load_record(env: &Env, hash: &TokenHash) -> Result<Option<SessionRecord>, ApiError> {
    let store = SessionStore::from_env(env).map_err(|e| ApiError::internal("SESSIONS binding", e))?;
    match store.get(hash).await {
        Ok(record) => Ok(record),
        // A record this build cannot read opens nothing: fail closed, and say so in the log.
        Err(StoreError::Undecodable(e)) => {
            crate::edge::http::log_error("error", "undecodable session record", &e);
            Ok(None)
        }
        Err(e) => Err(ApiError::internal("SESSIONS get", e)),
    }
}

fn session_not_found() -> ApiError {
    ApiError::unauthorized("session_not_found", "no session matches this token")
}

fn session_expired() -> ApiError {
    ApiError::unauthorized("session_expired", "the session has expired")
}

/// Refuses cookie-authenticated writes from foreign browser origins (CSRF).
pub fn require_trusted_origin(req: &Request, config: &Config, source: CredentialSource) -> Result<(), ApiError> {
    if source != CredentialSource::Cookie {
        return Ok(());
    }
    let url = req.url().map(|u| u.to_string()).unwrap_or_default();
    let allowed = cookie_write_allowed(
        &config.allowed_origins,
        origin_of_url(&url),
        header(req, "Origin").as_deref(),
        header(req, "Sec-Fetch-Site").as_deref(),
    );
    if allowed {
        Ok(())
    } else {
        Err(ApiError::new(403, "origin_not_allowed", "cookie-authenticated writes must come from an allowed origin"))
    }
}

/// `GET /v1/session`: the hot path. One KV read; the idle touch, when due, goes to the
/// account's Durable Object after the response (`wait_until`).
///
/// `?consistency=strong` also asks the account's Durable Object, whose index is the
/// source of truth: a session revoked moments ago is refused even where KV still has
/// its copy (KV deletes take up to 60 s to reach every location).
pub async fn handle_validate(req: &Request, env: &Env, ctx: &Context, config: &Config) -> Result<Response, ApiError> {
    let strong = match query_param(req, "consistency").as_deref() {
        None | Some("eventual") => false,
        Some("strong") => true,
        Some(_) => return Err(ApiError::bad_request("invalid_consistency", "consistency must be 'strong' or 'eventual'")),
    };
    let now = platform::now();
    let mut auth = authenticate(req, env, config, now).await?;
    if strong {
        let client = AccountClient::for_account(env, &auth.record.account_id)?;
        let indexed = client.verify(&auth.record.session_id, &auth.hash).await?.ok_or_else(session_not_found)?;
        if config.policy.check(&indexed, now) != Validity::Valid {
            return Err(session_expired());
        }
        auth.record = indexed;
    }
    schedule_touch(ctx, env, config, &auth, now)?;
    Ok(json_response(200, &SessionView::from(&auth.record)))
}

/// When use should extend the session, asks the account's Durable Object to do it after
/// the response has gone (`waitUntil`): the hot path never waits for a write.
pub fn schedule_touch(ctx: &Context, env: &Env, config: &Config, auth: &Authenticated, now: UnixSeconds) -> Result<(), ApiError> {
    if let Touch::Extended(_) = config.policy.touch(&auth.record, now) {
        let client = AccountClient::for_account(env, &auth.record.account_id)?;
        let session_id = auth.record.session_id.clone();
        let hash = auth.hash.clone();
        ctx.wait_until(async move {
            // Errors were logged by the client; the next request will try again.
            let _ = client.touch(&session_id, &hash, false).await;
        });
    }
    Ok(())
}

/// `POST /v1/session/refresh`: extend the idle deadline now (clamped to the absolute cap).
pub async fn handle_refresh(req: &Request, env: &Env, config: &Config) -> Result<Response, ApiError> {
    let now = platform::now();
    let auth = authenticate(req, env, config, now).await?;
    require_trusted_origin(req, config, auth.source)?;
    let client = AccountClient::for_account(env, &auth.record.account_id)?;
    let reply = client.touch(&auth.record.session_id, &auth.hash, true).await?;
    match (reply.outcome, reply.record) {
        (TouchOutcome::Extended | TouchOutcome::NotDue, Some(record)) => Ok(json_response(200, &SessionView::from(&record))),
        (TouchOutcome::ExpiredIdle | TouchOutcome::ExpiredAbsolute, _) => Err(session_expired()),
        _ => Err(session_not_found()),
    }
}

/// `DELETE /v1/session`: logout. Idempotent: an unknown, expired or unreadable session
/// still gets 204 and a cleared cookie.
pub async fn handle_logout(req: &Request, env: &Env, config: &Config) -> Result<Response, ApiError> {
    let cleared = || {
        let mut response = no_content();
        let _ = response.headers_mut().append("Set-Cookie", &clear_session_cookie(&config.cookie_name));
        response
    };
    let Credential { token, source } = match credential(req, config) {
        Ok(credential) => credential,
        Err(e) if e.status == 431 => return Err(e),
        Err(_) => {
            // A cookie we cannot read (garbage, duplicated) is still cleared, but only
            // for a request that could legitimately clear it.
            let source = if header(req, "Cookie").is_some() { CredentialSource::Cookie } else { CredentialSource::Bearer };
            require_trusted_origin(req, config, source)?;
            return Ok(cleared());
        }
    };
    require_trusted_origin(req, config, source)?;
    let hash = token.hash();
    if let Some(record) = load_record(env, &hash).await? {
        AccountClient::for_account(env, &record.account_id)?.revoke(&record.session_id, "logout", None).await?;
    }
    Ok(cleared())
}
