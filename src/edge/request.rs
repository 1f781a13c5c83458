//! Reading the parts of a request: headers, the method as sent, query parameters and a
//! bounded JSON body. Each failure is the caller's, and maps to its error code here.
//!
//! `IncomingRequest` wraps the runtime's request itself rather than workers-rs's
//! `Request`: that conversion reads `request.cf`, 7.4 % of a validation's CPU in the
//! profile (docs/performance.md), and nothing here uses it. The method and URL cross
//! from JS once; path and query are sliced out of the URL string (`core::request_url`)
//! instead of parsing it again.

use crate::core::account::AccountId;
use crate::core::error_code::ErrorCode;
use crate::core::request_url::RequestUrl;
use crate::core::token::SessionId;
use crate::core::whole_number::from_text;
use crate::edge::error::ApiError;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use std::cell::Cell;
use std::rc::Rc;
use worker::{web_sys, ByteStream, Headers};

/// The request as the runtime handed it to the worker.
pub struct IncomingRequest {
    raw: web_sys::Request,
    headers: web_sys::Headers,
    /// As sent, upper-cased. workers-rs's `Method` turns methods it does not know into
    /// GET; this does not.
    method: String,
    /// The WHATWG serialisation the runtime produced (already normalised).
    url: String,
    /// Where scheme, host, path and query are in `url`.
    parts: RequestUrl,
    /// What answering it involved, for its metrics data point (`edge::metrics`).
    notes: Rc<Cell<AnswerNotes>>,
}

/// What answering a request involved, noted on the way for its metrics data point.
#[derive(Clone, Copy, Default)]
pub struct AnswerNotes {
    pub check: CheckKind,
    pub touch_sent: bool,
    /// A strong check refused what this request's KV read accepted: `Some(age)` with the
    /// seconds since the revocation when the object still remembers it.
    pub stale_hit: Option<Option<i64>>,
    /// What the session behind the answer was, once a check found one.
    pub session: SessionFacts,
}

/// The coarse state of the session an answer was about, for its data point: nothing
/// that names it.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct SessionFacts {
    /// A check found a record (valid or not for this request).
    pub found: bool,
    /// Bound to a device key (DBSC).
    pub device_bound: bool,
    /// An impersonation session.
    pub impersonation: bool,
    /// Theft signals: this request's client was classified by the account's object
    /// (`Observed`), or a drift hold made the check strong (`Strong`).
    pub drift: DriftNote,
}

#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub enum DriftNote {
    #[default]
    None,
    Observed,
    Strong,
}

impl SessionFacts {
    pub fn of(record: &crate::core::record::SessionRecord, drift: DriftNote) -> Self {
        SessionFacts {
            found: true,
            device_bound: record.device_binding.is_some(),
            impersonation: record.impersonation.is_some(),
            drift,
        }
    }
}

/// Which session check a request went through.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub enum CheckKind {
    #[default]
    None,
    Eventual,
    Fresh,
    Strong,
}

impl CheckKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckKind::None => "none",
            CheckKind::Eventual => "eventual",
            CheckKind::Fresh => "fresh",
            CheckKind::Strong => "strong",
        }
    }
}

impl IncomingRequest {
    pub fn new(raw: web_sys::Request) -> Self {
        let method = raw.method().to_ascii_uppercase();
        let url = raw.url();
        let headers = raw.headers();
        let parts = RequestUrl::split(&url);
        IncomingRequest { raw, headers, method, url, parts, notes: Rc::default() }
    }

    /// The request's notes, shared: still readable once the request itself has moved
    /// on (into the gatekeeper's forward).
    pub fn notes(&self) -> Rc<Cell<AnswerNotes>> {
        Rc::clone(&self.notes)
    }

    pub fn note(&self, f: impl FnOnce(&mut AnswerNotes)) {
        let mut notes = self.notes.get();
        f(&mut notes);
        self.notes.set(notes);
    }

    /// The method exactly as sent, upper-cased.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The path as sent (percent-encoded, never decoded here).
    pub fn path(&self) -> &str {
        &self.url[self.parts.path.clone()]
    }

