//! The one answer to "may this session be used for this request, at `now`?".
//!
//! Every path that lets a session act (the hot path, strong validation, the gatekeeper,
//! and the account's Durable Object for its own commands) asks [`check`], and a refusal
//! is always a [`Refusal`]. A new requirement (a device proof, a drift policy, an
//! impersonation rule) is then one field of [`Requirement`] and one variant of
//! `Refusal`, and reaches every path at once.

use crate::core::config::Config;
use crate::core::device_binding::{self, BindingRefusal, DeviceProof};
use crate::core::drift::{BaselineDigest, DriftHold};
use crate::core::impersonation::{self, ImpersonationAccess};
use crate::core::policy::Validity;
use crate::core::record::SessionRecord;
use crate::core::step_up::{Freshness, NotFresh};
use crate::core::{UnixMillis, UnixSeconds};

/// Why a session may not be used. The worker maps each to one API error
/// (`From<Refusal> for ApiError`, in `edge/error.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not used within its idle window.
    ExpiredIdle,
    /// Past its absolute lifetime; no use or refresh moves this deadline.
    ExpiredAbsolute,
    /// Authenticated before `SESSIONS_NOT_BEFORE`, the fleet-wide cut-off.
    CutOff,
    /// A session about to be opened whose login predates a fence: the account's last
    /// revoke-all ("log out everywhere", a password change) or the fleet-wide cut-off.
    /// The credentials were checked before the user asked to end every session.
    Fenced,
    /// The last authentication is older or weaker than this request asks.
    NotFresh { authenticated_at: UnixSeconds, aal: u8, failed: NotFresh },
    /// A device-bound session presented without its bound cookie, or with one for another
    /// key (`core::device_binding::check_proof`).
    DeviceBinding(BindingRefusal),
    /// An impersonation session asking for what it may not do: a method or path the
    /// gatekeeper's impersonation rules refuse, or the account's session-control API.
    ImpersonationForbidden,
    /// A drift from the session's baseline placed a step-up hold on it
    /// (`DRIFT_POLICY` `step_up`): refused until the origin reauthenticates it.
    DriftStepUp,
    /// A drift placed a strong hold on it (`strong`): usable only on a check that
    /// reads the account's index. The edge then makes the check strong.
    DriftStrong,
    /// This request's client differs from the session's baseline (or the session has
    /// none yet): the account's Durable Object must classify it before the session is
    /// used. Reported only once every other rule has passed.
    Unclassified,
}

/// Which copy of the record is being judged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RecordRole {
    /// The record that decides: the account's index, or KV on the eventual path.
    #[default]
    Deciding,
    /// A KV copy that only locates the session before the account's index is asked: its
    /// idle deadline may lag a touch, so only the deadlines no touch moves count.
    Locating,
    /// A session about to be created, not yet used.
    Opening {
        /// When the account last revoked all its sessions.
        revoked_all_at: Option<UnixMillis>,
        /// When the origin checked the credentials (`step_up::AuthenticatedAt::millis`).
        authenticated_at: UnixMillis,
    },
}

/// What a use of a session needs beyond being alive.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Requirement {
    pub role: RecordRole,
    /// A recent or strong enough authentication (step-up). Not required by default.
    pub freshness: Freshness,
    /// The form of credential presented, for a device-bound session's anti-downgrade
    /// rule. Not asked by default: the edge states it from the request's credential.
    pub device: DeviceProof,
    /// Whether an impersonation session may be used for this. Allowed by default.
    pub impersonation: ImpersonationAccess,
    /// Theft signals (`core::drift`).
    pub drift: DriftRule,
}

/// How a check treats the session's baseline.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum DriftRule {
    /// No client request to compare (the account's own commands): a step-up hold still
    /// refuses; a strong hold is met, since the account's object is asking.
    #[default]
    HoldsOnly,
    /// A client's request: its signals' digest (`None`: it carried none) is compared
    /// with the baseline. `strong`: this check reads the account's index.
    Compare { observed: Option<BaselineDigest>, strong: bool },
    /// Not about using the session: a reauthentication (which lifts any hold and
    /// renews the baseline), a listing, a claims update.
    Ignored,
}

