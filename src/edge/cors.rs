//! CORS for browser frontends that call the session endpoints with credentials.
//!
//! Only origins listed in `ALLOWED_ORIGINS` are echoed back, always with
//! `Access-Control-Allow-Credentials: true` and `Vary: Origin` (so a shared cache never
//! serves one origin's answer to another). Never `*`. The admin API gets no CORS at all:
//! it is for servers, and a browser has no business calling it.

use crate::core::error_code::ErrorCode;
use crate::core::origin::AllowedOrigins;
use crate::edge::answer::Answer;
use crate::edge::error::ApiError;
use worker::{Headers, Response};

const ALLOWED_METHODS: &str = "GET, POST, DELETE";
const ALLOWED_HEADERS: &str = "Authorization, Content-Type";
const PREFLIGHT_MAX_AGE_SECS: &str = "600";
/// Response headers a page on an allowed origin may read besides the safelisted ones:
/// how long to wait after a 429.
const EXPOSED_HEADERS: &str = "Retry-After";

/// Adds the CORS response headers when `origin` is allowed; only `Vary` otherwise.
pub fn apply_cors(response: &mut Response, allowed: &AllowedOrigins, origin: Option<&str>) {
    let headers = response.headers_mut();
    let _ = headers.append("Vary", "Origin");
    for (name, value) in allowed_origin_headers(allowed, origin).into_iter().flatten() {
        let _ = headers.set(name, value);
    }
}

/// [`apply_cors`] for an answer the hot path sends through the entry shim.
pub fn apply_cors_to_answer(answer: &mut Answer, allowed: &AllowedOrigins, origin: Option<&str>) {
    answer.append("Vary", "Origin");
    for (name, value) in allowed_origin_headers(allowed, origin).into_iter().flatten() {
        answer.set(name, value);
    }
}

/// The headers an answer to a listed origin carries besides `Vary`.
fn allowed_origin_headers<'a>(
    allowed: &AllowedOrigins,
    origin: Option<&'a str>,
) -> Option<[(&'static str, &'a str); 3]> {
    let origin = origin.filter(|o| allowed.allows(o))?;
    Some([
        ("Access-Control-Allow-Origin", origin),
        ("Access-Control-Allow-Credentials", "true"),
        ("Access-Control-Expose-Headers", EXPOSED_HEADERS),
    ])
}

/// The answer to an `OPTIONS` preflight.
pub fn preflight(allowed: &AllowedOrigins, origin: Option<&str>) -> Response {
    let Some(origin) = origin.filter(|o| allowed.allows(o)) else {
        let mut response =
            ApiError::with_message(ErrorCode::OriginNotAllowed, "this origin may not call the session API")
                .into_response();
        let _ = response.headers_mut().append("Vary", "Origin");
        return response;
    };
    let headers = Headers::new();
    let _ = headers.set("Access-Control-Allow-Origin", origin);
    let _ = headers.set("Access-Control-Allow-Credentials", "true");
    let _ = headers.set("Access-Control-Allow-Methods", ALLOWED_METHODS);
    let _ = headers.set("Access-Control-Allow-Headers", ALLOWED_HEADERS);
    let _ = headers.set("Access-Control-Max-Age", PREFLIGHT_MAX_AGE_SECS);
    let _ = headers.set("Vary", "Origin");
    // Like every other answer: a shared cache must not keep it (the Max-Age above is
    // the browser's own preflight cache, which is per origin).
    let _ = headers.set("Cache-Control", "no-store");
    Response::empty().expect("empty response").with_status(204).with_headers(headers)
}
