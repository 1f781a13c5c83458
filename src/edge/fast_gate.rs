//! The gated forward without the async executor: a request outside `/v1/` in gatekeeper
//! mode, planned in synchronous calls from the entry shim (scripts/shim/worker-shim.js),
//! which then reads KV, copies the request's headers, deletes and sets the ones named
//! here and sends the copy to the origin. The full path (`routes::gatekeeper`) costs a
//! `future_to_promise`, a closure per await, every header copied across one at a time
//! and a `Delay` racing the fetch (docs/performance.md, "The gated fast path").
//!
//! Every decision is made here; the shim only moves bytes. `fast_path::plan_request`
//! answers `G` for a gated request and keeps its method, URL and credential headers
//! here ([`begin`]); the shim then calls [`plan_gated`] with the request's header names
//! (joined by `,`) and the three headers the decision still needs, which answers:
//! - `A` + an encoded answer (`Answer::encode`): a refusal or a login redirect;
//! - `P` + a forward plan: forward now (a public path: no session, no KV read);
//! - `K` + number + `\n` + binding + `\n` + key: read that key as text, then call
//!   [`finish_gated`] with the number, the text and the theft signals (as
//!   `fast_path::finish_request` takes them), which answers `A`, `P` or `F` (if the read
//!   fails, the shim calls [`abandon_gated`] and takes the full path);
//! - `F`: take the full path (the `fetch` export). Everything rare does: a strong check
//!   (every unsafe method, by default), a `FRESH_PATHS` path, signed assertions, an
//!   unsafe method on a public path other than the common ones, a drift the account's
//!   object must see first.
//!
//! A forward plan is lines: the method; the upstream URL; the origin timeout in ms;
//! flags (`n`: `cache: "no-store"`, `b`: send the request's body); the number to pass to
//! [`touch_gated`] in `waitUntil` (empty: no touch due); the data point to pass to
//! [`gated_answered`] and [`gated_failed`] (empty: `METRICS` is not bound); the header
//! names to delete from a copy of the request's headers, joined by `,`; then one
//! `name:value` line per header to set, an empty line, and one `name:value` line per
//! header to append to the origin's answer (the DBSC offer on a page load). Redirects are
//! returned, not followed. No value here can hold a line break: header names are tokens,
//! values are the request's own or this worker's, and URLs are the runtime's serialisation.
//!
//! If the origin cannot be reached or does not answer in time, the shim calls
//! [`gated_failed`], which answers the same 502 (`origin_unreachable` or `origin_timeout`)
//! and log line as the full path. tests/e2e/fast-gate.test.mjs sends a corpus through
//! both paths and compares the answers, what the origin saw and the data points, byte
//! for byte.

use crate::core::config::Config;
use crate::core::credentials::{extract_credential, CredentialSource};
use crate::core::device_binding::DeviceProof;
use crate::core::error_code::ErrorCode;
use crate::core::gate::{gatekeeper_headers, is_html_navigation, ForwardedHeader, GateConfig};
use crate::core::impersonation::ImpersonationAccess;
use crate::core::pending_ring::PendingRing;
use crate::core::record::SessionRecord;
use crate::core::request_url::RequestUrl;
use crate::core::token::TokenHash;
use crate::edge::auth::{Denial, DriftNext, Judged, SessionCheck};
use crate::edge::config::load_config;
use crate::edge::device_binding::{registration_offer, REGISTRATION_HEADER};
use crate::edge::error::{log_error, ApiError};
use crate::edge::fast_path::{observed_digest, NEEDS_CF};
use crate::edge::metrics::{AnswerMetrics, RouteClass};
use crate::edge::platform;
use crate::edge::request::{CheckKind, DriftNote, SessionFacts};
use crate::edge::routes::gatekeeper::{refusal, Refused};
use crate::edge::session_store::{decode_value, SESSIONS_BINDING};
use crate::edge::touch::{send_touch, touch_due, touch_not_sent};
use std::cell::RefCell;
use std::fmt::Write;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use worker::Env;

