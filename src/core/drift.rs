//! Theft signals: the client a session was first used by (its baseline), the compact
//! digest of it that the KV record carries, and what to do when a request's client
//! looks different (docs/theft-signals.md).
//!
//! The edge compares digests only: a request's [`Baseline`] is built from `request.cf`
//! and two headers, digested, and compared with the record's [`BaselineStamp`], with no
//! I/O. On a mismatch the account's Durable Object, which keeps the full baseline,
//! [`classify`]s the drift and applies [`DriftPolicy`].

use crate::core::user_agent::{BrowserFamily, Platform, UserAgent};
use crate::core::vars::{self, ConfigError};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What the edge read from one request, as the runtime gave it: `request.cf` fields and
/// two headers. Nothing here is stored as it is: [`Baseline::observe`] reduces it.
#[derive(Clone, Copy, Debug, Default)]
pub struct ClientSignals<'a> {
    pub asn: Option<u32>,
    pub country: Option<&'a str>,
    pub tls_ciphers_sha1: Option<&'a str>,
    pub tls_extensions_sha1: Option<&'a str>,
    pub tls_version: Option<&'a str>,
    /// `request.cf.botManagement.ja4` (Bot Management plans only); preferred when present.
    pub ja4: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    /// `Sec-CH-UA-Platform`.
    pub ch_platform: Option<&'a str>,
    /// `CF-Connecting-IP`: never part of the baseline (it is not kept, and changes too
    /// often to compare); it only names the client for `core::client_memory`.
    pub address: Option<&'a str>,
}

impl<'a> ClientSignals<'a> {
    /// The signals as the entry shim passes them to the hot path, in two parts:
    /// `headers`, three lines (`CF-Connecting-IP`, `User-Agent`, `Sec-CH-UA-Platform`),
    /// and `cf`, six lines from `request.cf` (asn, country, the two TLS hashes, the TLS
    /// version, ja4), passed only when the hot path asks for them
    /// (`core::client_memory`). An empty line is a value the request did not have.
    pub fn from_lines(headers: &'a str, cf: Option<&'a str>) -> ClientSignals<'a> {
        fn lines(text: &str) -> impl Iterator<Item = Option<&str>> {
            text.split('\n').map(|p| Some(p).filter(|p| !p.is_empty())).chain(std::iter::repeat(None))
        }
        let mut from_headers = lines(headers);
        let mut header = || from_headers.next().flatten();
        let (address, user_agent, ch_platform) = (header(), header(), header());
        let mut from_cf = lines(cf.unwrap_or(""));
        let mut next = || from_cf.next().flatten();
        ClientSignals {
            asn: next().and_then(|a| a.parse().ok()),
            country: next(),
            tls_ciphers_sha1: next(),
            tls_extensions_sha1: next(),
            tls_version: next(),
            ja4: next(),
            user_agent,
            ch_platform,
            address,
        }
    }
}

/// One client as the signals describe it. A field is `None` when the request carried
/// no evidence for it (no `request.cf`, no `User-Agent`): absence never counts as a
/// change. The TLS fingerprint is kept only as a truncated blake3 hash.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asn: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser: Option<BrowserFamily>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub major: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
}

/// Hex characters kept of a blake3 hash (the TLS fingerprint, the digest): 64 bits tell
/// one client from another; nothing here must resist a search for collisions, since a
/// thief who could choose their signals would simply copy the victim's.
const HASH_HEX_LEN: usize = 16;

/// blake3 of the parts, one after another, as [`HASH_HEX_LEN`] hex characters. The
/// parts are joined first: one `hash` of a short input costs a fraction of a `Hasher`
/// fed piece by piece.
fn short_hash(parts: &[&[u8]]) -> String {
    let mut joined = Vec::with_capacity(parts.iter().map(|p| p.len()).sum());
    for part in parts {
        joined.extend_from_slice(part);
    }
    blake3::hash(&joined).to_hex()[..HASH_HEX_LEN].to_owned()
}

