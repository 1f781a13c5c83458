//! The Cloudflare Worker layer: parse the request, read the clock, call the core, talk
//! to KV and the account's Durable Object, map errors. No session rule lives here.
//!
//! - `router`: method and path to a handler; `routes/*`: the handlers.
//! - `auth`: who is calling (session holder, admin) and the CSRF check.
//! - `account/*`: the per-account Durable Object, its storage, protocol and client.
//! - `session_store`: the KV namespace. `settings`: configuration from the environment.
//! - `error`, `request`, `response`, `views`, `cors`: HTTP plumbing and bodies.
//! - `assertions`: signed session assertions and the key set.
//! - `webhook`: the queue consumer that delivers events; `webcrypto`: the platform's
//!   HMAC, signatures and digests.
//! - `events`: audit lines. `platform`: the clock and the RNG. `rate_limit`: the
//!   per-session limit on costly calls.

mod account;
mod assertions;
mod auth;
mod cors;
mod error;
mod events;
mod platform;
mod rate_limit;
mod request;
mod response;
mod router;
mod routes;
mod session_store;
mod settings;
mod views;
mod webcrypto;
mod webhook;

use worker::{event, Context, Env, Request, Response, Result};

#[event(fetch)]
pub async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    Ok(router::route(req, env, ctx).await)
}