    /// The raw query string without its `?`, if the URL has one.
    pub fn query(&self) -> Option<&str> {
        self.parts.query.clone().map(|range| &self.url[range])
    }

    /// The whole URL, as a string.
    pub fn url_str(&self) -> &str {
        &self.url
    }

    /// `scheme://host[:port]`, as the request reached the worker (the runtime leaves
    /// out a scheme's default port, as an Origin header does).
    pub fn origin(&self) -> String {
        format!("{}://{}", self.scheme(), self.authority())
    }

    /// `host[:port]`.
    pub fn authority(&self) -> &str {
        &self.url[self.parts.authority.clone()]
    }

    /// `https` or `http`.
    pub fn scheme(&self) -> &str {
        &self.url[self.parts.scheme.clone()]
    }

    /// A request header, or `None` if absent.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).ok().flatten()
    }

    /// All headers, for forwarding.
    pub fn headers(&self) -> Headers {
        Headers(self.headers.clone())
    }

    /// The runtime's request, for forwarding its body.
    pub fn inner(&self) -> &web_sys::Request {
        &self.raw
    }

    /// A query parameter's decoded value (`+` and percent-escapes, as forms encode),
    /// if present.
    pub fn query_param(&self, name: &str) -> Option<String> {
        let query = self.query()?;
        form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
    }
}

/// Largest JSON body any endpoint accepts.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Past the limit, a body up to this size is still read (and dropped) before the 413,
/// so the connection closes cleanly: a server that answers and closes with unread
/// data makes the client's TCP stack reset, and the client may never see the 413.
/// Anything larger is refused without reading it.
const DRAIN_MAX_BYTES: u64 = 1024 * 1024;

/// Reads the body up to [`MAX_BODY_BYTES`], refusing more without buffering it.
pub async fn read_body_limited(req: &mut IncomingRequest) -> Result<Vec<u8>, ApiError> {
    let too_large =
        || ApiError::with_message(ErrorCode::BodyTooLarge, format!("request body exceeds {MAX_BODY_BYTES} bytes"));
    let declared = req.header("Content-Length").and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|len| len > DRAIN_MAX_BYTES) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    let mut seen: u64 = 0;
    let Some(stream) = req.raw.body() else { return Ok(body) };
    let mut stream = ByteStream::from(stream);
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
pub async fn read_optional_json<T: DeserializeOwned + Default>(req: &mut IncomingRequest) -> Result<T, ApiError> {
    let body = read_body_limited(req).await?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    let is_json = req
        .header("Content-Type")
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

/// `?limit=`: a whole number (`50` or `50.0`, as in a JSON body) from 1 to `cap`, or `default` when absent.
pub fn limit_param(req: &IncomingRequest, default: u32, cap: u32) -> Result<u32, ApiError> {
    match req.query_param("limit") {
        None => Ok(default),
        Some(raw) => {
            from_text(&raw).and_then(|n| u32::try_from(n).ok()).filter(|n| (1..=cap).contains(n)).ok_or_else(|| {
                ApiError::with_message(ErrorCode::InvalidLimit, format!("limit must be a whole number from 1 to {cap}"))
            })
        }
    }
}

/// `{account_id}` in an admin path: `%40` and `%3A` are taken for `@` and `:`.
pub fn parse_account_id(raw: &str) -> Result<AccountId, ApiError> {
    Ok(AccountId::from_path_segment(raw)?)
}

/// `{account_id}/…/{session_id}` in an admin path. A malformed session id cannot name a
/// session of this account, so it answers like an unknown one (404).
pub fn parse_session_address(raw_account_id: &str, raw_session_id: &str) -> Result<(AccountId, SessionId), ApiError> {
    let account_id = parse_account_id(raw_account_id)?;
    let session_id = SessionId::parse(raw_session_id).ok_or_else(|| ApiError::new(ErrorCode::UnknownSessionId))?;
    Ok((account_id, session_id))
}
