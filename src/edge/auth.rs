//! Who is calling: the session holder (a cookie or bearer token, checked by one
//! [`SessionCheck`] that states everything an endpoint needs), and the admin (a key
//! compared in constant time). Routes and the gatekeeper call these; none of them
//! authenticates on its own.

use crate::core::account::AccountId;
use crate::core::admin_key::AdminKeyState;
use crate::core::config::Config;
use crate::core::credentials::{bearer_value, extract_credential, Credential, CredentialSource};
use crate::core::device_binding::DeviceProof;
use crate::core::drift::{Baseline, BaselineDigest, DriftVerdict};
use crate::core::error_code::ErrorCode;
use crate::core::impersonation::ImpersonationAccess;
use crate::core::origin::{cookie_write_allowed, origin_of_url};
use crate::core::record::SessionRecord;
use crate::core::rotation_retry::RotatedAway;
use crate::core::session_check::{self, DriftRule, Refusal, Requirement};
use crate::core::step_up::Freshness;
use crate::core::token::TokenHash;
use crate::core::vars::ConfigError;
use crate::core::UnixSeconds;
use crate::edge::account::client::AccountClient;
use crate::edge::account::protocol::Caller;
use crate::edge::client_signals::ClientReading;
use crate::edge::config::admin_key;
use crate::edge::drift::{digest_read, remember, remembered, remembered_match};
use crate::edge::error::{log_error, ApiError};
use crate::edge::platform;
use crate::edge::rate_limit::limit_session;
use crate::edge::request::{CheckKind, DriftNote, IncomingRequest, SessionFacts};
use crate::edge::session_store::{SessionStore, StoreError};
use worker::Env;

/// A request whose session passed every requirement its endpoint stated.
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

/// Why a [`SessionCheck`] let a request through no further: the session was refused by
/// a rule (which callers such as the gatekeeper answer in their own way), or something
/// else failed (no credential, no session, a rate limit, the platform).
#[derive(Debug)]
pub enum Denial {
    Refused(Refusal),
    Failed(ApiError),
}

impl From<ApiError> for Denial {
    fn from(e: ApiError) -> Self {
        Denial::Failed(e)
    }
}

impl From<Refusal> for Denial {
    fn from(refusal: Refusal) -> Self {
        Denial::Refused(refusal)
    }
}

impl Denial {
    /// No session under the presented token (as opposed to one that was refused).
    pub fn is_session_not_found(&self) -> bool {
        matches!(self, Denial::Failed(e) if e.code() == ErrorCode::SessionNotFound)
    }
}

impl From<Denial> for ApiError {
    fn from(denial: Denial) -> Self {
        match denial {
            Denial::Refused(refusal) => refusal.into(),
            Denial::Failed(e) => e,
        }
    }
}

/// Everything an endpoint needs of the session behind a request, stated in one
/// expression, in the manner of crates.io's `AuthCheck`:
///
/// ```ignore
/// SessionCheck::new().strong(strong).csrf().rate_limited().fresh(freshness).check(req, env, config, now)
/// ```
///
/// The steps run cheapest first, and nothing leaves the isolate before the request has
/// shown it may: the credential, one KV read, the record's own rules, then the CSRF
/// check, then the rate limit, then (strong) the account's Durable Object.
#[derive(Clone, Copy, Debug, Default)]
#[must_use = "a SessionCheck does nothing until .check() is awaited"]
pub struct SessionCheck {
    strong: bool,
    csrf: bool,
    rate_limited: bool,
    freshness: Freshness,
    impersonation: ImpersonationAccess,
}

impl SessionCheck {
    /// A valid session, as KV's copy at this location says: the hot path.
    pub fn new() -> Self {
        SessionCheck::default()
    }

    /// Also ask the account's Durable Object, whose index is the truth: a session
    /// revoked or rotated a moment ago is refused even where KV still serves its copy.
    /// That request is costly, so a strong check always counts against the session's
    /// rate limit, as if `.rate_limited()` were given.
    pub fn strong(self, strong: bool) -> Self {
        SessionCheck { strong, ..self }
    }

