//! Who is calling: the session holder (a cookie or bearer token checked against KV), the
//! CSRF check on their cookie-authenticated writes, the idle touch their use schedules,
//! and the admin (a key compared in constant time). Routes and the gatekeeper call these;
//! none of them authenticates on its own.

use crate::core::admin_key::AdminKeyState;
use crate::core::config::Config;
use crate::core::credentials::{bearer_value, extract_credential, Credential, CredentialError, CredentialSource};
use crate::core::error_code::ErrorCode;
use crate::core::origin::{cookie_write_allowed, origin_of_url};
use crate::core::policy::{Touch, TouchKind, Validity};
use crate::core::record::SessionRecord;
use crate::core::step_up::Freshness;
use crate::core::timestamp::rfc3339;
use crate::core::token::TokenHash;
use crate::core::touch_memory::TouchMemory;
use crate::core::vars::ConfigError;
use crate::core::UnixSeconds;
use crate::edge::account::client::AccountClient;
use crate::edge::account::protocol::Caller;
use crate::edge::error::{log_error, ApiError};
use crate::edge::request::IncomingRequest;
use crate::edge::session_store::{SessionStore, StoreError};
use crate::edge::settings::admin_key;
use worker::{Context, Env};

/// A request whose token opened a currently valid session.
pub struct Authenticated {
    pub hash: TokenHash,
    pub record: SessionRecord,
    pub source: CredentialSource,
}

impl Authenticated {
    /// Who the account's Durable Object must find live before acting for this request.
    pub fn caller(&self) -> Caller {
        Caller { session_id: self.record.session_id.clone(), token_hash: self.hash.clone() }
    }
}

/// The request's credential, mapped to the API's error codes.
pub fn credential(req: &IncomingRequest, config: &Config) -> Result<Credential, ApiError> {
    let cookie = req.header("Cookie");
    let authorization = req.header("Authorization");
    extract_credential(cookie.as_deref(), authorization.as_deref(), &config.cookie_name).map_err(|e| {
        let code = match e {
            CredentialError::Missing => ErrorCode::MissingToken,
            CredentialError::Invalid(_) | CredentialError::NotBearer => ErrorCode::InvalidToken,
            CredentialError::DuplicateCookie | CredentialError::Conflicting => ErrorCode::AmbiguousToken,
            CredentialError::HeaderTooLarge => ErrorCode::HeaderTooLarge,
        };
        // The core's message says which rule failed, and never echoes the token.
        ApiError::with_message(code, e.to_string())
    })
}

/// One KV read, then the record's own deadlines (KV expiry is lazy; never trust it) and
/// the fleet-wide cut-off.
pub async fn authenticate(
    req: &IncomingRequest,
    env: &Env,
    config: &Config,
    now: UnixSeconds,
) -> Result<Authenticated, ApiError> {
    let found = find_session(req, env, config).await?;
    check_session(config, &found.record, now)?;
    Ok(found)
}

/// The session a request's token names in KV, valid or not. For callers that consult
/// the account's Durable Object before deciding (strong validation).
pub async fn find_session(req: &IncomingRequest, env: &Env, config: &Config) -> Result<Authenticated, ApiError> {
    let Credential { token, source } = credential(req, config)?;
    let hash = token.hash();
    let record = load_record(env, &hash).await?.ok_or_else(|| ApiError::new(ErrorCode::SessionNotFound))?;
    Ok(Authenticated { hash, record, source })
}

/// Whether a session record may be used at `now`: within its deadlines, and not
/// authenticated before `SESSIONS_NOT_BEFORE`.
pub fn check_session(config: &Config, record: &SessionRecord, now: UnixSeconds) -> Result<(), ApiError> {
    if config.is_cut_off(record) {
        return Err(ApiError::new(ErrorCode::SessionRevoked));
    }
    match config.policy.check(record, now) {
        Validity::Valid => Ok(()),
        Validity::ExpiredIdle | Validity::ExpiredAbsolute => Err(ApiError::new(ErrorCode::SessionExpired)),
    }
}

/// Checks a session found in KV against the account's Durable Object, whose index is
/// the truth: a session revoked or rotated away a moment ago is refused even where KV
/// still serves its copy, and the index's deadline wins over a copy that lags a touch.
/// `found` may be idle-expired by its KV copy; it is not refused for that here.
pub async fn verify_with_index(
    env: &Env,
    config: &Config,
    mut found: Authenticated,
    now: UnixSeconds,
) -> Result<Authenticated, ApiError> {
    if config.is_cut_off(&found.record) {
        return Err(ApiError::new(ErrorCode::SessionRevoked));
    }
    if config.policy.check(&found.record, now) == Validity::ExpiredAbsolute {
        return Err(ApiError::new(ErrorCode::SessionExpired)); // no touch moves this one
    }
    let client = AccountClient::for_account(env, &found.record.account_id)?;
    let indexed = client
        .verify(&found.record.session_id, &found.hash)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::SessionNotFound))?;
    check_session(config, &indexed, now)?;
    found.record = indexed;
    Ok(found)
}

