//! Webhook delivery rules, by the Standard Webhooks specification: the settings, the
//! signed content, the signature header and the retry schedule. The HMAC itself is the
//! platform's (WebCrypto), never computed here.

use crate::core::base64::STANDARD;
use crate::core::event::EventType;
use crate::core::vars::{self, ConfigError, Vars};
use std::net::{IpAddr, Ipv6Addr};

/// Prefix of a Standard Webhooks secret: `whsec_` + base64 of the key bytes.
pub const SECRET_PREFIX: &str = "whsec_";

/// Shortest secret accepted, in key bytes (the specification suggests 24 to 64).
pub const SECRET_MIN_BYTES: usize = 16;

pub const DEFAULT_TIMEOUT_MS: u32 = 10_000;
pub const DEFAULT_RETRY_DELAY_SECS: u32 = 10;

/// Longest delay one retry may ask for (Queues accepts up to 12 hours).
pub const MAX_RETRY_DELAY_SECS: u32 = 3600;

/// The HMAC key from `WEBHOOK_SECRET`. `Debug` prints no key.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Vec<u8>);

impl WebhookSecret {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let encoded = raw.trim().strip_prefix(SECRET_PREFIX).ok_or("must start with 'whsec_'")?;
        let key = STANDARD.decode(encoded).map_err(|_| "must be 'whsec_' followed by base64")?;
        if key.len() < SECRET_MIN_BYTES {
            return Err(format!("must hold at least {SECRET_MIN_BYTES} bytes of key"));
        }
        Ok(WebhookSecret(key))
    }

    pub fn key_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookConfig {
    pub url: String,
    pub secret: WebhookSecret,
    /// `WEBHOOK_SECRET_PREVIOUS`: while set, every request is signed with it too, so a
    /// receiver can move to the new secret whenever it likes without failing a retry.
    pub previous_secret: Option<WebhookSecret>,
    pub timeout_ms: u32,
    /// `None`: every type is sent.
    pub events: Option<Vec<EventType>>,
    /// The first retry's delay; each later one doubles it.
    pub retry_delay_secs: u32,
}

impl WebhookConfig {
    /// `None` when `WEBHOOK_URL` is unset or empty: events are then log lines only.
    pub fn from_vars(var: &impl Vars) -> Result<Option<WebhookConfig>, ConfigError> {
        let Some(url) = vars::var(var, "WEBHOOK_URL") else { return Ok(None) };
        if let Some(reason) = url_problem(&url) {
            return Err(ConfigError::new("WEBHOOK_URL", reason));
        }
        let secret = read_secret(var, "WEBHOOK_SECRET")?
            .ok_or_else(|| ConfigError::new("WEBHOOK_SECRET", "must be set when WEBHOOK_URL is"))?;
        let previous_secret = read_secret(var, "WEBHOOK_SECRET_PREVIOUS")?;
        let timeout_ms = vars::whole_number(var, "WEBHOOK_TIMEOUT_MS", DEFAULT_TIMEOUT_MS, 1..=60_000)?;
        let retry_delay_secs =
            vars::whole_number(var, "WEBHOOK_RETRY_DELAY_SECS", DEFAULT_RETRY_DELAY_SECS, 0..=MAX_RETRY_DELAY_SECS)?;
        let types = vars::list(var, "WEBHOOK_EVENTS");
        let events = if types.is_empty() {
            None
        } else {
            let parse = |t: &String| {
                EventType::parse_delivered(t).ok_or_else(|| {
                    ConfigError::new("WEBHOOK_EVENTS", format!("'{}' is not an event type", vars::shown(t)))
                })
            };
            Some(types.iter().map(parse).collect::<Result<Vec<_>, _>>()?)
        };
        Ok(Some(WebhookConfig { url, secret, previous_secret, timeout_ms, events, retry_delay_secs }))
    }

    /// The secrets every request is signed with: `WEBHOOK_SECRET`, then
    /// `WEBHOOK_SECRET_PREVIOUS` while it is set.
    pub fn secrets(&self) -> impl Iterator<Item = &WebhookSecret> {
        std::iter::once(&self.secret).chain(&self.previous_secret)
    }