    /// Refuse a cookie-authenticated write (any method but GET, HEAD, OPTIONS) from a
    /// foreign browser origin.
    pub fn csrf(self) -> Self {
        SessionCheck { csrf: true, ..self }
    }

    /// Count the call against the session's rate limit (`SESSION_LIMITER`): for calls
    /// that cost more than a KV read.
    pub fn rate_limited(self) -> Self {
        SessionCheck { rate_limited: true, ..self }
    }

    /// Require a recent or strong enough authentication (step-up).
    pub fn fresh(self, freshness: Freshness) -> Self {
        SessionCheck { freshness, ..self }
    }

    /// Whether an impersonation session may be used here (the gatekeeper's
    /// `IMPERSONATION_METHODS` and `IMPERSONATION_DENY_PATHS`).
    pub fn impersonation(self, impersonation: ImpersonationAccess) -> Self {
        SessionCheck { impersonation, ..self }
    }

    /// The account's session-control API (`/v1/sessions`): never an impersonation
    /// session's to use.
    pub fn session_control(self) -> Self {
        self.impersonation(ImpersonationAccess::Refused)
    }

    pub async fn check(
        &self,
        req: &IncomingRequest,
        env: &Env,
        config: &Config,
        now: UnixSeconds,
    ) -> Result<Authenticated, Denial> {
        let kind = match (self.strong, self.freshness.is_required()) {
            (true, _) => CheckKind::Strong,
            (false, true) => CheckKind::Fresh,
            (false, false) => CheckKind::Eventual,
        };
        req.note(|n| n.check = kind);
        let presented = credential(req, config)?;
        let (hash, device, source) = (presented.hash(), presented.device_proof(), presented.source);
        let read = SessionStore::from_env(env).map_err(ApiError::from)?.get(&hash).await;
        // The theft signals: `request.cf` is read unless this client matched the
        // session's baseline a moment ago (`core::client_memory`).
        let expected = read.as_ref().ok().and_then(Option::as_ref).and_then(SessionRecord::baseline_digest);
        let reading = ClientReading::headers_of(req);
        let client_key = reading.client_key();
        let (observed, digest) = match remembered_match(client_key.as_ref(), expected, now) {
            Some(digest) => (None, Some(digest)),
            None => {
                let observed = Baseline::observe(&reading.with_cf(req).signals());
                let digest = digest_read(client_key, &observed, now);
                (Some(observed), digest)
            }
        };
        let Judged { record, drift } = self.judge_read(config, &hash, digest.as_ref(), read, now, device)?;
        if self.csrf && !is_safe_method(req.method()) {
            require_trusted_origin(req, config, source)?;
        }
        let mut drift_note = match drift {
            DriftNext::Strong => DriftNote::Strong,
            DriftNext::Ask => DriftNote::Observed,
            DriftNext::Settled => DriftNote::None,
        };
        req.note(|n| n.session = SessionFacts::of(&record, drift_note));
        let mut strong = self.strong || drift == DriftNext::Strong;
        if self.rate_limited || strong {
            limit_session(env, &record.session_id).await?;
        }
        // A remembered client matches the baseline, so only a client read just now is
        // ever asked about.
        if let (DriftNext::Ask, Some(digest), Some(observed)) = (drift, &digest, &observed) {
            // Once per isolate, session and change (`edge::drift`).
            let client = AccountClient::for_account(env, &record.account_id)?;
            match client.observe(&record.session_id, &hash, observed).await {
                Ok(reply) => {
                    let verdict = reply.unwrap_or(DriftVerdict::NotFound);
                    remember(&hash, digest, verdict);
                    if settle_verdict(verdict)? == DriftNext::Strong {
                        strong = true;
                        drift_note = DriftNote::Strong;
                        req.note(|n| n.session.drift = drift_note);
                    }
                }
                // The object could not be asked (or its reply was lost): the session is
                // used as KV's copy allows, as it would be without theft signals, and the
                // next request asks again. Validation never depends on the object being up.
                Err(e) if e.status() >= 500 => e.log_if_internal(),
                Err(e) => return Err(e.into()),
            }
        }
        let record = if strong {
            let client = AccountClient::for_account(env, &record.account_id)?;
            let verified = client.verify(&record.session_id, &hash).await?;
            let required =
                Requirement::live().fresh(self.freshness).presented(device).impersonation(self.impersonation);
            // A stale hit: KV's copy here would have let the request through, the index
            // did not. Noted with its age, the revocation lag the operator sees.
            let stale_hit = |age: Option<i64>| {
                if session_check::check(config, &record, &required, now).is_ok() {
                    req.note(|n| n.stale_hit = Some(age));
                }
            };
            let Some(indexed) = verified.record else {
                stale_hit(verified.revoked_at.map(|at| now - at));
                return Err(ApiError::new(ErrorCode::SessionNotFound).into());
            };
            if let Err(refusal) = session_check::check(config, &indexed, &required, now) {
                stale_hit(None);
                return Err(refusal.into());
            }
            indexed
        } else {
            record
        };
        Ok(Authenticated { hash, record, source })
    }
}

