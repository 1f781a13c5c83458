//! The worker's settings, parsed from its environment variables (`[vars]`).
//!
//! A value that is present but invalid is an error naming the variable: a typo in a
//! session lifetime must stop the deployment's requests loudly, not fall back to a
//! default nobody chose.

use crate::core::assertion::AssertionConfig;
use crate::core::cookie::is_valid_cookie_name;
use crate::core::gate::GateConfig;
use crate::core::origin::AllowedOrigins;
use crate::core::policy::Policy;
use crate::core::webhook::WebhookConfig;
use crate::core::UnixSeconds;
use std::fmt;

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
}

impl Config {
    /// Whether the fleet-wide cut-off has ended this session.
    pub fn is_cut_off(&self, record: &crate::core::record::SessionRecord) -> bool {
        self.sessions_not_before.is_some_and(|cutoff| record.authenticated_at < cutoff)
    }
}

/// A variable whose value cannot be used: the one shape of every configuration error in
/// the core, always naming the variable. Carries no secret values: only settings that
/// are plain configuration are ever echoed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub variable: &'static str,
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration: {} {}", self.variable, self.reason)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Reads every setting through `var` (the worker passes its env; tests pass a map).
    /// Unset variables take their defaults; set ones must parse.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let defaults = Policy::default();
        let idle = int_var(&var, "IDLE_TTL_SECS", defaults.idle_timeout_secs)?;
        let absolute = int_var(&var, "ABSOLUTE_TTL_SECS", defaults.absolute_lifetime_secs)?;
        let touch = int_var(&var, "TOUCH_INTERVAL_SECS", defaults.touch_interval_secs)?;
        let max = int_var(&var, "MAX_SESSIONS_PER_ACCOUNT", i64::from(defaults.max_sessions))?;
        let max = u32::try_from(max).map_err(|_| ConfigError {
            variable: "MAX_SESSIONS_PER_ACCOUNT",
            reason: "must be between 1 and 1000".to_owned(),
        })?;
        let policy = Policy::new(idle, absolute, touch, max)?;

        let cookie_name = match var("COOKIE_NAME") {
            None => DEFAULT_COOKIE_NAME.to_owned(),
            Some(name) if is_valid_cookie_name(name.trim()) => name.trim().to_owned(),
            Some(_) => {
                return Err(ConfigError {
                    variable: "COOKIE_NAME",
                    reason: "must be 1 to 64 cookie-name characters (no spaces or separators)".to_owned(),
                })
            }
        };

        let allowed_origins = AllowedOrigins::parse(&var("ALLOWED_ORIGINS").unwrap_or_default())
            .map_err(|reason| ConfigError { variable: "ALLOWED_ORIGINS", reason })?;

        let gate = GateConfig::from_vars(&var)?;

        let webhook = WebhookConfig::from_vars(&var)?;

        let sessions_not_before =
            match var("SESSIONS_NOT_BEFORE").map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) {
                None => None,
                Some(raw) => Some(parse_instant(&raw).ok_or_else(|| ConfigError {
                    variable: "SESSIONS_NOT_BEFORE",
                    reason: "must be an RFC 3339 time or whole unix seconds".to_owned(),
                })?),
            };

        let assertions = AssertionConfig::from_vars(&var)?;

        Ok(Config { policy, cookie_name, allowed_origins, gate, webhook, sessions_not_before, assertions })
    }
}

fn int_var(var: &impl Fn(&str) -> Option<String>, name: &'static str, default: i64) -> Result<i64, ConfigError> {
    match var(name) {
        None => Ok(default),
        Some(raw) => raw.trim().parse::<i64>().map_err(|_| ConfigError {
            variable: name,
            reason: format!("must be a whole number, got {:?}", truncate_for_message(&raw)),
        }),
    }
}

/// RFC 3339 or whole unix seconds.
fn parse_instant(raw: &str) -> Option<UnixSeconds> {
    use time::format_description::well_known::Rfc3339;
    raw.parse::<i64>()
        .ok()
        .filter(|n| (0..=253_402_300_799).contains(n))
        .or_else(|| time::OffsetDateTime::parse(raw, &Rfc3339).ok().map(|t| t.unix_timestamp()))
}

fn truncate_for_message(raw: &str) -> String {
    raw.chars().take(32).collect()
}
