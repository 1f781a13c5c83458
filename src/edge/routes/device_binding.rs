//! The DBSC endpoints, which the browser calls on its own (docs/device-binding.md):
//! `POST /v1/dbsc/register` binds a session to the key the browser made for it, and
//! `POST /v1/dbsc/refresh` trades a proof of that key for a new bound cookie. Each
//! request carries its own proof, so neither takes the Origin check of cookie writes;
//! neither answers CORS (the router leaves them out), and every answer is `no-store`
//! and `X-Frame-Options: DENY`.

use crate::core::config::Config;
use crate::core::cookie::{all_cookies, clear_session_cookie};
use crate::core::credentials::CredentialSource;
use crate::core::dbsc_proof::{parse_proof, ProofError, ProofKey, ProofStep};
use crate::core::device_binding::{
    clear_refresh_cookie_header, end_instructions, instructions, refresh_cookie_name, DeviceBinding,
    DeviceBindingConfig, REGISTRATION_CHALLENGE_MAX_AGE_MS,
};
use crate::core::device_challenge::{self, ChallengeError, Purpose};
use crate::core::error_code::ErrorCode;
use crate::core::event::RevokeReason;
use crate::core::session_check::{self, Requirement};
use crate::core::structured_field::read_string_item;
use crate::core::token::{SessionId, SessionToken};
use crate::core::UnixMillis;
use crate::edge::account::client::AccountClient;
use crate::edge::account::protocol::{BindReply, RefreshReply};
use crate::edge::auth::SessionCheck;
use crate::edge::device_binding::{
    bound_cookie, session_cookies, signed_by, thumbprint, CHALLENGE_HEADER, RESPONSE_HEADER, SESSION_ID_HEADER,
};
use crate::edge::error::{log_error, ApiError};
use crate::edge::platform;
use crate::edge::rate_limit::limit_session;
use crate::edge::request::IncomingRequest;
use crate::edge::response::json_response;
use crate::edge::session_store::SessionStore;
use worker::{Env, Response};

/// `POST /v1/dbsc/register`: the proof answers a registration challenge this worker
/// issued for the session whose cookie came with it, echoes its `authorization`, and is
/// signed by the key it carries. The session is then bound to that key, moved to a new
/// token (a jar copied before this moment holds a dead one), and the browser gets its
/// instructions and its first bound cookie.
pub async fn handle_register(req: &IncomingRequest, env: &Env, config: &Config) -> Result<Response, ApiError> {
    let binding = enabled(config)?;
    let now_ms = platform::now_millis();
    let now = now_ms.div_euclid(1000);
    let auth = SessionCheck::new().rate_limited().check(req, env, config, now).await?;
    if auth.record.device_binding.is_some() {
        return Err(ApiError::new(ErrorCode::SessionAlreadyBound));
    }
    if auth.record.impersonation.is_some() {
        return Err(ApiError::with_message(
            ErrorCode::ImpersonationForbidden,
            "an impersonation session is not bound to a device",
        ));
    }
    if auth.source != CredentialSource::Cookie {
        return Err(invalid_proof("registration comes from a browser, with the session cookie"));
    }
    let header = req.header(RESPONSE_HEADER).ok_or_else(|| invalid_proof("Secure-Session-Response is missing"))?;
    let proof = parse_proof(&header, ProofStep::Registration).map_err(proof_error)?;
    let session = &auth.record.session_id;
    let max_age = REGISTRATION_CHALLENGE_MAX_AGE_MS;
    device_challenge::verify(&binding.keys, Purpose::Registration, session, &proof.jti, now_ms, max_age)
        .map_err(challenge_error)?;
    let authorization = proof.authorization.as_deref().ok_or_else(|| invalid_proof("authorization is missing"))?;
    device_challenge::verify(&binding.keys, Purpose::Authorization, session, authorization, now_ms, max_age)
        .map_err(challenge_error)?;
    let key = proof.key.as_ref().ok_or_else(|| invalid_proof("the proof carries no key"))?;
    if !signed_by(&proof, key).await {
        return Err(invalid_proof("the proof is not signed by the key it carries"));
    }
    let thumbprint = thumbprint(key).await?;
    let token = platform::new_token()?;
    let client = AccountClient::for_account(env, &auth.record.account_id)?;
    let (caller, new_hash) = (auth.caller(), token.hash());
    let binding_fact = DeviceBinding::new(thumbprint, now);
    let record = match client.bind_device(&caller, &new_hash, binding_fact, key.jwk_json()).await? {
        BindReply::Bound { record } => *record,
        BindReply::AlreadyBound => return Err(ApiError::new(ErrorCode::SessionAlreadyBound)),
        BindReply::NotFound => return Err(ApiError::new(ErrorCode::SessionNotFound)),
    };
    let mut response = json_response(200, &instructions(&req.origin(), &config.cookie_name, &record.session_id));
    for cookie in session_cookies(config, &token, &record, now) {
        let _ = response.headers_mut().append("Set-Cookie", &cookie);
    }
    let _ = response.headers_mut().set(CHALLENGE_HEADER, &binding.challenge_header(&record.session_id, now_ms));
    Ok(response)
}

