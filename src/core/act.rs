//! Who acts as the user on an impersonation session: the part of the session record
//! that says so (v3), and the RFC 8693 `act` claim it becomes in answers, assertions and
//! events. A leaf, so the record can hold it; the rules are `core::impersonation`.

use crate::core::UnixSeconds;
use serde::{Deserialize, Serialize};

/// Who is acting as the user, why, and since when. Stored in the session record (v3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Impersonation {
    pub actor: String,
    pub reason: String,
    pub started_at: UnixSeconds,
}

impl Impersonation {
    /// What the user's own listing says about it.
    pub fn notice(&self) -> String {
        format!("{} ({}) signed in as you", self.actor, self.reason)
    }

    /// The RFC 8693 actor claim.
    pub fn act(&self) -> Act<'_> {
        Act { sub: &self.actor }
    }
}

/// RFC 8693 §4.1 `act`: the party acting on the subject's behalf.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Act<'a> {
    pub sub: &'a str,
}
