//! The `Cookie` request header and the `Set-Cookie` values this worker sends.

use crate::core::UnixSeconds;
use std::fmt;

/// The session cookie's name appears more than once. Browsers send that when cookies
/// for the same name were set with different paths or domains (cookie tossing); we
/// cannot know which is ours, so we refuse rather than guess.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DuplicateCookie;

impl fmt::Display for DuplicateCookie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the session cookie appears more than once")
    }
}

/// The value of cookie `name` in a `Cookie` header, if present exactly once.
///
/// Pairs without `=` and other cookies' odd values are skipped, not errors: a site's
/// other cookies are not ours to judge. A value wrapped in double quotes (allowed by
/// RFC 6265) is unwrapped.
pub fn find_cookie<'h>(header: &'h str, name: &str) -> Result<Option<&'h str>, DuplicateCookie> {
    let mut found = None;
    for pair in header.split(';') {
        let Some((key, value)) = pair.split_once('=') else { continue };
        if key.trim() != name {
            continue;
        }
        if found.is_some() {
            return Err(DuplicateCookie);
        }
        let value = value.trim();
        let value = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(value);
        found = Some(value);
    }
    Ok(found)
}

/// Every value of cookie `name` in a `Cookie` header, in the order sent (unquoted as by
/// [`find_cookie`]). For the one cookie a duplicate must not silence: the DBSC endpoints'
/// long-lived token, each value of which is tried.
pub fn all_cookies<'h>(header: &'h str, name: &'h str) -> impl Iterator<Item = &'h str> + 'h {
    header.split(';').filter_map(move |pair| {
        let (key, value) = pair.split_once('=')?;
        if key.trim() != name {
            return None;
        }
        let value = value.trim();
        Some(value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(value))
    })
}

/// Whether `name` can be a cookie name (an RFC 6265 token, at most 64 bytes).
pub fn is_valid_cookie_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|c| c.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&c))
}

/// `Set-Cookie` for a new session. `Secure; HttpOnly; SameSite=Lax; Path=/` always,
/// which also satisfies the `__Host-` prefix rules (no `Domain`). `Max-Age` runs to the
/// absolute deadline: the idle deadline moves with use, and the record decides validity.
pub fn session_cookie(name: &str, token: &str, absolute_expires_at: UnixSeconds, now: UnixSeconds) -> String {
    let max_age = absolute_expires_at.saturating_sub(now).max(0);
    format!("{name}={token}; Max-Age={max_age}; Path=/; Secure; HttpOnly; SameSite=Lax")
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_session_cookie(name: &str) -> String {
    format!("{name}=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Lax")
}