/// `POST /v1/dbsc/refresh`: the browser's bound cookie is missing or about to expire.
/// Without a proof it gets a challenge (403); with a proof for a live challenge, the
/// account's Durable Object is asked (once per bound cookie), and the proof is checked
/// against the key the session is bound to. A revoked, expired or fenced session ends
/// in the browser (`{"continue": false}`); a proof by another key revokes the session.
pub async fn handle_refresh(req: &IncomingRequest, env: &Env, config: &Config) -> Result<Response, ApiError> {
    let binding = enabled(config)?;
    let now_ms = platform::now_millis();
    let now = now_ms.div_euclid(1000);
    // No session named: no credential (a 401, which ends nothing a browser holds).
    let header = req.header(SESSION_ID_HEADER).ok_or_else(|| {
        ApiError::with_message(ErrorCode::MissingToken, "Sec-Secure-Session-Id is missing: name the session")
    })?;
    let raw_id = read_string_item(&header).ok_or_else(|| invalid_proof("Sec-Secure-Session-Id is malformed"))?;
    // An id this worker never gave out, or no long-lived token: nothing to refresh.
    let Some(session_id) = SessionId::parse(&raw_id) else { return Ok(ended(config, &raw_id)) };
    // KV's copy locates the account; the Durable Object decides. Each value of the
    // long-lived token's cookie is tried: a sibling subdomain can toss in a cookie of
    // the same name (`__Secure-` allows a Domain), and that must not end the session.
    // A KV failure is a 500, which the browser retries: never an ended session.
    let store = SessionStore::from_env(env)?;
    let mut found = None;
    for token in long_lived_tokens(req, config) {
        let hash = token.hash();
        let read = store.get(&hash).await.map_err(|e| ApiError::internal("dbsc: refresh: SESSIONS get", e))?;
        let usable = read.filter(|record| {
            record.session_id == session_id
                && session_check::check(config, record, &Requirement::locating(), now).is_ok()
        });
        if let Some(record) = usable {
            found = Some((hash, record));
            break;
        }
    }
    let Some((hash, located)) = found else { return Ok(ended(config, &raw_id)) };
    limit_session(env, &session_id).await?;
    let Some(header) = req.header(RESPONSE_HEADER) else { return Ok(challenge(binding, &session_id, now_ms)) };
    let proof = parse_proof(&header, ProofStep::Refresh).map_err(proof_error)?;
    let max_age = binding.refresh_challenge_max_age_ms();
    let issued =
        match device_challenge::verify(&binding.keys, Purpose::Refresh, &session_id, &proof.jti, now_ms, max_age) {
            Ok(issued) => issued,
            // Stale, or not ours: a new challenge, which the browser answers at once.
            Err(_) => return Ok(challenge(binding, &session_id, now_ms)),
        };
    let client = AccountClient::for_account(env, &located.account_id)?;
    let (record, jwk) = match client.refresh_binding(&session_id, &hash, issued).await? {
        RefreshReply::Refreshable { record, jwk } => (*record, jwk),
        RefreshReply::Replayed => return Ok(challenge(binding, &session_id, now_ms)),
        RefreshReply::Ended => return Ok(ended(config, &raw_id)),
    };
    let key = serde_json::from_str(&jwk)
        .map_err(|_| ProofError::Malformed)
        .and_then(|value| ProofKey::from_jwk(&value))
        .map_err(|e| ApiError::internal("dbsc: stored device key", e))?;
    if !signed_by(&proof, &key).await {
        // The long-lived token and a live challenge, but not the key: someone holds this
        // session's cookies without its device. End it everywhere.
        log_error("warn", "dbsc: refresh signed by another key; session revoked", &session_id);
        client.revoke(&session_id, RevokeReason::BindingMismatch, None).await?;
        let mut response = ApiError::new(ErrorCode::DeviceKeyMismatch).into_response();
        clear_cookies(&mut response, config);
        return Ok(response);
    }
    let cookie = bound_cookie(config, &hash, &record, now)
        .ok_or_else(|| ApiError::internal("dbsc: refresh", "the index's record is not bound"))?;
    let mut response = json_response(200, &instructions(&req.origin(), &config.cookie_name, &session_id));
    let _ = response.headers_mut().append("Set-Cookie", &cookie);
    // The next refresh's challenge, ahead of time: it then needs no 403 round trip.
    let _ = response.headers_mut().set(CHALLENGE_HEADER, &binding.challenge_header(&session_id, now_ms));
    Ok(response)
}