/// Requests waiting on their KV read and touches waiting for `waitUntil`, at most this
/// many per isolate...
const PENDING_CAPACITY: usize = 4096;
/// ...and for at most this long (a KV read takes milliseconds; one still outstanding after
/// this was cancelled with its request). Nothing waits here for the origin: a forward's
/// data point travels in its plan.
const PENDING_MAX_AGE_SECS: i64 = 30;

const FULL_PATH: &str = "F";

/// What `plan_request` saw, kept for the [`plan_gated`] call that follows it in the same
/// synchronous run of the shim (nothing else can run between the two).
struct Started {
    method: String,
    url: String,
    cookie: Option<String>,
    authorization: Option<String>,
    colo: Option<String>,
    env: Env,
    config: Rc<Config>,
}

/// A gated request that waits on its KV read.
struct Reading {
    started: Started,
    names: String,
    navigation: bool,
    /// A browser's page load (`Sec-Fetch-Dest` absent or `document`): offered DBSC.
    top_level: bool,
    connecting_ip: Option<String>,
    hash: TokenHash,
    device: DeviceProof,
    source: CredentialSource,
    impersonation: ImpersonationAccess,
    metrics: Option<AnswerMetrics>,
}

enum Waiting {
    Read(Box<Reading>),
    /// A due touch, sent from `waitUntil`.
    Touch {
        env: Env,
        hash: TokenHash,
        record: Box<SessionRecord>,
    },
}

thread_local! {
    static STARTED: RefCell<Option<Started>> = const { RefCell::new(None) };
    static PENDING: RefCell<PendingRing<Waiting>> =
        RefCell::new(PendingRing::starting_at(platform::random_u32(), PENDING_CAPACITY, PENDING_MAX_AGE_SECS));
}

/// Whether the router would hand this path to the gatekeeper: everything outside `/v1`
/// and `/v1/…` (as `router::route` splits it).
pub fn is_gated_path(path: &str) -> bool {
    path.split('/').nth(1) != Some("v1")
}

/// Called by `plan_request` for a path outside `/v1/`: `G` when gatekeeper mode is on and
/// the shim should go on with [`plan_gated`], else `F`.
pub fn begin(
    method: &str,
    url: &str,
    cookie: Option<String>,
    authorization: Option<String>,
    colo: Option<String>,
    env: Env,
) -> String {
    // A configuration error is the full path's to report, as it reports it today.
    let Ok(config) = load_config(&env) else { return FULL_PATH.to_owned() };
    if config.gate.is_none() {
        return FULL_PATH.to_owned();
    }
    let started =
        Started { method: method.to_ascii_uppercase(), url: url.to_owned(), cookie, authorization, colo, env, config };
    STARTED.with(|slot| *slot.borrow_mut() = Some(started));
    "G".to_owned()
}

/// Safe methods: no CSRF check, and (unless `STRONG_METHODS` says otherwise) no strong
/// check. Any other method on a gated path takes the full path.
fn is_safe_method(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "OPTIONS")
}

/// Methods forwarded from a public path here. Anything else (WebDAV's, `QUERY`, and the
/// ones the runtime refuses to send) takes the full path, which reports a method the
/// runtime refuses as it always has.
fn is_common_method(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "OPTIONS" | "POST" | "PUT" | "PATCH" | "DELETE")
}