impl Baseline {
    /// The baseline a request's signals describe.
    pub fn observe(signals: &ClientSignals<'_>) -> Baseline {
        let tls = match (signals.ja4, signals.tls_ciphers_sha1, signals.tls_extensions_sha1) {
            (Some(ja4), _, _) if !ja4.is_empty() => Some(short_hash(&[b"ja4:", ja4.as_bytes()])),
            (_, Some(ciphers), Some(extensions)) if !ciphers.is_empty() && !extensions.is_empty() => {
                let version = signals.tls_version.unwrap_or("");
                Some(short_hash(&[b"cf:", ciphers.as_bytes(), b":", extensions.as_bytes(), b":", version.as_bytes()]))
            }
            _ => None,
        };
        let country = signals
            .country
            .filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphanumeric()))
            .map(|c| c.to_ascii_uppercase());
        let mut baseline = Baseline { asn: signals.asn.filter(|&a| a > 0), country, tls, ..Baseline::default() };
        baseline.set_user_agent(signals.user_agent, signals.ch_platform);
        baseline
    }

    /// What a create can know: the user agent the origin passed (`request.cf` at a
    /// create describes the origin's server, never the user). Only what the table
    /// recognises is kept: a user agent the origin shortened or made up is no evidence
    /// against the browser that then uses the session.
    pub fn from_user_agent(user_agent: Option<&str>) -> Baseline {
        let mut baseline = Baseline::default();
        baseline.set_user_agent(user_agent, None);
        if baseline.browser == Some(BrowserFamily::Unknown) {
            baseline.browser = None;
            baseline.major = None;
        }
        if baseline.platform == Some(Platform::Unknown) {
            baseline.platform = None;
        }
        baseline
    }

    fn set_user_agent(&mut self, user_agent: Option<&str>, ch_platform: Option<&str>) {
        if user_agent.is_none() && ch_platform.is_none() {
            return;
        }
        let parsed = UserAgent::parse(user_agent, ch_platform);
        if user_agent.is_some() {
            self.browser = Some(parsed.family);
            self.major = parsed.major;
        }
        self.platform = Some(parsed.platform);
    }

    /// Whether the request carried anything to compare.
    pub fn is_empty(&self) -> bool {
        *self == Baseline::default()
    }

    /// This observation laid over `stored`: what is observed replaces what was, and
    /// what was not observed is kept.
    pub fn over(&self, stored: &Baseline) -> Baseline {
        Baseline {
            asn: self.asn.or(stored.asn),
            country: self.country.clone().or_else(|| stored.country.clone()),
            tls: self.tls.clone().or_else(|| stored.tls.clone()),
            browser: self.browser.or(stored.browser),
            major: if self.browser.is_some() { self.major } else { stored.major },
            platform: self.platform.or(stored.platform),
        }
    }

    /// The compact digest the KV record carries and the edge compares: blake3 over each
    /// field as a tag and its value, a missing one as its tag alone. Pinned by a golden
    /// test: changing it makes every stored session look drifted once.
    pub fn digest(&self) -> BaselineDigest {
        const END: &[u8] = &[0xff]; // never inside UTF-8 text
        let asn = self.asn.map(u32::to_le_bytes);
        let major = self.major.map(u32::to_le_bytes);
        fn field(value: Option<&[u8]>) -> &[u8] {
            value.unwrap_or(&[])
        }
        BaselineDigest(short_hash(&[
            b"baseline v1",
            b"\x01",
            field(asn.as_ref().map(|a| &a[..])),
            END,
            b"\x02",
            field(self.country.as_deref().map(str::as_bytes)),
            END,
            b"\x03",
            field(self.tls.as_deref().map(str::as_bytes)),
            END,
            b"\x04",
            field(self.browser.map(|b| b.name().as_bytes())),
            END,
            b"\x05",
            field(major.as_ref().map(|m| &m[..])),
            END,
            b"\x06",
            field(self.platform.map(|p| p.name().as_bytes())),
            END,
        ]))
    }

    /// "Chrome on Windows", or "Unknown".
    pub fn device_name(&self) -> String {
        UserAgent {
            family: self.browser.unwrap_or(BrowserFamily::Unknown),
            major: self.major,
            platform: self.platform.unwrap_or(Platform::Unknown),
        }
        .device_name()
    }
}

/// A baseline's digest: 16 hex characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BaselineDigest(String);

impl BaselineDigest {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What the session record carries of its baseline (field `baseline`, record v3): the
/// digest the edge compares, the coarse values a listing shows, and a hold the policy
/// placed until the user reauthenticates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineStamp {
    pub digest: BaselineDigest,
    /// "Chrome on Windows": where the listing says the session was last used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold: Option<DriftHold>,
}

impl BaselineStamp {
    pub fn of(baseline: &Baseline, hold: Option<DriftHold>) -> BaselineStamp {
        BaselineStamp {
            digest: baseline.digest(),
            device: baseline.browser.map(|_| baseline.device_name()),
            country: baseline.country.clone(),
            hold,
        }
    }
}

