//! The one funnel from handler errors to HTTP responses.
//!
//! Every handler returns `Result<Response, ApiError>`; the router turns an `ApiError`
//! into `{"error": "<code>", "message": "..."}` with the code's status. The code comes
//! from the core's [`ErrorCode`]; the message is the code's own unless the error says
//! something more specific. Messages never contain a token.
//!
//! Internal errors keep their detail for the operator's log, and are logged where they
//! become a response ([`ApiError::into_response`]), not where they are built: an error
//! that is handled on the way up is never logged as a failure.

use crate::core::account::AccountIdError;
use crate::core::bound_cookie::BoundCookieError;
use crate::core::claims::ClaimsError;
use crate::core::credentials::CredentialError;
use crate::core::device_binding::BindingRefusal;
use crate::core::error_code::ErrorCode;
use crate::core::impersonation::ImpersonationError;
use crate::core::policy::LifetimeError;
use crate::core::record::MetaError;
use crate::core::session_check::Refusal;
use crate::core::step_up::AuthFactsError;
use crate::core::timestamp::rfc3339;
use crate::core::vars::ConfigError;
use crate::edge::answer::Answer;
use crate::edge::session_store::StoreError;
use serde::Serialize;
use std::borrow::Cow;
use worker::Response;

#[derive(Debug)]
pub struct ApiError {
    code: ErrorCode,
    message: Cow<'static, str>,
    /// For internal errors: where it failed and the platform's own words. Logged, never
    /// sent.
    internal: Option<(&'static str, String)>,
    /// For `rate_limited`: the `Retry-After` seconds.
    retry_after_secs: Option<u32>,
    /// Fields added to the body beside `error` and `message` (what a
    /// `reauthentication_required` failed on).
    details: Option<serde_json::Map<String, serde_json::Value>>,
}

impl ApiError {
    /// An error with its code's default message.
    pub fn new(code: ErrorCode) -> Self {
        ApiError { code, message: Cow::Borrowed(code.message()), internal: None, retry_after_secs: None, details: None }
    }

    /// An error whose message says more than the code's default (which field, which
    /// variable). The message must not carry secrets.
    pub fn with_message(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        ApiError { code, message: message.into(), internal: None, retry_after_secs: None, details: None }
    }

    pub fn not_found() -> Self {
        Self::new(ErrorCode::NotFound)
    }

    /// A failure of the platform (KV, the Durable Object, the RNG). The detail goes to
    /// the log when this becomes a response, never to the client.
    pub fn internal(context: &'static str, err: impl std::fmt::Display) -> Self {
        ApiError { internal: Some((context, err.to_string())), ..Self::new(ErrorCode::InternalError) }
    }

    /// 429 with `Retry-After`.
    pub fn rate_limited(retry_after_secs: u32) -> Self {
        ApiError { retry_after_secs: Some(retry_after_secs), ..Self::new(ErrorCode::RateLimited) }
    }

    /// Adds fields to the error body. They must not carry secrets.
    pub fn with_details(mut self, details: serde_json::Map<String, serde_json::Value>) -> Self {
        self.details = Some(details);
        self
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    pub fn status(&self) -> u16 {
        self.code.status()
    }

    /// What the response's `message` says (never an internal error's detail).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Logs an internal error's detail. For errors that end in the log rather than in a
    /// response (work done after the response, in `waitUntil`).
    pub fn log_if_internal(&self) {
        if let Some((context, detail)) = &self.internal {
            log_error("error", context, detail);
        }
    }

    pub fn into_response(self) -> Response {
        self.into_answer().into_response()
    }

    /// The error's answer: its JSON body, and `WWW-Authenticate` on a 401 and
    /// `Retry-After` on a 429. An internal error's detail goes to the log here.
    pub fn into_answer(self) -> Answer {
        self.log_if_internal();
        let body = ErrorBody { error: self.code, message: &self.message, details: self.details.as_ref() };
        let mut answer = Answer::json(self.status(), &body);
        if self.status() == 401 {
            answer.set("WWW-Authenticate", format!("Bearer realm=\"session\", error=\"{}\"", self.code));
        }
        if let Some(secs) = self.retry_after_secs {
            answer.set("Retry-After", secs.to_string());
        }
        answer
    }
}

// How each error of the core becomes an API error: one `From` each, here, so a handler
// says `?` and the mapping is never written twice.

impl From<ConfigError> for ApiError {
    fn from(e: ConfigError) -> Self {
        ApiError::with_message(ErrorCode::InvalidConfig, e.to_string())
    }
}

/// A session the one session check refused.
impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::ExpiredIdle | Refusal::ExpiredAbsolute => ApiError::new(ErrorCode::SessionExpired),
            Refusal::CutOff => ApiError::new(ErrorCode::SessionRevoked),
            Refusal::Fenced => ApiError::new(ErrorCode::StaleAuthentication),
            Refusal::DeviceBinding(BindingRefusal::BoundCookieRequired) => {
                ApiError::new(ErrorCode::BoundCookieRequired)
            }
            Refusal::DeviceBinding(BindingRefusal::KeyMismatch) => ApiError::new(ErrorCode::DeviceKeyMismatch),
            Refusal::ImpersonationForbidden => ApiError::new(ErrorCode::ImpersonationForbidden),
            // Says when and how strongly the user last authenticated, and which
            // requirement failed, so the caller knows what to ask of them.
            Refusal::NotFresh { authenticated_at, aal, failed } => {
                let mut names = Vec::new();
                if failed.too_old {
                    names.push(serde_json::Value::from("max_age"));
                }
                if failed.too_weak {
                    names.push(serde_json::Value::from("min_aal"));
                }
                let mut details = serde_json::Map::new();
                details.insert("authenticated_at".into(), rfc3339(authenticated_at).into());
                details.insert("aal".into(), aal.into());
                details.insert("failed".into(), names.into());
                ApiError::new(ErrorCode::ReauthenticationRequired).with_details(details)
            }
            // A drift hold (`DRIFT_POLICY` `step_up`). The other two drift refusals
            // ask the account's object first and never reach here; should one, it
            // fails closed the same way.
            Refusal::DriftStepUp | Refusal::DriftStrong | Refusal::Unclassified => {
                let mut details = serde_json::Map::new();
                details.insert("failed".into(), vec![serde_json::Value::from("drift")].into());
                ApiError::with_message(
                    ErrorCode::ReauthenticationRequired,
                    "this session was used from a client unlike the one it began on; sign in again",
                )
                .with_details(details)
            }
        }
    }
}

