//! A per-session limit on the calls that cost more than a KV read: an explicit refresh
//! (a Durable Object request and maybe a KV write), strong validation and the listing
//! (a Durable Object request each). Cloudflare's rate-limiting binding
//! (`[[ratelimits]]` in wrangler.toml) counts them per session id, at each location.
//!
//! The limit protects capacity, not authentication, so it fails open: without the
//! binding, or when the binding itself errors, the call proceeds (and the error is
//! logged; a missing binding once per isolate, so the log says so without flooding).

use crate::core::token::SessionId;
use crate::edge::error::{log_error, ApiError};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use worker::Env;

#[wasm_bindgen]
extern "C" {
    /// The binding, called directly: workers-rs's `RateLimiter::limit` converts the
    /// options and the outcome with serde-wasm-bindgen (docs/performance.md, "Size").
    type Limiter;

    #[wasm_bindgen(method, catch, js_name = limit)]
    fn limit(this: &Limiter, options: &js_sys::Object) -> Result<js_sys::Promise, JsValue>;
}

/// `limit({ key })`: whether the call is within the limit (`success`, which must be a
/// boolean, as workers-rs's typed outcome required).
async fn within_limit(limiter: &Limiter, key: &str) -> Result<bool, worker::Error> {
    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &"key".into(), &JsValue::from_str(key))?;
    let outcome = JsFuture::from(limiter.limit(&options)?).await?;
    js_sys::Reflect::get(&outcome, &"success".into())?
        .as_bool()
        .ok_or_else(|| worker::Error::RustError("the rate limiter's outcome has no boolean success".into()))
}

pub const SESSION_LIMITER_BINDING: &str = "SESSION_LIMITER";

/// `Retry-After` for a refused call: the binding's period (wrangler.toml sets 60 s; the
/// only other period the platform offers is 10 s, so this is never too short).
const RETRY_AFTER_SECS: u32 = 60;

thread_local! {
    /// Whether this isolate has said that the binding is missing.
    static MISSING_LOGGED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Counts one costly call for `session_id`; refuses it with 429 once the session is
/// over its limit.
pub async fn limit_session(env: &Env, session_id: &SessionId) -> Result<(), ApiError> {
    let Ok(limiter) = env.rate_limiter(SESSION_LIMITER_BINDING) else {
        if !MISSING_LOGGED.replace(true) {
            log_error("warn", "no SESSION_LIMITER binding: costly calls are not rate limited", &"see wrangler.toml");
        }
        return Ok(());
    };
    let limiter: Limiter = JsValue::from(limiter).unchecked_into();
    match within_limit(&limiter, session_id.as_str()).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(ApiError::rate_limited(RETRY_AFTER_SECS)),
        Err(e) => {
            log_error("warn", "rate limiter failed; allowing the call", &e);
            Ok(())
        }
    }
}
