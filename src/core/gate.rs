//! Gatekeeper rules: which paths are public, what the origin may be told, and where an
//! unauthenticated browser is sent. Pure functions over strings; the worker layer does
//! the forwarding.

use std::fmt;

/// Settings of gatekeeper mode (on when `ORIGIN_URL` is set).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GateConfig {
    /// `scheme://host[:port]` plus an optional base path, without a trailing slash.
    pub origin_url: String,
    pub login_url: Option<String>,
    pub public_paths: PublicPaths,
    pub forward_session_cookie: bool,
    pub origin_timeout_ms: u32,
}

/// Paths that reach the origin without a session: exact paths, or prefixes written with
/// a trailing `*` (`/assets/*`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PublicPaths {
    exact: Vec<String>,
    prefixes: Vec<String>,
}

impl PublicPaths {
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut paths = PublicPaths::default();
        for pattern in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if !pattern.starts_with('/') {
                return Err(format!("'{pattern}' must start with '/'"));
            }
            match pattern.strip_suffix('*') {
                Some(prefix) if prefix.contains('*') => {
                    return Err(format!("'{pattern}': '*' is only allowed at the end"))
                }
                Some(prefix) => paths.prefixes.push(prefix.to_owned()),
                None if pattern.contains('*') => return Err(format!("'{pattern}': '*' is only allowed at the end")),
                None => paths.exact.push(pattern.to_owned()),
            }
        }
        Ok(paths)
    }

    /// Whether `path` (as the URL parser left it: dot segments resolved, percent-escapes
    /// kept) is public. A path that an origin could read differently is never public:
    /// escaped `/`, `\\` or `.` (`/assets/..%2Fadmin`), a `;` (Tomcat, Jetty and Spring
    /// treat `/assets/..;/admin` as `/admin`), or an escaped `%` (double decoding).
    pub fn matches(&self, path: &str) -> bool {
        if has_escaped_separator(path) || path.contains(';') {
            return false;
        }
        self.exact.iter().any(|p| p == path) || self.prefixes.iter().any(|p| path.starts_with(p.as_str()))
    }
}

fn has_escaped_separator(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    ["%2f", "%5c", "%2e", "%00", "%25"].iter().any(|e| lower.contains(e))
}

/// Headers a client may never send to the origin: the gatekeeper's own identity
/// headers. Matched case-insensitively by prefix, with `_` read as `-`: CGI-style
/// servers (WSGI, Rack, PHP) map `X_Session_Account` to the same variable as
/// `X-Session-Account`.
pub const IDENTITY_HEADER_PREFIX: &str = "x-session-";

pub fn is_identity_header(name: &str) -> bool {
    name.len() >= IDENTITY_HEADER_PREFIX.len()
        && name
            .bytes()
            .zip(IDENTITY_HEADER_PREFIX.bytes())
            .all(|(c, p)| c.to_ascii_lowercase() == p || (c == b'_' && p == b'-'))
}

/// Request headers the gatekeeper drops rather than forwards: hop-by-hop headers
/// (RFC 9110 §7.6.1), and forwarding headers that only the gatekeeper may set.
pub fn is_dropped_request_header(name: &str) -> bool {
    const DROPPED: [&str; 11] = [
        "host",
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "upgrade",
        "forwarded",
        "x-forwarded-host",
        "x-forwarded-proto",
        "x-forwarded-port",
    ];
    DROPPED.iter().any(|d| d.eq_ignore_ascii_case(name))
}

/// Whether an `Authorization` header value carries one of our session tokens, which the
/// origin must never receive.
pub fn is_session_bearer(value: &str) -> bool {
    crate::core::credentials::bearer_value(value).is_some_and(|v| v.starts_with(crate::core::token::TOKEN_PREFIX))
}

/// The `Cookie` header without the session cookie, or `None` when nothing else is left.
pub fn strip_cookie(header: &str, name: &str) -> Option<String> {
    let kept: Vec<&str> = header
        .split(';')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .filter(|pair| pair.split_once('=').is_none_or(|(k, _)| k.trim() != name))
        .collect();
    (!kept.is_empty()).then(|| kept.join("; "))
}

/// Whether an unauthenticated request is a browser navigation that should be sent to
/// the login page rather than get a JSON 401.
pub fn is_html_navigation(method: &str, accept: Option<&str>) -> bool {
    method.eq_ignore_ascii_case("GET") && accept.is_some_and(|a| a.to_ascii_lowercase().contains("text/html"))
}