/// The second call: the plan, from the request's header names (as `Headers` iterates
/// them, joined by `,`), `Accept`, `Sec-Fetch-Dest` and `CF-Connecting-IP`.
#[wasm_bindgen]
pub fn plan_gated(
    names: String,
    accept: Option<String>,
    fetch_dest: Option<String>,
    connecting_ip: Option<String>,
) -> String {
    let Some(started) = STARTED.with(|slot| slot.borrow_mut().take()) else { return FULL_PATH.to_owned() };
    let config = Rc::clone(&started.config);
    let Some(gate) = config.gate.as_ref() else { return FULL_PATH.to_owned() };
    let parts = RequestUrl::split(&started.url);
    let path = &started.url[parts.path.clone()];
    let method = started.method.as_str();

    if gate.public_paths.matches(path) {
        if !is_common_method(method) {
            return FULL_PATH.to_owned();
        }
        let metrics = AnswerMetrics::for_gated(&started.env, started.colo.clone(), CheckKind::None);
        let data_point = metrics.map(|_| data_point_line(CheckKind::None, None, false));
        let plan = Forward { gate, started: &started, names: &names, connecting_ip: connecting_ip.as_deref() };
        return plan.encode(None, None, data_point.as_deref(), None);
    }
    if !is_safe_method(method)
        || gate.needs_strong_check(method, path)
        || gate.fresh_paths.requirement(path).is_some()
        || (config.assertions.gateway_audience.is_some() && config.assertions.signer().is_some())
    {
        return FULL_PATH.to_owned();
    }

    let navigation = is_html_navigation(method, accept.as_deref());
    let top_level = navigation && fetch_dest.as_deref().is_none_or(|dest| dest == "document");
    let metrics = AnswerMetrics::for_gated(&started.env, started.colo.clone(), CheckKind::Eventual);
    let (name, keys) = (&config.cookie_name, config.binding_keys());
    let (cookie, authorization) = (started.cookie.as_deref(), started.authorization.as_deref());
    let presented = match extract_credential(cookie, authorization, name, keys, platform::now()) {
        Ok(credential) => credential,
        Err(e) => {
            let denial = Denial::Failed(ApiError::from(e));
            return refuse(denial, gate, &started.url, navigation, metrics.as_ref());
        }
    };
    let (hash, device, source) = (presented.hash(), presented.device_proof(), presented.source);
    let key = hash.kv_key();
    let impersonation = gate.impersonation.access(method, path);
    let reading =
        Reading { started, names, navigation, top_level, connecting_ip, hash, device, source, impersonation, metrics };
    match PENDING.with(|ring| ring.borrow_mut().insert(Waiting::Read(Box::new(reading)), platform::now())) {
        Some(number) => format!("K{number}\n{SESSIONS_BINDING}\n{key}"),
        None => FULL_PATH.to_owned(),
    }
}

/// The third call: the plan once KV was read (`None`: no such key; bytes, as
/// `finish_request` takes them), with the request's theft signals as
/// `fast_path::observed_digest` takes them: `client` always, `cf` only on a second call
/// after this one answered `C` (`fast_path::NEEDS_CF`).
#[wasm_bindgen]
pub fn finish_gated(number: u32, value: Option<Vec<u8>>, client: Option<String>, cf: Option<String>) -> String {
    let now = platform::now();
    let read = decode_value(value.as_deref());
    let Some(digest) = observed_digest(&read, client.as_deref(), cf.as_deref(), now) else {
        return NEEDS_CF.to_owned(); // the request stays in the ring for the call with them
    };
    let Some(Waiting::Read(reading)) = PENDING.with(|ring| ring.borrow_mut().take(number)) else {
        return FULL_PATH.to_owned();
    };
    let reading = *reading;
    let config = Rc::clone(&reading.started.config);
    let Some(gate) = config.gate.as_ref() else { return FULL_PATH.to_owned() };
    // The gated check of a safe method on a path with no strong or fresh rule, as
    // `handle_gated` states it (its CSRF step does nothing for a safe method).
    let check = SessionCheck::new().impersonation(reading.impersonation);
    let metrics = reading.metrics.as_ref();
    let record = match check.judge_read(&config, &reading.hash, digest.as_ref(), read, now, reading.device) {
        Ok(Judged { record, drift: DriftNext::Settled }) => record,
        // A drift the account's object must see first, or a hold that asks for a strong
        // check: the full path does both.
        Ok(_) => return FULL_PATH.to_owned(),
        Err(denial) => return refuse(denial, gate, &reading.started.url, reading.navigation, metrics),
    };
    let mut touch = None;
    if touch_due(&config, &record, &reading.hash, now) {
        let waiting = Waiting::Touch {
            env: reading.started.env.clone(),
            hash: reading.hash.clone(),
            record: Box::new(record.clone()),
        };
        // With the ring full the touch is skipped, and the next request asks again.
        touch = PENDING.with(|ring| ring.borrow_mut().insert(waiting, now));
        if touch.is_none() {
            touch_not_sent(&reading.hash);
        }
    }
    let data_point = metrics.map(|_| data_point_line(CheckKind::Eventual, Some(&record), touch.is_some()));
    // A browser's page load of an unbound session is offered a device key (DBSC), added
    // to the origin's answer.
    let offer = reading.top_level.then(|| registration_offer(&config, &record, reading.source)).flatten();
    let plan = Forward {
        gate,
        started: &reading.started,
        names: &reading.names,
        connecting_ip: reading.connecting_ip.as_deref(),
    };
    plan.encode(Some(&record), touch, data_point.as_deref(), offer.as_deref())
}

