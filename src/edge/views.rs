//! Response bodies that more than one route sends. Each is built from a core record or a
//! storage type, so renaming a stored field never changes what clients see. None holds a
//! token or a token hash.

use crate::core::claims::SessionClaims;
use crate::core::impersonation::{Act, Impersonation};
use crate::core::record::SessionRecord;
use crate::core::timestamp::rfc3339;
use crate::core::user_agent::UserAgent;
use crate::core::UnixSeconds;
use serde::Serialize;

/// A session as `GET /v1/session` and refresh describe it.
#[derive(Serialize)]
pub struct SessionView<'a> {
    pub account_id: &'a str,
    pub session_id: &'a str,
    pub created_at: String,
    /// The idle deadline: the session ends here unless it is used.
    pub expires_at: String,
    pub absolute_expires_at: String,
    /// When the user last proved who they are.
    pub authenticated_at: String,
    pub aal: u8,
    pub amr: &'a [String],
    /// The origin's claims (`{}` when none).
    pub claims: &'a SessionClaims,
    /// Bound to a device key (DBSC): used only with its short-lived bound cookie.
    pub device_bound: bool,
    /// RFC 8693 actor, on an impersonation session: who is acting as the user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub act: Option<Act<'a>>,
}

impl<'a> From<&'a SessionRecord> for SessionView<'a> {
    fn from(r: &'a SessionRecord) -> Self {
        SessionView {
            account_id: r.account_id.as_str(),
            session_id: r.session_id.as_str(),
            created_at: rfc3339(r.created_at),
            expires_at: rfc3339(r.idle_expires_at),
            absolute_expires_at: rfc3339(r.absolute_expires_at),
            authenticated_at: rfc3339(r.authenticated_at),
            aal: r.aal,
            amr: &r.amr,
            claims: &r.claims,
            device_bound: r.device_binding.is_some(),
            act: r.impersonation.as_ref().map(Impersonation::act),
        }
    }
}

/// A token handed out after creation (rotation, reauthentication), with its session.
/// The only bodies besides the create response that carry a token.
#[derive(Serialize)]
pub struct IssuedToken<'a> {
    /// The plaintext token: returned here once and never again.
    pub token: &'a str,
    #[serde(flatten)]
    pub session: SessionView<'a>,
    /// With device binding on, a `Secure-Session-Registration` value for an unbound
    /// session: the origin may send it with its login answer to start the binding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_binding_registration: Option<String>,
}

/// One session in an account's listing (the holder's or the admin's).
#[derive(Serialize)]
pub struct ListedSession<'a> {
    pub session_id: &'a str,
    pub created_at: String,
    pub last_seen_at: String,
    pub expires_at: String,
    pub absolute_expires_at: String,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub label: Option<&'a str>,
    pub authenticated_at: String,
    pub aal: u8,
    pub amr: &'a [String],
    pub claims: &'a SessionClaims,
    pub device_bound: bool,
    /// Where and on what it was last used, as its baseline says ("Chrome on Windows",
    /// `DE`); before its first use, the device its user agent names, and no country.
    pub device: String,
    pub country: Option<&'a str>,
    /// Whether this is the caller's own session; only in the holder's listing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<bool>,
}

impl<'a> ListedSession<'a> {
    pub fn new(r: &'a SessionRecord, current: Option<bool>) -> Self {
        ListedSession {
            session_id: r.session_id.as_str(),
            created_at: rfc3339(r.created_at),
            last_seen_at: rfc3339(r.last_seen_at),
            expires_at: rfc3339(r.idle_expires_at),
            absolute_expires_at: rfc3339(r.absolute_expires_at),
            ip: r.meta.ip.as_deref(),
            user_agent: r.meta.user_agent.as_deref(),
            label: r.meta.label.as_deref(),
            authenticated_at: rfc3339(r.authenticated_at),
            aal: r.aal,
            amr: &r.amr,
            claims: &r.claims,
            device_bound: r.device_binding.is_some(),
            device: listed_device(r),
            country: r.baseline.as_ref().and_then(|b| b.country.as_deref()),
            current,
        }
    }
}

fn listed_device(r: &SessionRecord) -> String {
    match r.baseline.as_ref().and_then(|b| b.device.clone()) {
        Some(device) => device,
        None => UserAgent::parse(r.meta.user_agent.as_deref(), None).device_name(),
    }
}

#[derive(Serialize)]
pub struct Listing<'a> {
    pub sessions: Vec<ListedSession<'a>>,
}

/// An impersonation session, as the user and the admin see it: apart from the user's
/// devices.
#[derive(Serialize)]
pub struct ListedImpersonation<'a> {
    pub account_id: &'a str,
    pub session_id: &'a str,
    pub actor: &'a str,
    pub reason: &'a str,
    /// "support@example.com (ticket 4521) signed in as you".
    pub notice: String,
    pub act: Act<'a>,
    pub started_at: String,
    pub last_seen_at: String,
    /// Its cap: no use, refresh or reauthentication moves it.
    pub expires_at: String,
}

impl<'a> ListedImpersonation<'a> {
    /// `None` for the user's own sessions.
    pub fn of(r: &'a SessionRecord) -> Option<Self> {
        let imp = r.impersonation.as_ref()?;
        Some(ListedImpersonation {
            account_id: r.account_id.as_str(),
            session_id: r.session_id.as_str(),
            actor: &imp.actor,
            reason: &imp.reason,
            notice: imp.notice(),
            act: imp.act(),
            started_at: rfc3339(imp.started_at),
            last_seen_at: rfc3339(r.last_seen_at),
            expires_at: rfc3339(r.absolute_expires_at.min(r.idle_expires_at)),
        })
    }
}

/// The holder's listing: their devices, and apart from them whoever is signed in as them.
#[derive(Serialize)]
pub struct HolderListing<'a> {
    pub sessions: Vec<ListedSession<'a>>,
    pub impersonations: Vec<ListedImpersonation<'a>>,
}

#[derive(Serialize)]
pub struct ImpersonationListing<'a> {
    pub impersonations: Vec<ListedImpersonation<'a>>,
}

/// An impersonation found by actor across accounts, from KV key metadata.
#[derive(Serialize)]
pub struct FleetImpersonation<'a> {
    pub account_id: &'a str,
    pub session_id: &'a str,
    pub actor: &'a str,
    pub expires_at: String,
}

#[derive(Serialize)]
pub struct FleetImpersonationListing<'a> {
    pub impersonations: Vec<FleetImpersonation<'a>>,
    /// `false` when the namespace was too large to scan in one request.
    pub complete: bool,
}

#[derive(Serialize)]
pub struct EndedCount {
    pub ended: u32,
}

#[derive(Serialize)]
pub struct RevokedCount {
    pub revoked: u32,
}

/// One session in the fleet-wide listing, read from KV key metadata. Deadlines are unix
/// seconds there, as they always have been on this endpoint.
#[derive(Serialize)]
pub struct FleetSession<'a> {
    pub account_id: &'a str,
    pub session_id: &'a str,
    pub expires_at: UnixSeconds,
    pub absolute_expires_at: UnixSeconds,
}

#[derive(Serialize)]
pub struct FleetListing<'a> {
    pub sessions: Vec<FleetSession<'a>>,
    /// Pass back as `?cursor=` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

#[derive(Serialize)]
pub struct UpdatedCount {
    pub updated: u32,
}

/// `GET /v1/session/token`: a signed assertion for the caller's own APIs.
#[derive(Serialize)]
pub struct AssertionToken {
    pub token: String,
    pub expires_at: String,
}
