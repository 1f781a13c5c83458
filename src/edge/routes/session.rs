//! Endpoints for the session holder: validate, refresh, logout.

use crate::core::account::AccountId;
use crate::core::assertion::{AssertionKind, TokenRefusal};
use crate::core::config::Config;
use crate::core::cookie::clear_session_cookie;
use crate::core::credentials::CredentialSource;
use crate::core::device_binding::clear_refresh_cookie_header;
use crate::core::error_code::ErrorCode;
use crate::core::event::RevokeReason;
use crate::core::policy::TouchKind;
use crate::core::step_up::Freshness;
use crate::core::timestamp::rfc3339;
use crate::edge::account::client::AccountClient;
use crate::edge::account::protocol::{Caller, TouchReply};
use crate::edge::assertion::assertion_for;
use crate::edge::auth::{credential, require_trusted_origin, rotation_retry, RetryingRotation, SessionCheck};
use crate::edge::device_binding::{registration_offer, session_cookies, REGISTRATION_HEADER};
use crate::edge::error::ApiError;
use crate::edge::platform;
use crate::edge::request::IncomingRequest;
use crate::edge::response::{json_response, no_content};
use crate::edge::session_store::SessionStore;
use crate::edge::touch::schedule_touch;
use crate::edge::views::{AssertionToken, IssuedToken, SessionView};
use worker::{Context, Env, Response};

/// `GET /v1/session`: the hot path. One KV read; the idle touch, when due, goes to the
/// account's Durable Object after the response (`wait_until`).
///
/// `?consistency=strong` also asks the account's Durable Object, whose index is the
/// source of truth: a session revoked moments ago is refused even where KV still has
/// its copy (KV deletes take up to 60 s to reach every location).
pub async fn handle_validate(
    req: &IncomingRequest,
    env: &Env,
    ctx: &Context,
    config: &Config,
) -> Result<Response, ApiError> {
    let strong = match req.query_param("consistency").as_deref() {
        None | Some("eventual") => false,
        Some("strong") => true,
        Some(_) => return Err(ApiError::new(ErrorCode::InvalidConsistency)),
    };
    let freshness = freshness_params(req)?;
    let now = platform::now();
    // Strong validation is rate limited (SessionCheck::strong); the eventual check is
    // one KV read and is not.
    let auth = SessionCheck::new().strong(strong).fresh(freshness).check(req, env, config, now).await?;
    schedule_touch(req, ctx, env, config, &auth, now)?;
    let mut response = json_response(200, &SessionView::from(&auth.record));
    if let Some(offer) = registration_offer(config, &auth.record, auth.source) {
        let _ = response.headers_mut().set(REGISTRATION_HEADER, &offer);
    }
    Ok(response)
}

/// `GET /v1/session/token?audience=`: an access token (`typ: at+jwt`) of the caller's
/// session, for a single-page app that calls its own APIs with a bearer token. The
/// audience must be one `ASSERTION_AUDIENCES` lists, which never includes the
/// gatekeeper's, and the kind differs from the gatekeeper's assertion: page JavaScript
/// holds this token, and it must not pass at the origin as the gatekeeper's word. The
/// same credential, CORS and touch rules as `GET /v1/session`, checked first.
pub async fn handle_token(
    req: &IncomingRequest,
    env: &Env,
    ctx: &Context,
    config: &Config,
) -> Result<Response, ApiError> {
    let now = platform::now();
    let auth = SessionCheck::new().check(req, env, config, now).await?;
    let requested = req.query_param("audience");
    let audience = config.assertions.token_audience(requested.as_deref()).map_err(|refusal| match refusal {
        TokenRefusal::Off => {
            ApiError::with_message(ErrorCode::NotFound, "page tokens are off: ASSERTION_AUDIENCES is empty")
        }
        TokenRefusal::Missing => {
            ApiError::with_message(ErrorCode::InvalidAudience, "audience= is required: one of ASSERTION_AUDIENCES")
        }
        TokenRefusal::NotListed => ApiError::new(ErrorCode::InvalidAudience),
    })?;
    let (token, expires_at) = assertion_for(config, &auth.record, AssertionKind::AccessToken, audience, now)
        .await?
        .ok_or_else(|| ApiError::with_message(ErrorCode::NotFound, "no SIGNING_KEY is configured"))?;
    schedule_touch(req, ctx, env, config, &auth, now)?;
    Ok(json_response(200, &AssertionToken { token, expires_at: rfc3339(expires_at) }))
}

/// `?max_age=` and `?min_aal=`, the freshness a request asks for.
fn freshness_params(req: &IncomingRequest) -> Result<Freshness, ApiError> {
    let max_age = req.query_param("max_age");
    let min_aal = req.query_param("min_aal");
    Freshness::parse(max_age.as_deref(), min_aal.as_deref())
        .map_err(|message| ApiError::with_message(ErrorCode::InvalidFreshness, message))
}

