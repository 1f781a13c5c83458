//! The Cloudflare Worker layer: parse the request, read the clock, call the core, talk
//! to KV and the account's Durable Object, map errors. No session rule lives here.
//!
//! - `router`: method and path to a handler; `routes/*`: the handlers.
//! - `auth`: who is calling: the one `SessionCheck` for session holders, and the admin.
//! - `touch`: the idle extension that use schedules after the response.
//! - `account/*`: the per-account Durable Object, its storage, protocol and client.
//! - `session_store`: the KV namespace. `config`: configuration from the environment.
//! - `error`, `request`, `response`, `views`, `cors`: HTTP plumbing and bodies.
//! - `assertion`: signed session assertions and the key set.
//! - `webhook`: the queue consumer that delivers events; `event_seal`: the seal that
//!   proves a queue message came from this worker's outbox; `webcrypto`: the platform's
//!   HMAC, signatures and digests; `fetch`: outbound requests with a deadline.
//! - `metrics`: one Analytics Engine data point per answer (optional `METRICS`).
//! - `fast_path`: `GET /v1/session` in two synchronous calls from the entry shim;
//!   `fast_gate`: the gated forward the same way; `answer`: a response as data, which
//!   both paths build.
//! - `platform`: the clock and the RNG. `rate_limit`: the per-session limit on costly
//!   calls.

mod account;
mod answer;
mod assertion;
mod auth;
mod client_signals;
mod config;
mod cors;
mod device_binding;
mod drift;
mod error;
mod event_seal;
mod fast_gate;
mod fast_path;
mod fetch;
mod metrics;
mod platform;
mod rate_limit;
mod request;
mod response;
mod router;
mod routes;
mod session_store;
mod touch;
mod views;
mod webcrypto;
mod webhook;

use crate::edge::request::IncomingRequest;
use wasm_bindgen::prelude::*;
use worker::web_sys;
use worker::{worker_sys, Context, Env};

/// The fetch handler, exported by hand rather than with `#[event(fetch)]`: the macro
/// converts the runtime's request into workers-rs's `Request`, which reads
/// `request.cf` on every request (see `request::IncomingRequest`). The entry shim
/// (scripts/shim/worker-shim.js) calls this export.
#[wasm_bindgen]
pub async fn fetch(req: web_sys::Request, env: Env, ctx: worker_sys::Context) -> Result<JsValue, JsValue> {
    let response = router::route(IncomingRequest::new(req), env, Context::new(ctx)).await;
    Ok(web_sys::Response::from(response).into())
}

/// The queue handler for `EVENTS`: delivers lifecycle events to the webhook receiver
/// (`webhook.rs`). The entry shim calls this export too.
#[wasm_bindgen]
pub async fn queue(batch: JsValue, env: Env, _ctx: JsValue) -> Result<JsValue, JsValue> {
    webhook::consume(batch, env).await
}