/// The shim's KV read failed: forget the request (the full path will read again).
#[wasm_bindgen]
pub fn abandon_gated(number: u32) {
    PENDING.with(|ring| ring.borrow_mut().take(number));
}

/// The touch a forward plan asked for, after the response (`waitUntil`).
#[wasm_bindgen]
pub async fn touch_gated(number: u32) {
    let Some(Waiting::Touch { env, hash, record }) = PENDING.with(|ring| ring.borrow_mut().take(number)) else {
        return;
    };
    match send_touch(&env, &record, &hash) {
        Ok(touch) => touch.await,
        Err(e) => e.log_if_internal(),
    }
}

/// The origin answered a forward whose plan carried a data point (`METRICS` is bound):
/// writes it, with the origin's status and `request.cf.colo`.
#[wasm_bindgen]
pub fn gated_answered(data_point: &str, status: u16, colo: Option<String>, env: Env) {
    if let Some(metrics) = data_point_of(data_point, &env, colo) {
        metrics.record(RouteClass::Gated, status, None);
    }
}

/// The origin could not be reached (`error`: the fetch's rejection) or did not answer
/// within the timeout: the encoded answer, as the full path gives it, and the plan's data
/// point if it carried one.
#[wasm_bindgen]
pub fn gated_failed(
    data_point: Option<String>,
    timed_out: bool,
    error: JsValue,
    colo: Option<String>,
    env: Env,
) -> String {
    let failure = if timed_out {
        ApiError::new(ErrorCode::OriginTimeout)
    } else {
        log_error("error", "gatekeeper: origin unreachable", &worker::Error::from(error));
        ApiError::new(ErrorCode::OriginUnreachable)
    };
    if let Some(metrics) = data_point.and_then(|line| data_point_of(&line, &env, colo)) {
        metrics.record(RouteClass::Gated, failure.status(), Some(failure.code()));
    }
    let mut text = String::from("A");
    failure.into_answer().encode(&mut text);
    text
}

/// A forward's data point as its plan carries it to [`gated_answered`] or [`gated_failed`],
/// so nothing waits here for the origin: one digit each for an eventual check (else
/// none, a public path), a touch sent, a session found, device-bound, an impersonation.
fn data_point_line(check: CheckKind, record: Option<&SessionRecord>, touch_sent: bool) -> String {
    let facts = record.map(|r| SessionFacts::of(r, DriftNote::None)).unwrap_or_default();
    let digits = [check == CheckKind::Eventual, touch_sent, facts.found, facts.device_bound, facts.impersonation];
    digits.iter().map(|&on| if on { '1' } else { '0' }).collect()
}

/// The data point a [`data_point_line`] describes, ready to record (`None` without
/// `METRICS`).
fn data_point_of(line: &str, env: &Env, colo: Option<String>) -> Option<AnswerMetrics> {
    let on = |i: usize| line.as_bytes().get(i) == Some(&b'1');
    let check = if on(0) { CheckKind::Eventual } else { CheckKind::None };
    let metrics = AnswerMetrics::for_gated(env, colo, check)?;
    if on(2) {
        let facts = SessionFacts { found: true, device_bound: on(3), impersonation: on(4), drift: DriftNote::None };
        metrics.note_session(facts);
    }
    if on(1) {
        metrics.note_touch();
    }
    Some(metrics)
}