/// `POST /v1/session/rotate`: a new token for the caller's session; the old one stops
/// working in the account's Durable Object at once. A cookie caller gets the new token
/// only as `Set-Cookie` (so `HttpOnly` keeps meaning something); a bearer caller gets it
/// in the body. A caller whose last rotation's reply was lost may retry with the old
/// token for `ROTATION_RETRY_SECS` (`core::rotation_retry`), and gets a token that
/// works; the one they never received stops working.
pub async fn handle_rotate(req: &IncomingRequest, env: &Env, config: &Config) -> Result<Response, ApiError> {
    let now = platform::now();
    let (account_id, caller, source) =
        match SessionCheck::new().csrf().rate_limited().check(req, env, config, now).await {
            // A bound session gets new cookies only by proving its device key at the
            // DBSC refresh: a rotation would hand a copied bound cookie a fresh one.
            Ok(auth) if auth.record.device_binding.is_some() => return Err(bound_rotation_refused()),
            Ok(auth) => (auth.record.account_id.clone(), auth.caller(), auth.source),
            Err(denial) if denial.is_session_not_found() && config.rotation_retry_secs > 0 => {
                match rotation_retry(req, env, config).await? {
                    Some(RetryingRotation { account_id, caller, source }) => (account_id, caller, source),
                    None => return Err(denial.into()),
                }
            }
            Err(denial) => return Err(denial.into()),
        };
    let token = platform::new_token()?;
    let client = AccountClient::for_account(env, &account_id)?;
    let record = client
        .rotate(&caller.session_id, &token.hash(), Some(&caller), None)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::SessionNotFound))?;
    let view = SessionView::from(&record);
    let mut response = match source {
        CredentialSource::Cookie => json_response(200, &view),
        CredentialSource::Bearer => json_response(
            200,
            &IssuedToken { token: token.expose_secret(), session: view, device_binding_registration: None },
        ),
    };
    if source == CredentialSource::Cookie {
        // A bound session's new token goes where its old one was: a fresh bound cookie,
        // and the token in the cookie only the DBSC endpoints get.
        for cookie in session_cookies(config, &token, &record, now) {
            let _ = response.headers_mut().append("Set-Cookie", &cookie);
        }
    }
    Ok(response)
}

fn bound_rotation_refused() -> ApiError {
    ApiError::with_message(
        ErrorCode::SessionAlreadyBound,
        "a device-bound session's cookie is renewed only at /v1/dbsc/refresh, with its device key",
    )
}

/// `POST /v1/session/refresh`: extend the idle deadline now (clamped to the absolute cap).
/// Within a short window of the last extension (`REFRESH_MIN_INTERVAL_SECS`), answers
/// the session as it is without a write.
pub async fn handle_refresh(req: &IncomingRequest, env: &Env, config: &Config) -> Result<Response, ApiError> {
    let now = platform::now();
    let auth = SessionCheck::new().csrf().rate_limited().check(req, env, config, now).await?;
    let client = AccountClient::for_account(env, &auth.record.account_id)?;
    match client.touch(&auth.record.session_id, &auth.hash, TouchKind::Refresh).await? {
        TouchReply::Extended { record } | TouchReply::NotDue { record } => {
            Ok(json_response(200, &SessionView::from(&record)))
        }
        TouchReply::Expired { .. } => Err(ApiError::new(ErrorCode::SessionExpired)),
        TouchReply::NotFound => Err(ApiError::new(ErrorCode::SessionNotFound)),
    }
}

/// `DELETE /v1/session`: logout. Idempotent: an unknown, expired or unreadable session
/// still gets 204 and a cleared cookie.
///
/// `?account_id=` names the account for a token this location's KV does not have yet
/// (created or rotated seconds ago elsewhere): the account's object is then asked
/// directly, and it revokes only if this token is the session's current one, so a wrong
/// or hostile hint revokes nothing.
pub async fn handle_logout(req: &IncomingRequest, env: &Env, config: &Config) -> Result<Response, ApiError> {
    let cleared = || {
        let mut response = no_content();
        let _ = response.headers_mut().append("Set-Cookie", &clear_session_cookie(&config.cookie_name));
        if config.device_binding.is_some() {
            let _ = response.headers_mut().append("Set-Cookie", &clear_refresh_cookie_header(&config.cookie_name));
        }
        response
    };
    let presented = match credential(req, config) {
        Ok(credential) => credential,
        Err(e) if e.code() == ErrorCode::HeaderTooLarge => return Err(e),
        Err(_) => {
            // A cookie we cannot read (garbage, duplicated) is still cleared, but only
            // for a request that could legitimately clear it.
            let source =
                if req.header("Cookie").is_some() { CredentialSource::Cookie } else { CredentialSource::Bearer };
            require_trusted_origin(req, config, source)?;
            return Ok(cleared());
        }
    };
    require_trusted_origin(req, config, presented.source)?;
    // The owner comes from the record or, if this build cannot read the record, from
    // the key's metadata: an unreadable record is still revoked, not just forgotten. A
    // bound cookie names the session's hash, so it logs out as the token would.
    let hinted = match req.query_param("account_id") {
        Some(raw) => Some(AccountId::parse(&raw).map_err(ApiError::from)?),
        None => None,
    };
    let hash = presented.hash();
    let owner = match SessionStore::from_env(env)?.owner(&hash).await? {
        Some(owner) => Some(owner),
        None => hinted.map(|account_id| (account_id, presented.session_id())),
    };
    if let Some((account_id, session_id)) = owner {
        // As the caller: the object revokes only if this token is the session's current one.
        let caller = Caller { session_id: session_id.clone(), token_hash: hash };
        AccountClient::for_account(env, &account_id)?.revoke(&session_id, RevokeReason::Logout, Some(&caller)).await?;
    }
    Ok(cleared())
}