/// A credential the request carried that cannot be read. The core's message says which
/// rule failed, and never echoes the token.
impl From<CredentialError> for ApiError {
    fn from(e: CredentialError) -> Self {
        let code = match e {
            CredentialError::Missing => ErrorCode::MissingToken,
            CredentialError::Invalid(_) | CredentialError::NotBearer => ErrorCode::InvalidToken,
            CredentialError::DuplicateCookie | CredentialError::Conflicting => ErrorCode::AmbiguousToken,
            CredentialError::HeaderTooLarge => ErrorCode::HeaderTooLarge,
            CredentialError::Bound(BoundCookieError::Expired) => ErrorCode::BoundCookieExpired,
            CredentialError::Bound(_) => ErrorCode::InvalidToken,
        };
        ApiError::with_message(code, e.to_string())
    }
}

/// KV failed (or its binding is missing): the platform's fault, logged, never sent.
impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::internal("SESSIONS", e)
    }
}

impl From<ClaimsError> for ApiError {
    fn from(e: ClaimsError) -> Self {
        ApiError::with_message(ErrorCode::InvalidClaims, e.to_string())
    }
}

impl From<MetaError> for ApiError {
    fn from(e: MetaError) -> Self {
        ApiError::with_message(ErrorCode::InvalidMetadata, e.to_string())
    }
}

impl From<ImpersonationError> for ApiError {
    fn from(e: ImpersonationError) -> Self {
        let code = match e {
            ImpersonationError::Ttl => ErrorCode::InvalidLifetime,
            ImpersonationError::Missing(_) | ImpersonationError::Text(_) | ImpersonationError::ActorNotAscii => {
                ErrorCode::InvalidMetadata
            }
        };
        ApiError::with_message(code, e.to_string())
    }
}

impl From<LifetimeError> for ApiError {
    fn from(e: LifetimeError) -> Self {
        ApiError::with_message(ErrorCode::InvalidLifetime, e.to_string())
    }
}

impl From<AccountIdError> for ApiError {
    fn from(e: AccountIdError) -> Self {
        ApiError::with_message(ErrorCode::InvalidAccountId, e.to_string())
    }
}

impl From<AuthFactsError> for ApiError {
    fn from(e: AuthFactsError) -> Self {
        ApiError::with_message(ErrorCode::InvalidAuthentication, e.to_string())
    }
}

/// The CSPRNG failed: no token can be drawn, so nothing is created.
impl From<getrandom::Error> for ApiError {
    fn from(e: getrandom::Error) -> Self {
        ApiError::internal("random bytes", e)
    }
}

/// One JSON line on stderr for operators. Callers pass platform errors and fixed
/// context strings, never request data, so no token can reach it.
pub fn log_error(level: &str, context: &str, err: &dyn std::fmt::Display) {
    let line = serde_json::json!({ "level": level, "context": context, "error": err.to_string() });
    // The console method carries the level too (Workers Logs and `wrangler tail` show
    // it): a warning is not written as an error.
    match level {
        "error" => worker::console_error!("{line}"),
        "warn" => worker::console_warn!("{line}"),
        _ => worker::console_log!("{line}"),
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorCode,
    message: &'a str,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    details: Option<&'a serde_json::Map<String, serde_json::Value>>,
}