/// The `return_to` value for a request: only its path and query, never a host. A path
/// that a browser could read as protocol-relative (`//evil.example`, `/\evil.example`)
/// is collapsed to a single leading `/`, and control characters are dropped.
pub fn return_to(path: &str, query: Option<&str>) -> String {
    // Control characters first: browsers drop tabs and newlines from URLs, so
    // "/\t/evil.example" would otherwise become "//evil.example" after trimming.
    let cleaned: String = path.chars().filter(|c| !c.is_control()).collect();
    let trimmed = cleaned.trim_start_matches(['/', '\\']);
    let mut out = String::with_capacity(path.len() + 1 + query.map_or(0, |q| q.len() + 1));
    out.push('/');
    out.push_str(trimmed);
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        out.push('?');
        out.extend(q.chars().filter(|c| !c.is_control()));
    }
    out
}

/// `LOGIN_URL` with `return_to` appended as a query parameter.
pub fn login_redirect(login_url: &str, return_to: &str) -> String {
    let separator = if login_url.contains('?') { '&' } else { '?' };
    format!("{login_url}{separator}return_to={}", percent_encode_component(return_to))
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn percent_encode_component(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 0xf) as usize] as char);
        }
    }
    out
}

/// A bad gatekeeper setting, as (variable, reason).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateConfigError(pub &'static str, pub String);

impl fmt::Display for GateConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.0, self.1)
    }
}

/// Default time the origin gets to answer before the gatekeeper gives up with a 502.
pub const DEFAULT_ORIGIN_TIMEOUT_MS: u32 = 10_000;

impl GateConfig {
    /// `None` when `ORIGIN_URL` is unset or empty (gatekeeper mode off).
    pub fn from_vars(var: &impl Fn(&str) -> Option<String>) -> Result<Option<GateConfig>, GateConfigError> {
        let Some(origin) = var("ORIGIN_URL").map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
            return Ok(None);
        };
        if !is_http_url(&origin) || origin.contains(['?', '#']) {
            return Err(GateConfigError("ORIGIN_URL", "must be an http(s) URL with no query or fragment".into()));
        }
        let public_paths = PublicPaths::parse(&var("PUBLIC_PATHS").unwrap_or_default())
            .map_err(|reason| GateConfigError("PUBLIC_PATHS", reason))?;
        let login_url = match var("LOGIN_URL").map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) {
            None => None,
            Some(url) if url.contains('#') => {
                return Err(GateConfigError(
                    "LOGIN_URL",
                    "must not contain a fragment: return_to would be lost after it".into(),
                ))
            }
            Some(url) if is_http_url(&url) => Some(url),
            Some(url) if url.starts_with('/') && !url.starts_with("//") && !url.starts_with("/\\") => {
                // A login page on this site must itself be reachable without a session,
                // or every visit to it redirects to it again.
                let path = url.split('?').next().unwrap_or(&url);
                if !public_paths.matches(path) {
                    return Err(GateConfigError(
                        "LOGIN_URL",
                        format!("'{path}' must be listed in PUBLIC_PATHS, or it redirects to itself"),
                    ));
                }
                Some(url)
            }
            Some(_) => {
                return Err(GateConfigError(
                    "LOGIN_URL",
                    "must be an http(s) URL or a path starting with a single '/'".into(),
                ))
            }
        };
        let forward_session_cookie = match var("FORWARD_SESSION_COOKIE").as_deref().map(str::trim) {
            None | Some("") | Some("false") => false,
            Some("true") => true,
            Some(_) => return Err(GateConfigError("FORWARD_SESSION_COOKIE", "must be 'true' or 'false'".into())),
        };
        let origin_timeout_ms = match var("ORIGIN_TIMEOUT_MS") {
            None => DEFAULT_ORIGIN_TIMEOUT_MS,
            Some(raw) => raw.trim().parse::<u32>().ok().filter(|ms| (1..=300_000).contains(ms)).ok_or_else(|| {
                GateConfigError("ORIGIN_TIMEOUT_MS", "must be a whole number from 1 to 300000".into())
            })?,
        };
        Ok(Some(GateConfig {
            origin_url: origin.trim_end_matches('/').to_owned(),
            login_url,
            public_paths,
            forward_session_cookie,
            origin_timeout_ms,
        }))
    }

    /// The origin URL for a request's path and query.
    pub fn upstream_url(&self, path: &str, query: Option<&str>) -> String {
        match query {
            Some(q) => format!("{}{}?{}", self.origin_url, path, q),
            None => format!("{}{}", self.origin_url, path),
        }
    }
}

fn is_http_url(s: &str) -> bool {
    let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/') && !r.contains(char::is_whitespace))
}
