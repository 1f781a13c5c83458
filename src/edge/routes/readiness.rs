//! `GET /v1/health/ready`: whether this deployment can serve, as opposed to
//! `GET /v1/health`, which says only that the worker answers (liveness).
//!
//! It loads the configuration and touches each binding the cheapest way that changes
//! nothing: one KV read of a key no session uses, one command to a Durable Object that
//! no account can own, and a look for the queue and rate-limiter bindings. It names what
//! is wrong (a variable, a binding) and never a value of a secret. Public, like the
//! liveness answer: the names of variables and bindings are in the repository anyway
//! (docs/deployment.md says why that is acceptable).

use crate::core::admin_key::AdminKeyState;
use crate::core::error_code::ErrorCode;
use crate::core::token::{SessionToken, TOKEN_RANDOM_BYTES};
use crate::edge::account::client::{AccountClient, ACCOUNTS_BINDING};
use crate::edge::account::EVENTS_BINDING;
use crate::edge::config::{admin_key, load_config};
use crate::edge::error::log_error;
use crate::edge::rate_limit::SESSION_LIMITER_BINDING;
use crate::edge::response::json_response;
use crate::edge::session_store::{probe_read, SESSIONS_BINDING};
use serde::Serialize;
use worker::{Env, Response};

/// The KV key the readiness check reads. Session keys all start with `session:`, so no
/// record is ever stored under it and the read finds nothing.
const PROBE_KEY: &str = "readiness-probe";

/// The report. When not ready it is also an error body (`error` and `message`, as
/// every error of this API), so a client that reads only those still learns why.
#[derive(Serialize)]
struct Readiness {
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ErrorCode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    status: &'static str,
    name: &'static str,
    version: &'static str,
    checks: Vec<Check>,
}

/// One thing checked: a binding, a secret, or the configuration as a whole.
#[derive(Serialize)]
struct Check {
    name: &'static str,
    status: CheckStatus,
    /// Why it failed, or what its absence means. Never a secret's value.
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    /// A failure of the platform (a read or a call that failed), as opposed to one of
    /// the deployment's configuration (a variable, a secret, a binding).
    #[serde(skip)]
    platform: bool,
}

#[derive(Serialize, PartialEq)]
#[serde(rename_all = "snake_case")]
enum CheckStatus {
    Ok,
    /// An optional binding that is not bound: the worker serves without it.
    Absent,
    Failed,
}

impl Check {
    fn ok(name: &'static str) -> Self {
        Check { name, status: CheckStatus::Ok, detail: None, platform: false }
    }
    fn absent(name: &'static str, detail: &str) -> Self {
        Check { name, status: CheckStatus::Absent, detail: Some(detail.to_owned()), platform: false }
    }
    fn failed(name: &'static str, detail: impl Into<String>) -> Self {
        Check { name, status: CheckStatus::Failed, detail: Some(detail.into()), platform: false }
    }
    fn platform_failed(name: &'static str, detail: &str) -> Self {
        Check { platform: true, ..Check::failed(name, detail) }
    }
}

/// 200 when every check passed or is an optional absence, 503 otherwise; the body lists
/// every check either way.
pub async fn ready(env: &Env) -> Response {
    let config = load_config(env);
    let configuration = match &config {
        Ok(_) => Check::ok("configuration"),
        // A ConfigError's message names the variable and, for a plain setting, shows
        // what it got; secrets are never echoed (their parsers say only what is wrong).
        Err(e) => Check::failed("configuration", e.message()),
    };
    let webhooks_configured = config.as_ref().is_ok_and(|c| c.webhook.is_some());
    let (sessions, accounts) = futures_util::future::join(sessions_check(env), accounts_check(env)).await;
    let mut checks = vec![configuration];
    checks.extend(admin_key_checks(env));
    checks.extend([sessions, accounts, events_check(env, webhooks_configured), limiter_check(env)]);
    let failed: Vec<&Check> = checks.iter().filter(|c| c.status == CheckStatus::Failed).collect();
    let ready = failed.is_empty();
    let error = if ready {
        None
    } else if failed.iter().all(|c| c.platform) {
        Some(ErrorCode::InternalError)
    } else {
        Some(ErrorCode::InvalidConfig)
    };
    let message = (!ready).then(|| {
        let named: Vec<String> =
            failed.iter().map(|c| format!("{}: {}", c.name, c.detail.as_deref().unwrap_or("failed"))).collect();
        format!("not ready: {}", named.join("; "))
    });
    let body = Readiness {
        error,
        message,
        status: if ready { "ready" } else { "not_ready" },
        name: env!("CARGO_PKG_NAME"),
        version: env!("CARGO_PKG_VERSION"),
        checks,
    };
    json_response(if ready { 200 } else { 503 }, &body)
}

