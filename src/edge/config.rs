//! Reads the core's `Config` and the admin key from the worker's environment.

use crate::core::admin_key::AdminKeyState;
use crate::core::config::Config;
use crate::core::vars::ConfigError;
use crate::edge::error::{log_error, ApiError};
use std::cell::RefCell;
use std::rc::Rc;
use worker::Env;

thread_local! {
    /// Parsed once per isolate: vars are fixed for a deployment's lifetime, and reading
    /// a dozen of them across the JS boundary on every request is measurable on the
    /// validation path. An invalid configuration is remembered too, and keeps failing.
    static CONFIG: RefCell<Option<Result<Rc<Config>, ConfigError>>> = const { RefCell::new(None) };
}

/// The worker's settings. A bad value is a 500 naming the variable (never a silent
/// fallback to the default).
pub fn load_config(env: &Env) -> Result<Rc<Config>, ApiError> {
    let parsed = CONFIG.with(|cell| {
        cell.borrow_mut()
            .get_or_insert_with(|| {
                let parsed = Config::from_vars(|name| env.var(name).ok().map(|v| v.to_string()));
                if let Ok(config) = &parsed {
                    // Once per isolate, like the parse itself.
                    for warning in config.policy.warnings() {
                        log_error("warn", "configuration", &warning);
                    }
                }
                parsed.map(Rc::new)
            })
            .clone()
    });
    parsed.map_err(ApiError::from)
}

/// The `ADMIN_KEY` and `ADMIN_KEY_PREVIOUS` secrets (`.dev.vars` locally, `wrangler
/// secret put` in production).
pub fn admin_key(env: &Env) -> AdminKeyState {
    let secret = |name| env.secret(name).or_else(|_| env.var(name)).ok().map(|s| s.to_string());
    AdminKeyState::from_secrets(secret("ADMIN_KEY").as_deref(), secret("ADMIN_KEY_PREVIOUS").as_deref())
}
