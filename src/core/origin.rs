//! Which browser origins may call this worker with credentials (CORS), and which may
//! make cookie-authenticated writes (CSRF defence).

/// The exact origins from `ALLOWED_ORIGINS`. There is no wildcard: browsers refuse
/// `Access-Control-Allow-Origin: *` with credentials, and reflecting any origin would
/// hand every site on the web the user's session.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowedOrigins(Vec<String>);

impl AllowedOrigins {
    /// Parses a comma-separated list of `scheme://host[:port]` origins. Returns a
    /// message naming the bad entry's problem (never silently dropping it).
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut origins = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            if entry == "*" {
                return Err("'*' is not allowed: list each origin that may send credentials".to_owned());
            }
            if !is_serialized_origin(entry) {
                return Err(format!(
                    "'{entry}' is not an origin: expected scheme://host[:port] with no path or trailing slash"
                ));
            }
            origins.push(entry.to_ascii_lowercase());
        }
        Ok(AllowedOrigins(origins))
    }

    /// Whether the `Origin` header value is one of the configured origins.
    /// Origins are compared case-insensitively: browsers send them lowercased already.
    pub fn allows(&self, origin: &str) -> bool {
        self.0.iter().any(|o| o.eq_ignore_ascii_case(origin))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// `http(s)://host[:port]` with a non-empty host of URL-safe characters.
fn is_serialized_origin(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once("://") else { return false };
    if !matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https") {
        return false;
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => (h, Some(p)),
        _ => (rest, None),
    };
    let host_ok = !host.is_empty()
        && host.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'[' | b']' | b':'));
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|c| c.is_ascii_digit()));
    host_ok && port_ok
}

/// Whether `s` is `host[:port]` as an origin would carry it (no scheme, path or spaces).
pub fn is_authority(s: &str) -> bool {
    is_serialized_origin(&format!("https://{s}"))
}

/// The `host[:port]` of an `http(s)` URL, or `None` for anything else.
pub fn authority_of_url(url: &str) -> Option<&str> {
    let origin = origin_of_url(url).filter(|o| is_serialized_origin(o))?;
    origin.split_once("://").map(|(_, authority)| authority)
}

/// The origin (`scheme://host[:port]`) of an absolute URL, for same-origin checks.
pub fn origin_of_url(url: &str) -> Option<&str> {
    let scheme_end = url.find("://")? + 3;
    let rest = &url[scheme_end..];
    let end = rest.find(['/', '?', '#']).map_or(url.len(), |i| scheme_end + i);
    Some(&url[..end])
}

/// Whether a cookie-authenticated state-changing request may proceed.
///
/// - An `Origin` header must be the worker's own origin or an allowed one.
/// - With no `Origin`, `Sec-Fetch-Site: cross-site` (sent by modern browsers) still
///   marks a cross-site request and is refused.
/// - With neither, the caller is not a browser acting on a user's behalf (curl, a
///   server); the cookie was sent deliberately, so the request proceeds.
pub fn cookie_write_allowed(
    allowed: &AllowedOrigins,
    own_origin: Option<&str>,
    origin_header: Option<&str>,
    sec_fetch_site: Option<&str>,
) -> bool {
    match origin_header {
        Some(origin) => own_origin.is_some_and(|own| own.eq_ignore_ascii_case(origin)) || allowed.allows(origin),
        None => !sec_fetch_site.is_some_and(|s| s.eq_ignore_ascii_case("cross-site")),
    }
}
