//! Reads the core's `Config` and the admin key from the worker's environment.

use crate::core::admin_key::AdminKeyState;
use crate::core::config::Config;
use crate::edge::http::ApiError;
use worker::Env;

/// The worker's settings. A bad value is a 500 naming the variable (never a silent
/// fallback to the default).
pub fn load_config(env: &Env) -> Result<Config, ApiError> {
    Config::from_vars(|name| env.var(name).ok().map(|v| v.to_string()))
        .map_err(|e| ApiError::new(500, "invalid_config", e.to_string()))
}

/// The `ADMIN_KEY` secret (`.dev.vars` locally, `wrangler secret put` in production).
pub fn admin_key(env: &Env) -> AdminKeyState {
    let secret = env.secret("ADMIN_KEY").or_else(|_| env.var("ADMIN_KEY")).ok().map(|s| s.to_string());
    AdminKeyState::from_secret(secret.as_deref())
}