/// Security headers of every DBSC answer (the router calls this for errors too).
pub fn harden(response: &mut Response) {
    let headers = response.headers_mut();
    let _ = headers.set("Cache-Control", "no-store");
    let _ = headers.set("X-Frame-Options", "DENY");
}

fn enabled(config: &Config) -> Result<&DeviceBindingConfig, ApiError> {
    config.device_binding.as_ref().ok_or_else(|| {
        ApiError::with_message(
            ErrorCode::NotFound,
            "device-bound sessions are off: DEVICE_BOUND_SESSIONS is not 'offer'",
        )
    })
}

/// The long-lived tokens in the cookie only the DBSC endpoints get: every value of that
/// name that parses as a token (at most a few; a browser sends the most specific path first).
fn long_lived_tokens(req: &IncomingRequest, config: &Config) -> Vec<SessionToken> {
    let Some(header) = req.header("Cookie") else { return Vec::new() };
    let name = refresh_cookie_name(&config.cookie_name);
    all_cookies(&header, &name).filter_map(|raw| SessionToken::parse(raw).ok()).take(3).collect()
}

/// 403 with a refresh challenge: the browser signs it and asks again.
fn challenge(binding: &DeviceBindingConfig, session_id: &SessionId, now_ms: UnixMillis) -> Response {
    let mut answer =
        ApiError::with_message(ErrorCode::InvalidDeviceProof, "sign the challenge with the device key").into_answer();
    // 403 is what the protocol asks for; any other 4xx would end the session in the browser.
    answer.status = 403;
    answer.set(CHALLENGE_HEADER, binding.challenge_header(session_id, now_ms));
    answer.into_response()
}

/// `{"continue": false}`: the browser ends the session and forgets its key; the cookies go.
fn ended(config: &Config, session_id: &str) -> Response {
    let mut response = json_response(200, &end_instructions(session_id));
    clear_cookies(&mut response, config);
    response
}

fn clear_cookies(response: &mut Response, config: &Config) {
    let _ = response.headers_mut().append("Set-Cookie", &clear_session_cookie(&config.cookie_name));
    let _ = response.headers_mut().append("Set-Cookie", &clear_refresh_cookie_header(&config.cookie_name));
}

fn invalid_proof(message: impl Into<String>) -> ApiError {
    ApiError::with_message(ErrorCode::InvalidDeviceProof, message.into())
}

fn proof_error(e: ProofError) -> ApiError {
    invalid_proof(e.to_string())
}

fn challenge_error(e: ChallengeError) -> ApiError {
    invalid_proof(e.to_string())
}
