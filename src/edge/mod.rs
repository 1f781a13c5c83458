//! The Cloudflare Worker layer: parse the request, read the clock, call the core, talk
//! to KV and the account's Durable Object, map errors. No session rule lives here.

mod account_client;
mod account_object;
mod account_protocol;
mod account_routes;
mod admin_routes;
mod cors;
mod events;
mod gatekeeper;
mod http;
mod platform;
mod router;
mod session_routes;
mod session_store;
mod settings;

use worker::{event, Context, Env, Request, Response, Result};

#[event(fetch)]
pub async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    Ok(router::route(req, env, ctx).await)
}