/// A refused gated request's answer, and its data point.
fn refuse(denial: Denial, gate: &GateConfig, url: &str, navigation: bool, metrics: Option<&AnswerMetrics>) -> String {
    let parts = RequestUrl::split(url);
    let origin = format!("{}://{}", &url[parts.scheme.clone()], &url[parts.authority.clone()]);
    let request = Refused {
        navigation,
        path: &url[parts.path.clone()],
        query: parts.query.clone().map(|q| &url[q]),
        origin: &origin,
        freshness: None,
    };
    let (answer, code) = match refusal(denial, gate, &request) {
        Ok(answer) => (answer, None),
        Err(e) => {
            let code = e.code();
            (e.into_answer(), Some(code))
        }
    };
    if let Some(metrics) = metrics {
        metrics.record(RouteClass::Gated, answer.status, code);
    }
    let mut text = String::with_capacity(320);
    text.push('A');
    answer.encode(&mut text);
    text
}

/// What a forward plan is built from.
struct Forward<'a> {
    gate: &'a GateConfig,
    started: &'a Started,
    names: &'a str,
    connecting_ip: Option<&'a str>,
}

impl Forward<'_> {
    /// The plan's text (the module's comment gives its lines).
    fn encode(
        &self,
        identity: Option<&SessionRecord>,
        touch: Option<u32>,
        data_point: Option<&str>,
        offer: Option<&str>,
    ) -> String {
        let Started { method, url, cookie, authorization, config, .. } = self.started;
        let parts = RequestUrl::split(url);
        let path = &url[parts.path.clone()];
        let query = parts.query.clone().map(|q| &url[q]);
        let upstream = self.gate.upstream_url(path, query);
        let mut text = String::with_capacity(512);
        let _ = writeln!(text, "P{method}");
        text.push_str(&upstream);
        let _ = writeln!(text, "\n{}", self.gate.origin_timeout_ms);
        if identity.is_some() {
            // Per user: no cache may answer it.
            text.push('n');
        }
        if !matches!(method.as_str(), "GET" | "HEAD") {
            text.push('b');
        }
        text.push('\n');
        if let Some(n) = touch {
            let _ = write!(text, "{n}");
        }
        text.push('\n');
        if let Some(line) = data_point {
            text.push_str(line);
        }
        text.push('\n');
        let mut set: Vec<(&str, String)> = Vec::with_capacity(8);
        let mut first = true;
        for name in self.names.split(',').filter(|n| !n.is_empty()) {
            let value = if name.eq_ignore_ascii_case("cookie") {
                cookie.as_deref()
            } else if name.eq_ignore_ascii_case("authorization") {
                authorization.as_deref()
            } else {
                None
            };
            match self.gate.forwarded_header(&config.cookie_name, name, value) {
                ForwardedHeader::Unchanged => continue,
                ForwardedHeader::Rewritten(rest) => {
                    set.push(("Cookie", rest));
                    continue;
                }
                ForwardedHeader::Removed => {}
            }
            if !first {
                text.push(',');
            }
            first = false;
            text.push_str(name);
        }
        text.push('\n');
        let host = config.public_host.as_deref().unwrap_or(&url[parts.authority.clone()]);
        let scheme = &url[parts.scheme.clone()];
        set.extend(gatekeeper_headers(identity.map(|record| (record, None)), host, scheme, self.connecting_ip));
        // The shim reads the plan a line at a time and a header at its first colon, so a
        // value holding a line break would read as more headers. workerd never hands one
        // over (header values and serialised URLs cannot hold CR or LF); should that ever
        // change, such a request takes the full path, whose `Headers` refuses it.
        let breaks = |s: &str| s.bytes().any(|b| b == b'\n' || b == b'\r');
        if breaks(&upstream) || breaks(method) || set.iter().any(|(_, v)| breaks(v)) || offer.is_some_and(breaks) {
            return FULL_PATH.to_owned();
        }
        for (name, value) in &set {
            let _ = writeln!(text, "{name}:{value}");
        }
        text.push('\n');
        if let Some(offer) = offer {
            let _ = writeln!(text, "{REGISTRATION_HEADER}:{offer}");
        }
        text
    }
}
