//! The hot path without the async executor: `GET /v1/session` in two synchronous calls
//! from the entry shim (scripts/shim/worker-shim.js), with the one KV read between them
//! made by the shim. A `future_to_promise`, a microtask per wake and a closure per
//! awaited promise cost more than the validation itself (docs/performance.md); here none
//! of them is paid on the common path.
//!
//! Every decision is made here; the shim only moves bytes. [`plan_request`] answers:
//! - `A` + an encoded answer ([`Answer::encode`]): send it now;
//! - `K` + number + `\n` + binding + `\n` + key: read that key (as an `arrayBuffer`), then call
//!   [`finish_request`] with the number, the text and the request's theft signals
//!   (three headers as lines: `core::drift::ClientSignals::from_lines`);
//! - `G`: a gated request (gatekeeper mode, outside `/v1/`): go on with
//!   `fast_gate::plan_gated`, which plans the forward;
//! - `F`: take the full path (the `fetch` export), as for every other request.
//!
//! [`finish_request`] answers `A` + answer; `C` (call again, with `request.cf`'s lines:
//! this client's signals are not remembered, `core::client_memory`); `T` + number + `\n` + answer when the
//! session's idle touch is due (the shim sends the answer and passes
//! `touch_request(number)` to `waitUntil`); or `F` (the state was dropped: take the full
//! path). If the KV read fails, the shim calls
//! [`abandon_request`] and takes the full path, which reads again and reports it.
//!
//! What the two paths answer is the same by construction: the same credential rule,
//! record reader, session check, touch rule, view and CORS, and the same [`Answer`].
//! tests/e2e/fast-path.test.mjs compares them byte for byte.

use crate::core::client_memory::ClientKey;
use crate::core::config::Config;
use crate::core::credentials::{extract_credential, CredentialSource};
use crate::core::device_binding::DeviceProof;
use crate::core::drift::{Baseline, BaselineDigest, ClientSignals};
use crate::core::pending_ring::PendingRing;
use crate::core::record::SessionRecord;
use crate::core::request_url::RequestUrl;
use crate::core::token::TokenHash;
use crate::core::UnixSeconds;
use crate::edge::answer::Answer;
use crate::edge::auth::{DriftNext, Judged, SessionCheck};
use crate::edge::config::load_config;
use crate::edge::cors::apply_cors_to_answer;
use crate::edge::device_binding::{registration_offer, REGISTRATION_HEADER};
use crate::edge::drift::{digest_read, remembered_match};
use crate::edge::error::ApiError;
use crate::edge::fast_gate;
use crate::edge::metrics::{AnswerMetrics, RouteClass};
use crate::edge::platform;
use crate::edge::request::{DriftNote, SessionFacts};
use crate::edge::routes::public::health_answer;
use crate::edge::session_store::{decode_value, StoreError, SESSIONS_BINDING};
use crate::edge::touch::{send_touch, touch_due, touch_not_sent};
use crate::edge::views::SessionView;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use worker::Env;

/// Requests waiting on their KV read, at most this many per isolate...
const PENDING_CAPACITY: usize = 4096;
/// ...and for at most this long (a KV read takes milliseconds; one that is still
/// outstanding after this was cancelled with its request).
const PENDING_MAX_AGE_SECS: i64 = 30;

/// What a request keeps between the two calls, and until its touch is sent.
struct Pending {
    env: Env,
    config: Rc<Config>,
    hash: TokenHash,
    /// The credential's form, for the device-binding rule, and where it came from.
    device: DeviceProof,
    source: CredentialSource,
    origin: Option<String>,
    /// The answer's data point, when `METRICS` is bound.
    metrics: Option<Rc<AnswerMetrics>>,
    /// Set by `finish_request` when a touch is due.
    touch: Option<SessionRecord>,
}

thread_local! {
    static PENDING: RefCell<PendingRing<Pending>> =
        RefCell::new(PendingRing::starting_at(platform::random_u32(), PENDING_CAPACITY, PENDING_MAX_AGE_SECS));
}