/// The KV record for a token hash. A record this build cannot read opens nothing: it
/// reads as absent (fail closed), and the log says so.
pub async fn load_record(env: &Env, hash: &TokenHash) -> Result<Option<SessionRecord>, ApiError> {
    let store = SessionStore::from_env(env).map_err(|e| ApiError::internal("SESSIONS binding", e))?;
    match store.get(hash).await {
        Ok(record) => Ok(record),
        Err(StoreError::Undecodable(e)) => {
            log_error("error", "undecodable session record", &e);
            Ok(None)
        }
        Err(e) => Err(ApiError::internal("SESSIONS get", e)),
    }
}

/// Refuses a session whose last authentication is older or weaker than the request asks:
/// 403 `reauthentication_required`, saying when and how strongly the user last
/// authenticated, and which requirement failed.
pub fn require_fresh(freshness: &Freshness, record: &SessionRecord, now: UnixSeconds) -> Result<(), ApiError> {
    let Err(failed) = freshness.check(record.authenticated_at, record.aal, now) else { return Ok(()) };
    let mut details = serde_json::Map::new();
    details.insert("authenticated_at".into(), rfc3339(record.authenticated_at).into());
    details.insert("aal".into(), record.aal.into());
    let mut names = Vec::new();
    if failed.too_old {
        names.push(serde_json::Value::from("max_age"));
    }
    if failed.too_weak {
        names.push(serde_json::Value::from("min_aal"));
    }
    details.insert("failed".into(), names.into());
    Err(ApiError::new(ErrorCode::ReauthenticationRequired).with_details(details))
}

/// Refuses cookie-authenticated writes from foreign browser origins (CSRF).
pub fn require_trusted_origin(
    req: &IncomingRequest,
    config: &Config,
    source: CredentialSource,
) -> Result<(), ApiError> {
    if source != CredentialSource::Cookie {
        return Ok(());
    }
    let allowed = cookie_write_allowed(
        &config.allowed_origins,
        origin_of_url(req.url_str()),
        req.header("Origin").as_deref(),
        req.header("Sec-Fetch-Site").as_deref(),
    );
    if allowed {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::OriginNotAllowed))
    }
}

/// Most token hashes whose last touch an isolate remembers.
const SENT_TOUCHES_CAPACITY: usize = 4096;

thread_local! {
    static SENT_TOUCHES: std::cell::RefCell<TouchMemory> =
        std::cell::RefCell::new(TouchMemory::new(SENT_TOUCHES_CAPACITY));
}

/// When use should extend the session, asks the account's Durable Object to do it after
/// the response has gone (`waitUntil`): the hot path never waits for a write.
pub fn schedule_touch(
    ctx: &Context,
    env: &Env,
    config: &Config,
    auth: &Authenticated,
    now: UnixSeconds,
) -> Result<(), ApiError> {
    if let Touch::Extended(_) = config.policy.touch(&auth.record, now) {
        let interval = config.policy.touch_interval_for(&auth.record);
        if !SENT_TOUCHES.with(|m| m.borrow_mut().should_send(&auth.hash, now, interval)) {
            return Ok(()); // this isolate asked already; a stale KV copy is still answering
        }
        let client = AccountClient::for_account(env, &auth.record.account_id)?;
        let session_id = auth.record.session_id.clone();
        let hash = auth.hash.clone();
        ctx.wait_until(async move {
            // A failed touch changes nothing; the next request will try again.
            if let Err(e) = client.touch(&session_id, &hash, TouchKind::Use).await {
                e.log_if_internal();
            }
        });
    }
    Ok(())
}

/// The admin API's gate. Fails closed: no key configured means no admin API.
pub fn require_admin(req: &IncomingRequest, env: &Env) -> Result<(), ApiError> {
    let key = match admin_key(env) {
        AdminKeyState::NotConfigured => return Err(ApiError::new(ErrorCode::AdminDisabled)),
        AdminKeyState::TooShort => {
            return Err(ConfigError { variable: "ADMIN_KEY", reason: "must be at least 32 characters".into() }.into())
        }
        AdminKeyState::Configured(key) => key,
    };
    let presented = req.header("Authorization");
    match presented.as_deref().and_then(bearer_value) {
        Some(candidate) if key.verify(candidate) => Ok(()),
        _ => Err(ApiError::new(ErrorCode::InvalidAdminKey)),
    }
}