    /// Whether events of this delivered type (`session.revoked`) are sent.
    pub fn sends(&self, delivered_type: &str) -> bool {
        match &self.events {
            None => true,
            Some(types) => types.iter().any(|t| t.delivered() == delivered_type),
        }
    }

    /// The delay before delivery attempt `attempts + 1`, after `attempts` failed ones:
    /// exponential, capped.
    pub fn retry_delay(&self, attempts: u32) -> u32 {
        let doublings = attempts.saturating_sub(1).min(20);
        self.retry_delay_secs.saturating_mul(1 << doublings).min(MAX_RETRY_DELAY_SECS)
    }
}

/// What the signature covers: `{id}.{timestamp}.{body}`.
pub fn signed_content(id: &str, timestamp: i64, body: &str) -> String {
    format!("{id}.{timestamp}.{body}")
}

/// The `webhook-signature` header for HMAC-SHA256 tags, one per secret: `v1,<base64>`
/// each, separated by spaces. A receiver accepts the request if any one verifies.
pub fn signature_header<T: AsRef<[u8]>>(tags: &[T]) -> String {
    let signatures: Vec<String> = tags.iter().map(|tag| format!("v1,{}", STANDARD.encode(tag))).collect();
    signatures.join(" ")
}

/// A webhook secret variable, parsed; `None` when unset or blank.
fn read_secret(var: &impl Vars, name: &'static str) -> Result<Option<WebhookSecret>, ConfigError> {
    vars::var(var, name)
        .map(|raw| WebhookSecret::parse(&raw).map_err(|reason| ConfigError::new(name, reason)))
        .transpose()
}

/// Why `url` cannot be `WEBHOOK_URL`, if it cannot: it must be `https://…`, or
/// `http://` to a loopback host. The host checked must be the one `fetch`'s URL parser
/// (WHATWG) finds, so whatever that parser reads another way is refused rather than
/// guessed at: userinfo (`http://localhost:1@hooks.example/` goes to hooks.example), a
/// backslash (a path separator to it), whitespace and control characters (it drops
/// them), and hosts or ports of any but the plain forms.
fn url_problem(url: &str) -> Option<&'static str> {
    const SCHEME: &str = "must be an https: URL (http: only on loopback, for local development)";
    let (https, rest) = match (url.strip_prefix("https://"), url.strip_prefix("http://")) {
        (Some(rest), _) => (true, rest),
        (None, Some(rest)) => (false, rest),
        (None, None) => return Some(SCHEME),
    };
    if url.bytes().any(|b| b.is_ascii_whitespace() || b.is_ascii_control() || b == b'\\') {
        return Some("must not contain whitespace, control characters or backslashes");
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Some("must not hold userinfo (a user name or password before '@')");
    }
    let Some(host) = host_of(authority) else {
        return Some(
            "must name a host (letters, digits, '-', '.', '_', or an [IPv6] address) and at most a numeric port",
        );
    };
    let loopback = host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    (!https && !loopback).then_some(SCHEME)
}

/// The host of `host[:port]` or `[ipv6][:port]`, or `None` when the host is empty or not
/// of those plain forms, or the port is not a number up to 65535.
fn host_of(authority: &str) -> Option<&str> {
    let (host, port) = match authority.strip_prefix('[') {
        Some(bracketed) => {
            let (host, after) = bracketed.split_once(']')?;
            host.parse::<Ipv6Addr>().ok()?;
            (host, if after.is_empty() { None } else { Some(after.strip_prefix(':')?) })
        }
        None => {
            let (host, port) = authority.split_once(':').map_or((authority, None), |(h, p)| (h, Some(p)));
            let plain = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_');
            if host.is_empty() || !host.bytes().all(plain) {
                return None;
            }
            (host, port)
        }
    };
    let port_ok = port.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 5
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.parse::<u32>().is_ok_and(|n| n <= 65535)
    });
    port_ok.then_some(host)
}