/// A holder retrying a rotation whose reply they never got, with the token that rotation
/// moved away from (`core::rotation_retry`). Found by the marker that token left in KV,
/// after the same CSRF check and rate limit as any rotation. Whether the window is still
/// open is the account's Durable Object's to decide, from its index.
pub struct RetryingRotation {
    pub account_id: AccountId,
    pub caller: Caller,
    pub source: CredentialSource,
}

/// The rotation retry a request's token may make, if its token left a marker: for the
/// rotate route, after its [`SessionCheck`] found no session. One more KV read, on that
/// miss only.
pub async fn rotation_retry(
    req: &IncomingRequest,
    env: &Env,
    config: &Config,
) -> Result<Option<RetryingRotation>, ApiError> {
    let presented = credential(req, config)?;
    // A bound cookie never rotates: its session's token rotates at the DBSC endpoints.
    let (Some(token), source) = (presented.token(), presented.source) else { return Ok(None) };
    let hash = token.hash();
    let store = SessionStore::from_env(env)?;
    let marker = store.rotation_marker(&hash).await.map_err(|e| ApiError::internal("SESSIONS get marker", e))?;
    let Some(RotatedAway { account_id, session_id }) = marker else { return Ok(None) };
    if !is_safe_method(req.method()) {
        require_trusted_origin(req, config, source)?;
    }
    limit_session(env, &session_id).await?;
    Ok(Some(RetryingRotation { account_id, caller: Caller { session_id, token_hash: hash }, source }))
}

/// What a read record still needs for the session's theft signals (`core::drift`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DriftNext {
    /// Nothing: the client matches its baseline, or this isolate was told it may go on.
    Settled,
    /// A strong check: a drift hold asks for one on every request.
    Strong,
    /// The account's Durable Object must classify this client first.
    Ask,
}

/// A record the read found, with what its drift still needs.
pub struct Judged {
    pub record: SessionRecord,
    pub drift: DriftNext,
}

/// What a verdict (remembered or just given) means for this request.
fn settle_verdict(verdict: DriftVerdict) -> Result<DriftNext, Denial> {
    match verdict {
        DriftVerdict::Accepted => Ok(DriftNext::Settled),
        DriftVerdict::Strong => Ok(DriftNext::Strong),
        DriftVerdict::StepUp => Err(Refusal::DriftStepUp.into()),
        DriftVerdict::Revoked => Err(ApiError::new(ErrorCode::SessionRevoked).into()),
        DriftVerdict::NotFound => Err(ApiError::new(ErrorCode::SessionNotFound).into()),
    }
}