impl Requirement {
    /// Alive, nothing more.
    pub fn live() -> Self {
        Requirement::default()
    }

    /// Only the absolute deadline and the cut-off: for a KV copy about to be checked
    /// against the account's index.
    pub fn locating() -> Self {
        Requirement { role: RecordRole::Locating, ..Requirement::default() }
    }

    /// A new session whose credentials were checked at `authenticated_at`: refused when
    /// that predates a fence.
    pub fn opening(revoked_all_at: Option<UnixMillis>, authenticated_at: UnixMillis) -> Self {
        Requirement { role: RecordRole::Opening { revoked_all_at, authenticated_at }, ..Requirement::default() }
    }

    pub fn fresh(self, freshness: Freshness) -> Self {
        Requirement { freshness, ..self }
    }

    pub fn presented(self, device: DeviceProof) -> Self {
        Requirement { device, ..self }
    }

    pub fn impersonation(self, impersonation: ImpersonationAccess) -> Self {
        Requirement { impersonation, ..self }
    }

    pub fn drift(self, drift: DriftRule) -> Self {
        Requirement { drift, ..self }
    }
}

/// Whether `record` may be used at `now` for `requirement`. The order is the order of
/// severity: a session that is gone for good is reported as such, before anything a
/// reauthentication could fix.
pub fn check(
    config: &Config,
    record: &SessionRecord,
    requirement: &Requirement,
    now: UnixSeconds,
) -> Result<(), Refusal> {
    let cut_off = config.is_cut_off(record);
    if let RecordRole::Opening { revoked_all_at, authenticated_at } = requirement.role {
        // Strictly before, in milliseconds (a whole-second login time counts as the end
        // of its second: `AuthenticatedAt::whole_second`).
        if cut_off || revoked_all_at.is_some_and(|at| authenticated_at < at) {
            return Err(Refusal::Fenced);
        }
    } else if cut_off {
        return Err(Refusal::CutOff);
    }
    match config.policy.check(record, now) {
        Validity::Valid => {}
        Validity::ExpiredAbsolute => return Err(Refusal::ExpiredAbsolute),
        // A locating copy may lag a touch that moved the idle deadline; the index decides.
        Validity::ExpiredIdle if requirement.role == RecordRole::Locating => {}
        Validity::ExpiredIdle => return Err(Refusal::ExpiredIdle),
    }
    device_binding::check_proof(record.device_binding.as_ref(), requirement.device).map_err(Refusal::DeviceBinding)?;
    if impersonation::refuses(requirement.impersonation, record) {
        return Err(Refusal::ImpersonationForbidden);
    }
    requirement.freshness.check(record.authenticated_at, record.aal, now).map_err(|failed| Refusal::NotFresh {
        authenticated_at: record.authenticated_at,
        aal: record.aal,
        failed,
    })?;
    check_drift(record, &requirement.drift)
}

/// The baseline rules, last: a drift is only worth asking about for a session every
/// other rule lets through.
fn check_drift(record: &SessionRecord, rule: &DriftRule) -> Result<(), Refusal> {
    let stamp = record.baseline.as_ref();
    let hold = stamp.and_then(|s| s.hold);
    match rule {
        DriftRule::Ignored => Ok(()),
        _ if hold == Some(DriftHold::StepUp) => Err(Refusal::DriftStepUp),
        DriftRule::HoldsOnly => Ok(()),
        DriftRule::Compare { strong, .. } if hold == Some(DriftHold::Strong) => {
            // Held already: classified, and watched on every request until then.
            if *strong {
                Ok(())
            } else {
                Err(Refusal::DriftStrong)
            }
        }
        DriftRule::Compare { observed: None, .. } => Ok(()),
        DriftRule::Compare { observed: Some(observed), .. } => match stamp {
            Some(stamp) if stamp.digest == *observed => Ok(()),
            _ => Err(Refusal::Unclassified),
        },
    }
}
