//! One Workers Analytics Engine data point per answer, to the optional `METRICS`
//! dataset (docs/observability.md has the schema and the queries). Nothing in it
//! identifies anyone: no token, hash, IP, account or session id. Without the binding
//! nothing is done; with it, the cost is one `JSON.parse` and one `writeDataPoint`,
//! after the answer is known, from values already at hand.

use crate::core::error_code::ErrorCode;
use crate::edge::request::{AnswerNotes, CheckKind, DriftNote, IncomingRequest, SessionFacts};
use std::cell::Cell;
use std::fmt::Write;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use worker::Env;

pub const METRICS_BINDING: &str = "METRICS";

#[wasm_bindgen]
extern "C" {
    type AnalyticsEngineDataset;

    #[wasm_bindgen(method, catch, js_name = writeDataPoint)]
    fn write_data_point(this: &AnalyticsEngineDataset, point: &JsValue) -> Result<(), JsValue>;
}

/// What the answer was, coarsely: the part of the API, or the gatekeeper.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouteClass {
    Validate,
    Token,
    Refresh,
    Rotate,
    Logout,
    Account,
    Admin,
    Gated,
    Other,
}

impl RouteClass {
    /// From the method and the path's segments after `/v1` (`None` outside `/v1/`).
    pub fn of(method: &str, v1_segments: Option<&[&str]>) -> Self {
        match v1_segments {
            None => RouteClass::Gated,
            Some(["session"]) if method == "DELETE" => RouteClass::Logout,
            Some(["session"]) => RouteClass::Validate,
            Some(["session", "token"]) => RouteClass::Token,
            Some(["session", "refresh"]) => RouteClass::Refresh,
            Some(["session", "rotate"]) => RouteClass::Rotate,
            Some(["sessions", ..]) => RouteClass::Account,
            Some(["admin", ..]) => RouteClass::Admin,
            Some(_) => RouteClass::Other,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RouteClass::Validate => "validate",
            RouteClass::Token => "token",
            RouteClass::Refresh => "refresh",
            RouteClass::Rotate => "rotate",
            RouteClass::Logout => "logout",
            RouteClass::Account => "account",
            RouteClass::Admin => "admin",
            RouteClass::Gated => "gated",
            RouteClass::Other => "other",
        }
    }
}

/// The outcome as a word, from the status.
fn outcome(status: u16) -> &'static str {
    match status {
        200..=399 => "ok",
        401 | 403 => "refused",
        429 => "limited",
        400..=499 => "rejected",
        _ => "error",
    }
}

/// The answer's data point, prepared when the request arrives (the binding looked up,
/// the colo read) and written once the answer is known.
pub struct AnswerMetrics {
    dataset: AnalyticsEngineDataset,
    colo: String,
    notes: Rc<Cell<AnswerNotes>>,
}

impl AnswerMetrics {
    /// `None` without a `METRICS` binding: then nothing more is done.
    pub fn for_request(env: &Env, req: &IncomingRequest) -> Option<Self> {
        let binding = js_sys::Reflect::get(env, &JsValue::from_str(METRICS_BINDING)).ok()?;
        if !binding.is_object() {
            return None;
        }
        Some(AnswerMetrics { dataset: binding.unchecked_into(), colo: colo(req), notes: req.notes() })
    }

    /// For the fast path (`edge::fast_path`), which has the colo from the entry shim
    /// instead of the request, and notes of its own: an eventual check.
    pub fn for_fast_path(env: &Env, colo: Option<String>) -> Option<Self> {
        Self::for_gated(env, colo, CheckKind::Eventual)
    }

    /// For the gated fast path (`edge::fast_gate`): as the fast path's, with the check
    /// the request goes through (none on a public path).
    pub fn for_gated(env: &Env, colo: Option<String>, check: CheckKind) -> Option<Self> {
        let binding = js_sys::Reflect::get(env, &JsValue::from_str(METRICS_BINDING)).ok()?;
        if !binding.is_object() {
            return None;
        }
        let notes = AnswerNotes { check, ..AnswerNotes::default() };
        Some(AnswerMetrics {
            dataset: binding.unchecked_into(),
            colo: colo.unwrap_or_default(),
            notes: Rc::new(Cell::new(notes)),
        })
    }

    /// Notes that this answer scheduled a touch.
    pub fn note_touch(&self) {
        let mut notes = self.notes.get();
        notes.touch_sent = true;
        self.notes.set(notes);
    }

    /// Notes the session the answer is about (the fast path's own notes).
    pub fn note_session(&self, facts: SessionFacts) {
        let mut notes = self.notes.get();
        notes.session = facts;
        self.notes.set(notes);
    }

    /// Writes the data point. `code` is the error code the answer carries, if any. A
    /// failed write changes nothing about the answer.
    pub fn record(&self, route: RouteClass, status: u16, code: Option<ErrorCode>) {
        let notes = self.notes.get();
        let (stale, stale_age) = match notes.stale_hit {
            None => ("", 0),
            Some(Some(age)) => ("stale_hit", age.max(0)),
            Some(None) => ("stale_hit", -1),
        };
        // Every blob but the colo is a fixed word or an error code (an identifier); the
        // colo is escaped by serde_json.
        let mut json = String::with_capacity(192);
        let _ = write!(
            json,
            r#"{{"indexes":["{route}"],"blobs":["{route}","{check}","{outcome}","{code}",{colo},"{stale}","{binding}","{drift}","{acting}"],"doubles":[{status},{touch},{stale_age}]}}"#,
            route = route.as_str(),
            check = notes.check.as_str(),
            outcome = outcome(status),
            code = code.map_or("", ErrorCode::as_str),
            colo = serde_json::Value::String(self.colo.clone()),
            touch = u8::from(notes.touch_sent),
            binding = match (notes.session.found, notes.session.device_bound) {
                (false, _) => "",
                (true, false) => "unbound",
                (true, true) => "bound",
            },
            drift = match notes.session.drift {
                DriftNote::None => "",
                DriftNote::Observed => "observed",
                DriftNote::Strong => "strong",
            },
            acting = if notes.session.impersonation { "impersonation" } else { "" },
        );
        if let Ok(point) = js_sys::JSON::parse(&json) {
            let _ = self.dataset.write_data_point(&point);
        }
    }
}

/// `request.cf.colo`: the Cloudflare location that answered (empty when absent).
fn colo(req: &IncomingRequest) -> String {
    js_sys::Reflect::get(req.inner(), &JsValue::from_str("cf"))
        .ok()
        .filter(JsValue::is_object)
        .and_then(|cf| js_sys::Reflect::get(&cf, &JsValue::from_str("colo")).ok())
        .and_then(|c| c.as_string())
        .unwrap_or_default()
}
