//! An answer as data (status, headers, body) before it becomes the runtime's
//! `Response`. The hot path hands one to the entry shim as text ([`Answer::encode`]);
//! every other path turns one into a `Response` ([`Answer::into_response`]). Both come
//! from the same builders, so the two paths answer alike, byte for byte
//! (tests/e2e/fast-path.test.mjs checks it).

use serde::Serialize;
use worker::{Response, ResponseBody};

pub struct Answer {
    pub status: u16,
    /// In the order they are added. A name may appear twice (`Vary`, `Set-Cookie`),
    /// which `Headers.append` joins as the runtime always does.
    headers: Vec<(&'static str, String)>,
    body: Option<Vec<u8>>,
}

impl Answer {
    /// A JSON answer that no cache may keep: bodies here describe a session.
    pub fn json<T: Serialize>(status: u16, body: &T) -> Self {
        let json = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
        Answer {
            status,
            headers: vec![
                ("Content-Type", "application/json; charset=utf-8".to_owned()),
                ("Cache-Control", "no-store".to_owned()),
            ],
            body: Some(json),
        }
    }

    /// 302 to `location`, never cached.
    pub fn redirect(location: &str) -> Self {
        Answer {
            status: 302,
            headers: vec![("Location", location.to_owned()), ("Cache-Control", "no-store".to_owned())],
            body: None,
        }
    }

    /// Replaces every header of that name.
    pub fn set(&mut self, name: &'static str, value: impl Into<String>) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name, value.into()));
    }

    /// Adds a header beside any of the same name.
    pub fn append(&mut self, name: &'static str, value: impl Into<String>) {
        self.headers.push((name, value.into()));
    }

    /// The runtime's response. Each header is one call on the response's own `Headers`
    /// (`from_body` sets none of its own).
    pub fn into_response(self) -> Response {
        let body = match self.body {
            Some(bytes) => ResponseBody::Body(bytes),
            None => ResponseBody::Empty,
        };
        let mut response = Response::from_body(body).expect("a fixed body").with_status(self.status);
        let headers = response.headers_mut();
        for (name, value) in &self.headers {
            let _ = headers.append(name, value);
        }
        response
    }

    /// The text the entry shim turns into a `Response`: the status, one `name:value`
    /// line per header, an empty line, then the body. Header values never hold a line
    /// break (HTTP forbids it, and every value here is this worker's own), so the first
    /// empty line ends the headers whatever the body holds.
    pub fn encode(&self, out: &mut String) {
        use std::fmt::Write;
        let _ = writeln!(out, "{}", self.status);
        for (name, value) in &self.headers {
            out.push_str(name);
            out.push(':');
            out.push_str(value);
            out.push('\n');
        }
        out.push('\n');
        if let Some(body) = &self.body {
            // Bodies here are JSON this worker serialised: UTF-8 by construction.
            out.push_str(std::str::from_utf8(body).unwrap_or("{}"));
        }
    }
}
