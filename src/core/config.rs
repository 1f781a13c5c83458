//! The worker's settings, parsed from its environment variables (`[vars]`).
//!
//! A value that is present but invalid is an error naming the variable: a typo in a
//! session lifetime must stop the deployment's requests loudly, not fall back to a
//! default nobody chose.

use crate::core::assertion::AssertionConfig;
use crate::core::cookie::is_valid_cookie_name;
use crate::core::device_binding::DeviceBindingConfig;
use crate::core::drift::DriftPolicy;
use crate::core::gate::GateConfig;
use crate::core::origin::AllowedOrigins;
use crate::core::policy::{Policy, LIFETIME_RANGE, MAX_SESSIONS_RANGE};
use crate::core::rotation_retry;
use crate::core::vars::{self, whole_number, ConfigError};
use crate::core::webhook::WebhookConfig;
use crate::core::{UnixSeconds, MAX_LIFETIME_SECS};

pub const DEFAULT_COOKIE_NAME: &str = "__Host-session";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub policy: Policy,
    pub cookie_name: String,
    pub allowed_origins: AllowedOrigins,
    /// Gatekeeper mode: on when `ORIGIN_URL` is set.
    pub gate: Option<GateConfig>,
    /// Webhook delivery of lifecycle events: on when `WEBHOOK_URL` is set.
    pub webhook: Option<WebhookConfig>,
    /// The fleet-wide cut-off: every session authenticated before it is revoked.
    pub sessions_not_before: Option<UnixSeconds>,
    /// Signed session assertions and the key set.
    pub assertions: AssertionConfig,
    /// The `X-Forwarded-Host` the gatekeeper sends: `PUBLIC_HOST`, else the host of an
    /// `http(s)` `ISSUER`. `None`: the host the request reached, which a client chooses
    /// wherever more than one host routes to the worker.
    pub public_host: Option<String>,
    /// How long after a holder rotation the old token may retry it
    /// (`core::rotation_retry`); 0 turns retries off.
    pub rotation_retry_secs: i64,
    /// Device-bound sessions (DBSC): on when `DEVICE_BOUND_SESSIONS=offer`.
    pub device_binding: Option<DeviceBindingConfig>,
    /// What each kind of drift from a session's baseline does (`DRIFT_POLICY`).
    pub drift_policy: DriftPolicy,
}

impl Config {
    /// Whether the fleet-wide cut-off has ended this session.
    pub fn is_cut_off(&self, record: &crate::core::record::SessionRecord) -> bool {
        self.sessions_not_before.is_some_and(|cutoff| record.authenticated_at < cutoff)
    }

    /// The keys bound cookies are checked with, when device-bound sessions are on.
    pub fn binding_keys(&self) -> Option<&crate::core::device_challenge::BindingKeys> {
        self.device_binding.as_ref().map(|d| &d.keys)
    }
}

impl Config {
    /// Reads every setting through `var` (the worker passes its env; tests pass a map).
    /// Unset variables take their defaults; set ones must parse.
    pub fn from_vars(var: impl vars::Vars) -> Result<Config, ConfigError> {
        let defaults = Policy::default();
        let idle = whole_number(&var, "IDLE_TTL_SECS", defaults.idle_timeout_secs, LIFETIME_RANGE)?;
        let absolute = whole_number(&var, "ABSOLUTE_TTL_SECS", defaults.absolute_lifetime_secs, LIFETIME_RANGE)?;
        let touch = whole_number(&var, "TOUCH_INTERVAL_SECS", defaults.touch_interval_secs, 0..=MAX_LIFETIME_SECS)?;
        let max = whole_number(&var, "MAX_SESSIONS_PER_ACCOUNT", defaults.max_sessions, MAX_SESSIONS_RANGE)?;
        let policy = Policy::new(idle, absolute, touch, max)?;

        let cookie_name = match vars::set(&var, "COOKIE_NAME") {
            None => DEFAULT_COOKIE_NAME.to_owned(),
            Some(name) if is_valid_cookie_name(&name) => name,
            Some(_) => {
                return Err(ConfigError::new(
                    "COOKIE_NAME",
                    "must be 1 to 64 cookie-name characters (no spaces or separators)",
                ))
            }
        };

        let allowed_origins = AllowedOrigins::parse(&vars::var(&var, "ALLOWED_ORIGINS").unwrap_or_default())
            .map_err(|reason| ConfigError::new("ALLOWED_ORIGINS", reason))?;

        let gate = GateConfig::from_vars(&var)?;

        let webhook = WebhookConfig::from_vars(&var)?;

        let sessions_not_before = match vars::var(&var, "SESSIONS_NOT_BEFORE") {
            None => None,
            Some(raw) => Some(parse_instant(&raw).ok_or_else(|| {
                ConfigError::new("SESSIONS_NOT_BEFORE", "must be an RFC 3339 time or whole unix seconds")
            })?),
        };

        let forwarded_fallback =
            gate.as_ref().and_then(|g| crate::core::origin::origin_of_url(&g.origin_url)).map(str::to_owned);
        let assertions = AssertionConfig::from_vars(&var, forwarded_fallback.as_deref())?;

        let public_host = match vars::var(&var, "PUBLIC_HOST") {
            Some(host) if crate::core::origin::is_authority(&host) => Some(host.to_ascii_lowercase()),
            Some(_) => {
                return Err(ConfigError::new(
                    "PUBLIC_HOST",
                    "must be host[:port], such as app.example.com: no scheme, path or spaces",
                ))
            }
            None => assertions.issuer.as_deref().and_then(crate::core::origin::authority_of_url).map(str::to_owned),
        };

        let rotation_retry_secs = whole_number(
            &var,
            "ROTATION_RETRY_SECS",
            rotation_retry::DEFAULT_WINDOW_SECS,
            rotation_retry::WINDOW_RANGE,
        )?;

        let device_binding = DeviceBindingConfig::from_vars(&var)?;
        let drift_policy = DriftPolicy::from_vars(&var)?;

        Ok(Config {
            policy,
            cookie_name,
            allowed_origins,
            gate,
            webhook,
            sessions_not_before,
            assertions,
            public_host,
            rotation_retry_secs,
            device_binding,
            drift_policy,
        })
    }
}

/// RFC 3339 or whole unix seconds.
fn parse_instant(raw: &str) -> Option<UnixSeconds> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| (0..=253_402_300_799).contains(n))
        .or_else(|| crate::core::timestamp::parse_rfc3339(raw).map(|t| t.secs))
}