const FULL_PATH: &str = "F";
/// `finish_request` needs `request.cf`'s lines: call it again with them.
pub(crate) const NEEDS_CF: &str = "C";

/// The first call: what to do with a request, from its method, URL and the headers the
/// decision needs.
#[wasm_bindgen]
pub fn plan_request(
    method: &str,
    url: &str,
    cookie: Option<String>,
    authorization: Option<String>,
    origin: Option<String>,
    colo: Option<String>,
    env: Env,
) -> String {
    let parts = RequestUrl::split(url);
    // `GET /v1/health` (any query: the router matches the path alone) is answered here,
    // before anything is read, as the router answers it.
    if method == "GET" && &url[parts.path.clone()] == "/v1/health" {
        let mut text = String::with_capacity(160);
        text.push('A');
        health_answer().encode(&mut text);
        return text;
    }
    // Gatekeeper mode: the gated forward's own plan (`fast_gate`).
    if fast_gate::is_gated_path(&url[parts.path.clone()]) {
        return fast_gate::begin(method, url, cookie, authorization, colo, env);
    }
    // Only a plain validation: any query (consistency, freshness) takes the full path.
    if method != "GET" || &url[parts.path.clone()] != "/v1/session" || parts.query.is_some() {
        return FULL_PATH.to_owned();
    }
    // A configuration error is the full path's to report, as it reports it today.
    let Ok(config) = load_config(&env) else { return FULL_PATH.to_owned() };
    let metrics = AnswerMetrics::for_fast_path(&env, colo).map(Rc::new);
    let (name, keys) = (&config.cookie_name, config.binding_keys());
    let presented = match extract_credential(cookie.as_deref(), authorization.as_deref(), name, keys, platform::now()) {
        Ok(credential) => credential,
        Err(e) => return answer_now(ApiError::from(e), &config, origin.as_deref(), metrics.as_deref()),
    };
    let (hash, device, source) = (presented.hash(), presented.device_proof(), presented.source);
    let key = hash.kv_key();
    let pending = Pending { env, config, hash, device, source, origin, metrics, touch: None };
    match PENDING.with(|ring| ring.borrow_mut().insert(pending, platform::now())) {
        Some(number) => format!("K{number}\n{SESSIONS_BINDING}\n{key}"),
        None => FULL_PATH.to_owned(),
    }
}