/// The admin API fails closed without a key, so a deployment without one cannot create
/// a session: not ready. `ADMIN_KEY_PREVIOUS` is listed only while it is set.
fn admin_key_checks(env: &Env) -> Vec<Check> {
    match admin_key(env) {
        AdminKeyState::Configured(keys) if keys.has_previous() => {
            vec![Check::ok("ADMIN_KEY"), Check::ok("ADMIN_KEY_PREVIOUS")]
        }
        AdminKeyState::Configured(_) => vec![Check::ok("ADMIN_KEY")],
        AdminKeyState::NotConfigured => vec![Check::failed("ADMIN_KEY", "not set: the admin API is closed")],
        AdminKeyState::TooShort(name) => vec![Check::failed(name, "must be at least 32 characters")],
    }
}

async fn sessions_check(env: &Env) -> Check {
    let Some(read) = probe_read(env, PROBE_KEY).await else {
        return Check::failed(SESSIONS_BINDING, "no KV namespace is bound under this name");
    };
    match read {
        Ok(()) => Check::ok(SESSIONS_BINDING),
        Err(e) => {
            log_error("error", "readiness: SESSIONS read", &e);
            Check::platform_failed(SESSIONS_BINDING, "the KV read failed (the worker's log has the detail)")
        }
    }
}

/// A strong-validation command for a session that cannot exist, sent to the probe
/// object: it reads the object's empty index and writes nothing.
async fn accounts_check(env: &Env) -> Check {
    if env.durable_object(ACCOUNTS_BINDING).is_err() {
        return Check::failed(ACCOUNTS_BINDING, "no Durable Object namespace is bound under this name");
    }
    let token = SessionToken::from_random_bytes([0; TOKEN_RANDOM_BYTES]);
    let answer = match AccountClient::readiness_probe(env) {
        Ok(client) => client.verify(&token.session_id(), &token.hash()).await,
        Err(e) => Err(e),
    };
    match answer {
        Ok(_) => Check::ok(ACCOUNTS_BINDING),
        Err(e) => {
            e.log_if_internal();
            Check::platform_failed(
                ACCOUNTS_BINDING,
                "the Durable Object did not answer the probe (the worker's log has the detail)",
            )
        }
    }
}

/// Optional: without the queue, events are log lines only. With webhooks configured,
/// though, nothing would ever be sent.
fn events_check(env: &Env, webhooks_configured: bool) -> Check {
    match env.queue(EVENTS_BINDING) {
        Ok(_) => Check::ok(EVENTS_BINDING),
        Err(_) if webhooks_configured => {
            Check::failed(EVENTS_BINDING, "WEBHOOK_URL is set but no queue is bound: no webhook would be sent")
        }
        Err(_) => Check::absent(EVENTS_BINDING, "no queue is bound: events are log lines only"),
    }
}

/// Optional: the limit protects capacity, and the worker serves without it.
fn limiter_check(env: &Env) -> Check {
    match env.rate_limiter(SESSION_LIMITER_BINDING) {
        Ok(_) => Check::ok(SESSION_LIMITER_BINDING),
        Err(_) => Check::absent(SESSION_LIMITER_BINDING, "no rate limiter is bound: costly calls are not limited"),
    }
}
