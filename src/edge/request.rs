//! Reading the parts of a request: headers, the method as sent, query parameters and a
//! bounded JSON body. Each failure is the caller's, and maps to its error code here.

use crate::core::error_code::ErrorCode;
use crate::edge::error::ApiError;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use worker::Request;

/// Largest JSON body any endpoint accepts.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

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
    let too_large =
        || ApiError::with_message(ErrorCode::BodyTooLarge, format!("request body exceeds {MAX_BODY_BYTES} bytes"));
    let declared = header(req, "Content-Length").and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|len| len > DRAIN_MAX_BYTES) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    let mut seen: u64 = 0;
    let Ok(mut stream) = req.stream() else { return Ok(body) };
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| ApiError::new(ErrorCode::InvalidBody))?;
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
        return Err(ApiError::new(ErrorCode::UnsupportedMediaType));
    }
    serde_json::from_slice(&body).map_err(|e| {
        // serde_json's message names the offending field and can quote the caller's own
        // value; it goes back only to that caller, cut short so it stays a message.
        let detail: String = e.to_string().chars().take(120).collect();
        ApiError::with_message(ErrorCode::InvalidJson, format!("request body is not valid: {detail}"))
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
        Some(raw) => raw.parse::<u32>().ok().filter(|n| (1..=cap).contains(n)).ok_or_else(|| {
            ApiError::with_message(ErrorCode::InvalidLimit, format!("limit must be a whole number from 1 to {cap}"))
        }),
    }
}