/// The second call: the answer, from the KV value the shim read as bytes (`None`: no
/// such key; bytes, not text: one copy into wasm memory instead of a string that the
/// runtime decodes and wasm-bindgen re-encodes character by character)
/// and the request's theft signals, as lines (`ClientSignals::from_lines`): `client`, the
/// three headers, whenever a value was found; `cf`, `request.cf`'s six, only when this
/// call answered [`NEEDS_CF`] first. A client that matched the session's baseline a
/// moment ago is not asked for `request.cf` (`core::client_memory`), which the runtime
/// builds on first access and which costs more than the rest of the validation.
#[wasm_bindgen]
pub fn finish_request(number: u32, value: Option<Vec<u8>>, client: Option<String>, cf: Option<String>) -> String {
    let now = platform::now();
    let read = decode_value(value.as_deref());
    let Some(digest) = observed_digest(&read, client.as_deref(), cf.as_deref(), now) else {
        return NEEDS_CF.to_owned(); // the request stays in the ring for the call with them
    };
    let Some(mut pending) = PENDING.with(|ring| ring.borrow_mut().take(number)) else {
        return FULL_PATH.to_owned();
    };
    let config = Rc::clone(&pending.config);
    // `GET /v1/session`'s check, as the full path states it (`handle_validate`).
    let record =
        match SessionCheck::new().judge_read(&config, &pending.hash, digest.as_ref(), read, now, pending.device) {
            Ok(Judged { record, drift: DriftNext::Settled }) => record,
            // A drift the account's object must see first, or a hold that asks for a strong
            // check: the full path does both.
            Ok(_) => return FULL_PATH.to_owned(),
            Err(denial) => {
                return answer_now(denial.into(), &config, pending.origin.as_deref(), pending.metrics.as_deref())
            }
        };
    let mut answer = Answer::json(200, &SessionView::from(&record));
    apply_cors_to_answer(&mut answer, &config.allowed_origins, pending.origin.as_deref());
    if let Some(offer) = registration_offer(&config, &record, pending.source) {
        answer.set(REGISTRATION_HEADER, &offer);
    }
    let mut text = String::with_capacity(640);
    let metrics = pending.metrics.clone();
    if let Some(metrics) = &metrics {
        metrics.note_session(SessionFacts::of(&record, DriftNote::None));
    }
    if touch_due(&config, &record, &pending.hash, now) {
        pending.touch = Some(record);
        let hash = pending.hash.clone();
        // Kept for `touch_request`. With the ring full the touch is skipped, and the
        // next request asks again.
        let kept = PENDING.with(|ring| ring.borrow_mut().insert(pending, now));
        if kept.is_none() {
            touch_not_sent(&hash);
        }
        if let Some(again) = kept {
            if let Some(metrics) = &metrics {
                metrics.note_touch();
                metrics.record(RouteClass::Validate, 200, None);
            }
            text.push_str(&format!("T{again}\n"));
            answer.encode(&mut text);
            return text;
        }
    }
    if let Some(metrics) = &metrics {
        metrics.record(RouteClass::Validate, 200, None);
    }
    text.push('A');
    answer.encode(&mut text);
    text
}

/// The touch a `T` answer asked for, after the response (`waitUntil`).
#[wasm_bindgen]
pub async fn touch_request(number: u32) {
    let Some(Pending { env, hash, touch: Some(record), .. }) = PENDING.with(|ring| ring.borrow_mut().take(number))
    else {
        return;
    };
    match send_touch(&env, &record, &hash) {
        Ok(touch) => touch.await,
        Err(e) => e.log_if_internal(),
    }
}

/// The shim's KV read failed: forget the request (the full path will read again).
#[wasm_bindgen]
pub fn abandon_request(number: u32) {
    PENDING.with(|ring| ring.borrow_mut().take(number));
}

/// The digest a finish call compares with the session's baseline, from the signals'
/// lines (`client`: the three headers, given whenever KV had a value; `cf`:
/// `request.cf`'s six, given only on the second call). `None`: `request.cf` is needed,
/// since this client did not match the session a moment ago (`core::client_memory`).
/// Shared by `finish_request` and `fast_gate::finish_gated`.
pub(crate) fn observed_digest(
    read: &Result<Option<SessionRecord>, StoreError>,
    client: Option<&str>,
    cf: Option<&str>,
    now: UnixSeconds,
) -> Option<Option<BaselineDigest>> {
    // Nothing to compare without a record (none, or none this build can read: refused).
    let (Ok(Some(record)), Some(headers)) = (read, client) else { return Some(None) };
    let signals = ClientSignals::from_lines(headers, cf);
    let client_key = ClientKey::of(signals.address, signals.user_agent, signals.ch_platform);
    if let Some(digest) = remembered_match(client_key.as_ref(), record.baseline_digest(), now) {
        return Some(Some(digest));
    }
    cf?;
    Some(digest_read(client_key, &Baseline::observe(&signals), now))
}

fn answer_now(error: ApiError, config: &Config, origin: Option<&str>, metrics: Option<&AnswerMetrics>) -> String {
    if let Some(metrics) = metrics {
        metrics.record(RouteClass::Validate, error.status(), Some(error.code()));
    }
    let mut answer = error.into_answer();
    apply_cors_to_answer(&mut answer, &config.allowed_origins, origin);
    let mut text = String::with_capacity(320);
    text.push('A');
    answer.encode(&mut text);
    text
}
