//! Building responses: JSON bodies, empty answers and redirects. Every one is
//! `Cache-Control: no-store` unless it says otherwise: bodies here describe a session.

use serde::Serialize;
use worker::{Headers, Response};

/// A JSON response that no cache may keep.
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

/// 302 to `location`, never cached.
pub fn redirect(location: &str) -> Response {
    let headers = Headers::new();
    let _ = headers.set("Location", location);
    let _ = headers.set("Cache-Control", "no-store");
    Response::empty().expect("empty response").with_status(302).with_headers(headers)
}
