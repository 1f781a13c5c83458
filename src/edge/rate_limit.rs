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
use worker::Env;

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
    match limiter.limit(session_id.as_str().to_owned()).await {
        Ok(outcome) if outcome.success => Ok(()),
        Ok(_) => Err(ApiError::rate_limited(RETRY_AFTER_SECS)),
        Err(e) => {
            log_error("warn", "rate limiter failed; allowing the call", &e);
            Ok(())
        }
    }
}