/// What a drift left on the session until the origin reauthenticates it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftHold {
    /// Refused with `reauthentication_required`.
    StepUp,
    /// Every use asks the account's Durable Object (a strong check).
    Strong,
}

/// The kinds of change `DRIFT_POLICY` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftClass {
    /// A new ASN in the same country (a mobile network, a VPN, a new office).
    Asn,
    /// A new country.
    Country,
    /// A new TLS stack with the same user agent: another program replaying the cookie
    /// under a copied user agent.
    Tls,
    /// A new browser family or platform.
    Browser,
}

impl DriftClass {
    pub const ALL: [DriftClass; 4] = [DriftClass::Asn, DriftClass::Country, DriftClass::Tls, DriftClass::Browser];

    pub const fn as_str(self) -> &'static str {
        match self {
            DriftClass::Asn => "asn",
            DriftClass::Country => "country",
            DriftClass::Tls => "tls",
            DriftClass::Browser => "browser",
        }
    }
}

/// Which signals moved between `stored` and `observed`. A signal missing on either side
/// never counts.
///
/// What is not drift, and why:
/// - an ASN change together with a country change is `country` alone;
/// - a browser's version never counts, major included: browsers update themselves every
///   few weeks (Chrome and Firefox raise the major each time), and an update must never
///   escalate. The major version still matters in one way: a TLS fingerprint that
///   changes together with it is the update's new TLS stack, not `tls` drift. `tls`
///   means a new TLS stack under the very same user agent (family, major, platform);
/// - a new browser family or platform is `browser`, and explains any TLS change with it.
pub fn classify(stored: &Baseline, observed: &Baseline) -> Vec<DriftClass> {
    fn differs<T: PartialEq>(a: &Option<T>, b: &Option<T>) -> bool {
        matches!((a, b), (Some(a), Some(b)) if a != b)
    }
    let mut classes = Vec::new();
    let country = differs(&stored.country, &observed.country);
    if !country && differs(&stored.asn, &observed.asn) {
        classes.push(DriftClass::Asn);
    }
    if country {
        classes.push(DriftClass::Country);
    }
    let browser = differs(&stored.browser, &observed.browser) || differs(&stored.platform, &observed.platform);
    let same_user_agent = !browser && !differs(&stored.major, &observed.major);
    if same_user_agent && differs(&stored.tls, &observed.tls) {
        classes.push(DriftClass::Tls);
    }
    if browser {
        classes.push(DriftClass::Browser);
    }
    classes
}

/// What a drift class does, mildest first (the derived order is the severity).
///
/// `strong` sits below `step_up` although the issue lists it after: a strong check lets
/// the user carry on (each request asks the account's Durable Object, so a revocation
/// takes effect at once), while `step_up` stops them until they sign in again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftAction {
    Log,
    Strong,
    StepUp,
    Revoke,
}

impl DriftAction {
    pub const ALL: [DriftAction; 4] = [DriftAction::Log, DriftAction::Strong, DriftAction::StepUp, DriftAction::Revoke];

    pub const fn as_str(self) -> &'static str {
        match self {
            DriftAction::Log => "log",
            DriftAction::Strong => "strong",
            DriftAction::StepUp => "step_up",
            DriftAction::Revoke => "revoke",
        }
    }

    fn parse(raw: &str) -> Option<DriftAction> {
        DriftAction::ALL.into_iter().find(|a| a.as_str() == raw)
    }

    /// One step milder: a device-bound (DBSC) session's cookie is worth little without
    /// the device's key, so each class does one step less to it.
    pub const fn lowered(self) -> DriftAction {
        match self {
            DriftAction::Revoke => DriftAction::StepUp,
            DriftAction::StepUp => DriftAction::Strong,
            DriftAction::Strong | DriftAction::Log => DriftAction::Log,
        }
    }
}

/// `DRIFT_POLICY`: the action for each class. The default is `log` for every class:
/// mobile networks, VPNs and browser updates cause false alarms.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DriftPolicy {
    pub asn: Option<DriftAction>,
    pub country: Option<DriftAction>,
    pub tls: Option<DriftAction>,
    pub browser: Option<DriftAction>,
}

pub const DRIFT_POLICY_VAR: &str = "DRIFT_POLICY";

