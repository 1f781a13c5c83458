//! RFC 3339 rendering of the core's unix-second deadlines, for API responses.

use crate::core::UnixSeconds;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// `2026-11-22T07:47:00Z`. Deadlines are whole seconds, so no fraction is printed.
pub fn rfc3339(secs: UnixSeconds) -> String {
    OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        // Unreachable for deadlines the policy builds (it bounds every lifetime); a
        // record decoded from storage with an absurd value still renders as something.
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned())
}
