//! Building responses: JSON bodies and empty answers (a redirect is `Answer::redirect`). Every one is
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
