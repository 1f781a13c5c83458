//! Building responses: JSON bodies, empty answers and redirects. Every one is
//! `Cache-Control: no-store` unless it says otherwise: bodies here describe a session.

use crate::edge::answer::Answer;
use serde::Serialize;
use worker::Response;

/// A JSON response that no cache may keep.
pub fn json_response<T: Serialize>(status: u16, body: &T) -> Response {
    Answer::json(status, body).into_response()
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