impl DriftPolicy {
    pub fn from_vars(var: &impl vars::Vars) -> Result<DriftPolicy, ConfigError> {
        match vars::var(var, DRIFT_POLICY_VAR) {
            None => Ok(DriftPolicy::default()),
            Some(raw) => DriftPolicy::parse(&raw).map_err(|reason| ConfigError::new(DRIFT_POLICY_VAR, reason)),
        }
    }

    /// `class=action` pairs, comma-separated (`country=step_up,tls=revoke`). A class
    /// not named logs.
    pub fn parse(raw: &str) -> Result<DriftPolicy, String> {
        let mut policy = DriftPolicy::default();
        if raw.trim().is_empty() {
            return Ok(policy);
        }
        for pair in raw.split(',') {
            let (class, action) = pair.split_once('=').ok_or_else(|| {
                format!("{:?} is not class=action (classes: asn, country, tls, browser)", vars::shown(pair.trim()))
            })?;
            let class = DriftClass::ALL.into_iter().find(|c| c.as_str() == class.trim()).ok_or_else(|| {
                format!("unknown class {:?}: one of asn, country, tls, browser", vars::shown(class.trim()))
            })?;
            let action = DriftAction::parse(action.trim()).ok_or_else(|| {
                format!("unknown action {:?}: one of log, step_up, strong, revoke", vars::shown(action.trim()))
            })?;
            let slot = policy.slot(class);
            if slot.is_some() {
                return Err(format!("{} is given twice", class.as_str()));
            }
            *slot = Some(action);
        }
        Ok(policy)
    }

    fn slot(&mut self, class: DriftClass) -> &mut Option<DriftAction> {
        match class {
            DriftClass::Asn => &mut self.asn,
            DriftClass::Country => &mut self.country,
            DriftClass::Tls => &mut self.tls,
            DriftClass::Browser => &mut self.browser,
        }
    }

    pub fn action(&self, class: DriftClass) -> DriftAction {
        let action = match class {
            DriftClass::Asn => self.asn,
            DriftClass::Country => self.country,
            DriftClass::Tls => self.tls,
            DriftClass::Browser => self.browser,
        };
        action.unwrap_or(DriftAction::Log)
    }

    /// What a drift of these classes does: the strictest of their actions, each lowered
    /// one step for a device-bound session. `None` when nothing moved.
    pub fn decide(&self, classes: &[DriftClass], device_bound: bool) -> Option<DriftAction> {
        classes
            .iter()
            .map(|&class| {
                let action = self.action(class);
                if device_bound {
                    action.lowered()
                } else {
                    action
                }
            })
            .max()
    }
}

/// What the account's Durable Object decided about a request's signals; the edge
/// remembers it per isolate, session and change (`core::drift_memory`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftVerdict {
    /// Used as it is: the first use, a change that is not drift, or one that only logs.
    Accepted,
    /// Used, with a strong check on every request until reauthentication.
    Strong,
    /// Refused until reauthentication.
    StepUp,
    /// The session was ended.
    Revoked,
    /// The object does not have the session under this token (revoked, rotated away or
    /// evicted, while a KV copy lingers): remembered, so such a copy does not send a
    /// request to the object on every use.
    NotFound,
}

/// The `data` of a `session.anomaly` event: which signals moved, and coarse values
/// only (country, ASN, browser family). Never an IP address or a fingerprint hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Anomaly {
    pub signals: Vec<DriftClass>,
    pub action: DriftAction,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<Change<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asn: Option<Change<u32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub browser: Option<Change<String>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change<T> {
    pub from: T,
    pub to: T,
}

impl Anomaly {
    pub fn new(stored: &Baseline, observed: &Baseline, signals: Vec<DriftClass>, action: DriftAction) -> Anomaly {
        fn change<T: Clone + PartialEq>(from: &Option<T>, to: &Option<T>) -> Option<Change<T>> {
            match (from, to) {
                (Some(from), Some(to)) if from != to => Some(Change { from: from.clone(), to: to.clone() }),
                _ => None,
            }
        }
        let browser_name = |b: &Baseline| b.browser.map(|_| b.device_name());
        Anomaly {
            country: change(&stored.country, &observed.country),
            asn: change(&stored.asn, &observed.asn),
            browser: change(&browser_name(stored), &browser_name(observed)),
            signals,
            action,
        }
    }

    pub fn data(&self) -> serde_json::Map<String, serde_json::Value> {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        }
    }
}

impl fmt::Display for DriftAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
