//! The one funnel from handler errors to HTTP responses, and JSON helpers.
//!
//! Every handler returns `Result<Response, ApiError>`; the router turns an `ApiError`
//! into `{"error": "<code>", "message": "..."}` with its status. Messages are written
//! here or in the core and never contain a token.

use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde::Serialize;
use worker::{Headers, Request, Response};

/// Largest JSON body any endpoint accepts.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

#[derive(Debug)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into() }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(401, code, message)
    }

    pub fn not_found() -> Self {
        Self::new(404, "not_found", "no such endpoint")
    }

    /// A failure of the platform (KV, the Durable Object, the RNG). The detail goes to
    /// the log, not to the client.
    pub fn internal(context: &str, err: impl std::fmt::Display) -> Self {
        log_error("error", context, &err);
        Self::new(500, "internal_error", "the session service failed; try again")
    }

    pub fn into_response(self) -> Response {
        let body = ErrorBody { error: self.code, message: &self.message };
        let mut response = json_response(self.status, &body);
        if self.status == 401 {
            let challenge = format!("Bearer realm=\"session\", error=\"{}\"", self.code);
            let _ = response.headers_mut().set("WWW-Authenticate", &challenge);
        }
        response
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
    error: &'static str,
    message: &'a str,
}

/// A JSON response that no cache may keep: every body here describes a session.
pub fn json_response<T: Serialize>(status: u16, body: &T) -> Response {
    let json = serde_json::to_string(body).unwrap_or_else(|_| "{}".to_owned());
    let headers = Headers::new();
    let _ = headers.set("Content-Type", "application/json; charset=utf-8");
    let _ = headers.set("Cache-Control", "no-store");
    Response::from_bytes(json.into_bytes())
        .unwrap_or_else(|_| Response::empty().expect("empty response"))
        .with_status(status)
        .with_headers(headers)
}

/// 204 with `Cache-Control: no-store`.
pub fn no_content() -> Response {
    let headers = Headers::new();
    let _ = headers.set("Cache-Control", "no-store");
    Response::empty().expect("empty response").with_status(204).with_headers(headers)
}

/// The request's method exactly as sent, upper-cased. workers-rs's `Method` turns
/// methods it does not know into GET; this does not.
pub fn request_method(req: &Request) -> String {
    req.inner().method().to_ascii_uppercase()
}

/// A request header, or `None` if absent.
pub fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}

/// Past the limit, a body up to this size is still read (and dropped) before the 413,
/// so the connection closes cleanly: a server that answers and closes with unread
/// data makes the client's TCP stack reset, and the client may never see the 413.
/// Anything larger is refused without reading it.
const DRAIN_MAX_BYTES: u64 = 1024 * 1024;

/// Reads the body up to [`MAX_BODY_BYTES`], refusing more without buffering it.
pub async fn read_body_limited(req: &mut Request) -> Result<Vec<u8>, ApiError> {
    let too_large = || ApiError::new(413, "body_too_large", format!("request body exceeds {MAX_BODY_BYTES} bytes"));
    let declared = header(req, "Content-Length").and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|len| len > DRAIN_MAX_BYTES) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    let mut seen: u64 = 0;
    let Ok(mut stream) = req.stream() else { return Ok(body) };
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| ApiError::bad_request("invalid_body", "the request body could not be read"))?;
        seen += chunk.len() as u64;
        if seen > DRAIN_MAX_BYTES {
            return Err(too_large());
        }
        if seen <= MAX_BODY_BYTES as u64 {
            body.extend_from_slice(&chunk);
        }
    }
    if seen > MAX_BODY_BYTES as u64 {
        return Err(too_large());
    }
    Ok(body)
}

/// Parses an optional JSON body: empty means `T::default()`. Unknown fields are refused
/// by the types themselves (`deny_unknown_fields`).
pub async fn read_optional_json<T: DeserializeOwned + Default>(req: &mut Request) -> Result<T, ApiError> {
    let body = read_body_limited(req).await?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    let is_json = header(req, "Content-Type")
        .map(|ct| ct.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/json"));
    if is_json == Some(false) {
        return Err(ApiError::new(415, "unsupported_media_type", "send the body as application/json"));
    }
    serde_json::from_slice(&body).map_err(|e| {
        // serde_json's message names the offending field and can quote the caller's own
        // value; it goes back only to that caller, cut short so it stays a message.
        let detail: String = e.to_string().chars().take(120).collect();
        ApiError::bad_request("invalid_json", format!("request body is not valid: {detail}"))
    })
}

/// A query parameter's decoded value, if present.
pub fn query_param(req: &Request, name: &str) -> Option<String> {
    let url = req.url().ok()?;
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// `?limit=`: a whole number from 1 to `cap`, or `default` when absent.
pub fn limit_param(req: &Request, default: u32, cap: u32) -> Result<u32, ApiError> {
    match query_param(req, "limit") {
        None => Ok(default),
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=cap).contains(n))
            .ok_or_else(|| ApiError::bad_request("invalid_limit", format!("limit must be a whole number from 1 to {cap}"))),
    }
}
