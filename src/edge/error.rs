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

use crate::core::error_code::ErrorCode;
use crate::core::vars::ConfigError;
use crate::edge::response::json_response;
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

    /// Logs an internal error's detail. For errors that end in the log rather than in a
    /// response (work done after the response, in `waitUntil`).
    pub fn log_if_internal(&self) {
        if let Some((context, detail)) = &self.internal {
            log_error("error", context, detail);
        }
    }

    pub fn into_response(self) -> Response {
        self.log_if_internal();
        let body = ErrorBody { error: self.code, message: &self.message, details: self.details.as_ref() };
        let mut response = json_response(self.status(), &body);
        if self.status() == 401 {
            let challenge = format!("Bearer realm=\"session\", error=\"{}\"", self.code);
            let _ = response.headers_mut().set("WWW-Authenticate", &challenge);
        }
        if let Some(secs) = self.retry_after_secs {
            let _ = response.headers_mut().set("Retry-After", &secs.to_string());
        }
        response
    }
}

impl From<ConfigError> for ApiError {
    fn from(e: ConfigError) -> Self {
        ApiError::with_message(ErrorCode::InvalidConfig, e.to_string())
    }
}

/// One JSON line on stderr for operators. Callers pass platform errors and fixed
/// context strings, never request data, so no token can reach it.
pub fn log_error(level: &str, context: &str, err: &dyn std::fmt::Display) {
    let line = serde_json::json!({ "level": level, "context": context, "error": err.to_string() });
    worker::console_error!("{line}");
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorCode,
    message: &'a str,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    details: Option<&'a serde_json::Map<String, serde_json::Value>>,
}