impl SessionCheck {
    /// The steps between the one KV read and anything else: what the read found (a
    /// record this build cannot read opens nothing), then the record's own rules for
    /// this check, with this request's signals' digest (`observed`) compared with the
    /// session's baseline. No I/O, so the hot path's synchronous entry (`fast_path`)
    /// runs the same steps on the value the entry shim read.
    pub fn judge_read(
        &self,
        config: &Config,
        hash: &TokenHash,
        observed: Option<&BaselineDigest>,
        read: Result<Option<SessionRecord>, StoreError>,
        now: UnixSeconds,
        device: DeviceProof,
    ) -> Result<Judged, Denial> {
        let record = readable(read)?.ok_or_else(|| ApiError::new(ErrorCode::SessionNotFound))?;
        let here = if self.strong { Requirement::locating() } else { Requirement::live().fresh(self.freshness) };
        // The anti-downgrade rule holds on every path, a locating copy's included: the
        // binding is never undone, so a KV copy that shows it is never out of date.
        let here = here
            .presented(device)
            .impersonation(self.impersonation)
            .drift(DriftRule::Compare { observed: observed.cloned(), strong: self.strong });
        let drift = match session_check::check(config, &record, &here, now) {
            Ok(()) => DriftNext::Settled,
            Err(Refusal::DriftStrong) => DriftNext::Strong,
            Err(Refusal::Unclassified) => match observed.and_then(|digest| remembered(hash, digest)) {
                Some(verdict) => settle_verdict(verdict)?,
                None => DriftNext::Ask,
            },
            Err(refusal) => return Err(refusal.into()),
        };
        Ok(Judged { record, drift })
    }
}

/// Methods a browser sends cross-site without a preflight and that must not change
/// anything.
fn is_safe_method(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "OPTIONS")
}

/// The request's credential, mapped to the API's error codes. A bound cookie's MAC and
/// expiry are checked here, against this worker's clock.
pub fn credential(req: &IncomingRequest, config: &Config) -> Result<Credential, ApiError> {
    let cookie = req.header("Cookie");
    let authorization = req.header("Authorization");
    let (name, keys) = (&config.cookie_name, config.binding_keys());
    extract_credential(cookie.as_deref(), authorization.as_deref(), name, keys, platform::now()).map_err(ApiError::from)
}

/// What a KV read of a session key found, with the fail-closed rule for a record this
/// build cannot read: it reads as absent, and the log says so.
fn readable(read: Result<Option<SessionRecord>, StoreError>) -> Result<Option<SessionRecord>, ApiError> {
    match read {
        Ok(record) => Ok(record),
        Err(StoreError::Undecodable(e)) => {
            log_error("error", "undecodable session record", &e);
            Ok(None)
        }
        Err(e) => Err(ApiError::internal("SESSIONS get", e)),
    }
}

/// Refuses cookie-authenticated writes from foreign browser origins (CSRF). A bearer
/// token is never sent by a browser on its own, so it needs no such check.
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

/// The admin API's gate. Fails closed: no `ADMIN_KEY` configured means no admin API,
/// even with an `ADMIN_KEY_PREVIOUS`.
pub fn require_admin(req: &IncomingRequest, env: &Env) -> Result<(), ApiError> {
    let keys = match admin_key(env) {
        AdminKeyState::NotConfigured => return Err(ApiError::new(ErrorCode::AdminDisabled)),
        AdminKeyState::TooShort(name) => return Err(ConfigError::new(name, "must be at least 32 characters").into()),
        AdminKeyState::Configured(keys) => keys,
    };
    let presented = req.header("Authorization");
    match presented.as_deref().and_then(bearer_value) {
        Some(candidate) if keys.verify(candidate) => Ok(()),
        _ => {
            // One line per refusal, never the key presented.
            log_error("warn", "admin: refused a request with a missing or wrong admin key", &req.path());
            Err(ApiError::new(ErrorCode::InvalidAdminKey))
        }
    }
}
