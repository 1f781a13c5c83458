//! Building responses: JSON bodies, empty answers and redirects. Every one is
//! `Cache-Control: no-store` unless it says otherwise: bodies here describe a session.

use serde::Serialize;
use worker::{Response, ResponseBody};

/// A JSON response that no cache may keep.
pub fn json_response<T: Serialize>(status: u16, body: &T) -> Response {
    let json = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    // `from_body` sets no headers of its own, so each header below is one call into JS
    // on the response's own `Headers` (`from_bytes` would set a Content-Type first, and
    // `with_headers` would build a second `Headers`).
    let mut response = Response::from_body(ResponseBody::Body(json)).expect("a fixed body").with_status(status);
    let headers = response.headers_mut();
    let _ = headers.set("Content-Type", "application/json; charset=utf-8");
    let _ = headers.set("Cache-Control", "no-store");
    response
}

/// 204 with `Cache-Control: no-store`.
pub fn no_content() -> Response {
    let mut response = Response::empty().expect("empty response").with_status(204);
    let _ = response.headers_mut().set("Cache-Control", "no-store");
    response
}

/// 302 to `location`, never cached.
pub fn redirect(location: &str) -> Response {
    let mut response = Response::empty().expect("empty response").with_status(302);
    let headers = response.headers_mut();
    let _ = headers.set("Location", location);
    let _ = headers.set("Cache-Control", "no-store");
    response
}
