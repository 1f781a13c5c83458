//! Gatekeeper rules: which paths are public, what the origin may be told, and where an
//! unauthenticated browser is sent. Pure functions over strings; the worker layer does
//! the forwarding.

use crate::core::config::ConfigError;
use crate::core::step_up::Freshness;

/// Settings of gatekeeper mode (on when `ORIGIN_URL` is set).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GateConfig {
    /// `scheme://host[:port]` plus an optional base path, without a trailing slash.
    pub origin_url: String,
    pub login_url: Option<String>,
    pub public_paths: PublicPaths,
    pub forward_session_cookie: bool,
    pub origin_timeout_ms: u32,
    /// Client headers dropped before forwarding (built-in list + `DROP_REQUEST_HEADERS`).
    pub dropped_headers: DroppedHeaders,
    /// Paths that need a recent (and possibly strong) login: `FRESH_PATHS`.
    pub fresh_paths: FreshPaths,
    /// Paths whose requests are checked against the account's Durable Object:
    /// `STRONG_PATHS`.
    pub strong_paths: PathPatterns,
    /// Methods whose requests are checked against the account's Durable Object, upper
    /// case: `STRONG_METHODS` (default `POST,PUT,PATCH,DELETE`; empty turns it off).
    pub strong_methods: Vec<String>,
}

impl GateConfig {
    /// Whether a gated request must be checked against the account's Durable Object
    /// before it is forwarded.
    pub fn needs_strong_check(&self, method: &str, path: &str) -> bool {
        self.strong_methods.iter().any(|m| m.eq_ignore_ascii_case(method))
            || self.strong_paths.matches_any_reading(path)
    }
}

fn cfg_err(variable: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError { variable, reason: reason.into() }
}

/// `STRONG_METHODS` when unset: every method that changes something.
pub const DEFAULT_STRONG_METHODS: &str = "POST,PUT,PATCH,DELETE";

/// Path patterns, as `PUBLIC_PATHS`, `FRESH_PATHS` and `STRONG_PATHS` write them: exact
/// paths (`/login`), or a directory written `/x/*`, which matches `/x/` and everything
/// below it (not `/x` itself, nor `/x-private`). A `*` anywhere else, or one not right
/// after a `/` (`/login*`), is refused: it would match at no segment boundary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PathPatterns {
    exact: Vec<String>,
    /// Each ends with `/`.
    directories: Vec<String>,
}

/// `PUBLIC_PATHS` parses into the same patterns.
pub type PublicPaths = PathPatterns;

impl PathPatterns {
    /// A comma-separated list. Errors name the bad entry; the caller names the variable.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut paths = PathPatterns::default();
        for pattern in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            paths.add(pattern)?;
        }
        Ok(paths)
    }

    fn add(&mut self, pattern: &str) -> Result<(), String> {
        if !pattern.starts_with('/') {
            return Err(format!("'{pattern}' must start with '/'"));
        }
        match pattern.strip_suffix('*') {
            Some(prefix) if prefix.contains('*') => Err(format!("'{pattern}': '*' is only allowed at the end")),
            Some(prefix) if !prefix.ends_with('/') => {
                Err(format!("'{pattern}': write '{prefix}/*' ('*' matches whole path segments, after a '/')"))
            }
            Some(prefix) => {
                self.directories.push(prefix.to_owned());
                Ok(())
            }
            None if pattern.contains('*') => Err(format!("'{pattern}': '*' is only allowed at the end")),
            None => {
                self.exact.push(pattern.to_owned());
                Ok(())
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.directories.is_empty()
    }

    /// Whether `path` matches, taken literally.
    fn matches_literally(&self, path: &str) -> bool {
        self.exact.iter().any(|p| p == path) || self.directories.iter().any(|p| path.starts_with(p.as_str()))
    }

    /// Whether `path` (as the URL parser left it: dot segments resolved, percent-escapes
    /// kept) is public. **A path is public only if it matches literally, contains no `;`,
    /// and every percent-escape in it stands for a letter, a digit, a space, `-`, `_` or
    /// `~`.** Anything else may be read differently by the origin: an escaped `/`, `\`
    /// or `.` (`/assets/..%2Fadmin`), a `;` (Tomcat, Jetty and Spring read
    /// `/assets/..;/admin` as `/admin`), an escaped `%` (double decoding), `%u` escapes
    /// (IIS), overlong UTF-8 (`%c0%ae`), and any other non-ASCII escape.
    pub fn matches(&self, path: &str) -> bool {
        !path.contains(';') && has_only_plain_escapes(path) && self.matches_literally(path)
    }

    /// For patterns that impose a requirement (fresh, strong): whether `path` matches
    /// either as sent or with its percent-escapes decoded once (and any `;` parameters
    /// cut), so an escape can never dodge a requirement the origin applies to the
    /// decoded path.
    pub fn matches_any_reading(&self, path: &str) -> bool {
        if self.matches_literally(path) {
            return true;
        }
        let decoded = percent_decode_lossy(path);
        // Servlet containers drop `;params` from each segment: `/a;x=1/b` is `/a/b`.
        let without_params: Vec<&str> = decoded.split('/').map(|seg| seg.split(';').next().unwrap_or("")).collect();
        self.matches_literally(&decoded) || self.matches_literally(&without_params.join("/"))
    }
}

/// Every `%XX` is a valid escape of an unreserved-safe ASCII character.
fn has_only_plain_escapes(path: &str) -> bool {
    let bytes = path.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let Some(value) = bytes.get(i + 1..i + 3).and_then(hex_pair) else { return false };
            if !(value.is_ascii_alphanumeric() || matches!(value, b' ' | b'-' | b'_' | b'~')) {
                return false;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    true
}

fn hex_pair(pair: &[u8]) -> Option<u8> {
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    Some(digit(pair[0])? * 16 + digit(pair[1])?)
}

/// One round of percent-decoding; invalid escapes stay as they are, and bytes that do
/// not form UTF-8 become U+FFFD.
fn percent_decode_lossy(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if let Some(value) = bytes.get(i + 1..i + 3).and_then(hex_pair) {
                out.push(value);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `FRESH_PATHS`: paths whose requests need a recent (and possibly strong) login.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FreshPaths(Vec<(PathPatterns, Freshness)>);

impl FreshPaths {
    /// `pattern=max_age_secs[:aalN]`, comma-separated: `/settings/*=600,/billing/*=300:aal2`.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut rules = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (pattern, requirement) =
                entry.split_once('=').ok_or_else(|| format!("'{entry}' must be pattern=max_age_secs[:aalN]"))?;
            let (max_age, aal) = match requirement.split_once(':') {
                Some((max_age, aal)) => {
                    let level = aal
                        .strip_prefix("aal")
                        .ok_or_else(|| format!("'{entry}': write the level as aal1, aal2 or aal3"))?;
                    (max_age, Some(level))
                }
                None => (requirement, None),
            };
            let freshness =
                Freshness::parse(Some(max_age.trim()), aal.map(str::trim)).map_err(|e| format!("'{entry}': {e}"))?;
            let mut patterns = PathPatterns::default();
            patterns.add(pattern.trim())?;
            rules.push((patterns, freshness));
        }
        Ok(FreshPaths(rules))
    }

    /// The strictest requirement among the rules that match `path`, if any does.
    pub fn requirement(&self, path: &str) -> Option<Freshness> {
        self.0.iter().filter(|(p, _)| p.matches_any_reading(path)).map(|(_, f)| *f).reduce(|a, b| Freshness {
            max_age_secs: match (a.max_age_secs, b.max_age_secs) {
                (Some(x), Some(y)) => Some(x.min(y)),
                (x, y) => x.or(y),
            },
            min_aal: a.min_aal.max(b.min_aal),
        })
    }
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

/// Request headers a client may never pass to the origin, matched case-insensitively
/// with `_` read as `-` (CGI-style servers map both to the same variable):
/// - hop-by-hop headers (RFC 9110 §7.6.1);
/// - forwarding headers only the gatekeeper may set (`X-Forwarded-For` is rebuilt);
/// - URL-override headers that IIS, older Symfony and Zend route on (`X-Original-URL:
///   /admin` on a public path would land on `/admin` without a session);
/// - client-trust headers some origins believe for the client's address or scheme.
pub const DROPPED_REQUEST_HEADERS: [&str; 29] = [
    "host",
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-forwarded-port",
    "x-original-url",
    "x-rewrite-url",
    "x-original-uri",
    "x-forwarded-prefix",
    "x-forwarded-path",
    "x-forwarded-server",
    "x-forwarded-scheme",
    "x-forwarded-ssl",
    "front-end-https",
    "x-url-scheme",
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
    "x-real-ip",
    "x-client-ip",
    "true-client-ip",
    "x-cluster-client-ip",
];

/// The headers dropped before forwarding: [`DROPPED_REQUEST_HEADERS`] plus the names in
/// `DROP_REQUEST_HEADERS`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DroppedHeaders {
    extra: Vec<String>,
}

impl DroppedHeaders {
    /// Comma-separated header names (RFC 9110 tokens).
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut extra = Vec::new();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let is_token = name.bytes().all(|c| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c));
            if !is_token || name.len() > 128 {
                return Err(format!("'{}' is not a header name", name.chars().take(40).collect::<String>()));
            }
            extra.push(normalise_header_name(name));
        }
        Ok(DroppedHeaders { extra })
    }

    pub fn drops(&self, name: &str) -> bool {
        let name = normalise_header_name(name);
        DROPPED_REQUEST_HEADERS.contains(&name.as_str()) || self.extra.contains(&name)
    }
}

fn normalise_header_name(name: &str) -> String {
    name.bytes().map(|c| if c == b'_' { '-' } else { c.to_ascii_lowercase() as char }).collect()
}

/// Whether the gatekeeper drops this client-sent header (the built-in list only).
pub fn is_dropped_request_header(name: &str) -> bool {
    DroppedHeaders::default().drops(name)
}

/// The `X-Forwarded-For` the origin gets: exactly the client address Cloudflare saw
/// (`CF-Connecting-IP`), never what the client claimed. `None` (no header) when there is
/// no such address, as under `wrangler dev`.
pub fn forwarded_for(cf_connecting_ip: Option<&str>) -> Option<String> {
    cf_connecting_ip?.trim().parse::<std::net::IpAddr>().ok().map(|ip| ip.to_string())
}

/// Whether redirecting to `login_url` would loop: an absolute URL on the request's own
/// origin whose path is not public is itself gated, and redirected again.
pub fn login_would_loop(login_url: &str, request_origin: &str, public: &PathPatterns) -> bool {
    let Some(login_origin) = crate::core::origin::origin_of_url(login_url) else { return false };
    if !login_origin.eq_ignore_ascii_case(request_origin) {
        return false;
    }
    let rest = &login_url[login_origin.len()..];
    let path = rest.split(['?', '#']).next().filter(|p| !p.is_empty()).unwrap_or("/");
    !public.matches(path)
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

/// Default time the origin gets to answer before the gatekeeper gives up with a 502.
pub const DEFAULT_ORIGIN_TIMEOUT_MS: u32 = 10_000;

impl GateConfig {
    /// `None` when `ORIGIN_URL` is unset or empty (gatekeeper mode off).
    pub fn from_vars(var: &impl Fn(&str) -> Option<String>) -> Result<Option<GateConfig>, ConfigError> {
        let Some(origin) = var("ORIGIN_URL").map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
            return Ok(None);
        };
        if !is_http_url(&origin) || origin.contains(['?', '#']) {
            return Err(cfg_err("ORIGIN_URL", "must be an http(s) URL with no query or fragment"));
        }
        let public_paths = PublicPaths::parse(&var("PUBLIC_PATHS").unwrap_or_default())
            .map_err(|reason| cfg_err("PUBLIC_PATHS", reason))?;
        let login_url = match var("LOGIN_URL").map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) {
            None => None,
            Some(url) if url.contains('#') => {
                return Err(cfg_err("LOGIN_URL", "must not contain a fragment: return_to would be lost after it"))
            }
            Some(url) if is_http_url(&url) => Some(url),
            Some(url) if url.starts_with('/') && !url.starts_with("//") && !url.starts_with("/\\") => {
                // A login page on this site must itself be reachable without a session,
                // or every visit to it redirects to it again.
                let path = url.split('?').next().unwrap_or(&url);
                if !public_paths.matches(path) {
                    return Err(cfg_err(
                        "LOGIN_URL",
                        format!("'{path}' must be listed in PUBLIC_PATHS, or it redirects to itself"),
                    ));
                }
                Some(url)
            }
            Some(_) => return Err(cfg_err("LOGIN_URL", "must be an http(s) URL or a path starting with a single '/'")),
        };
        let forward_session_cookie = match var("FORWARD_SESSION_COOKIE").as_deref().map(str::trim) {
            None | Some("") | Some("false") => false,
            Some("true") => true,
            Some(_) => return Err(cfg_err("FORWARD_SESSION_COOKIE", "must be 'true' or 'false'")),
        };
        let origin_timeout_ms = match var("ORIGIN_TIMEOUT_MS") {
            None => DEFAULT_ORIGIN_TIMEOUT_MS,
            Some(raw) => raw
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|ms| (1..=300_000).contains(ms))
                .ok_or_else(|| cfg_err("ORIGIN_TIMEOUT_MS", "must be a whole number from 1 to 300000"))?,
        };
        let dropped_headers = DroppedHeaders::parse(&var("DROP_REQUEST_HEADERS").unwrap_or_default())
            .map_err(|reason| cfg_err("DROP_REQUEST_HEADERS", reason))?;
        let fresh_paths = FreshPaths::parse(&var("FRESH_PATHS").unwrap_or_default())
            .map_err(|reason| cfg_err("FRESH_PATHS", reason))?;
        let strong_paths = PathPatterns::parse(&var("STRONG_PATHS").unwrap_or_default())
            .map_err(|reason| cfg_err("STRONG_PATHS", reason))?;
        let strong_methods = var("STRONG_METHODS")
            .unwrap_or_else(|| DEFAULT_STRONG_METHODS.to_owned())
            .split(',')
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(|m| {
                if m.bytes().all(|c| c.is_ascii_alphabetic()) && m.len() <= 32 {
                    Ok(m.to_ascii_uppercase())
                } else {
                    Err(cfg_err(
                        "STRONG_METHODS",
                        format!("'{}' is not a method", m.chars().take(32).collect::<String>()),
                    ))
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(GateConfig {
            dropped_headers,
            fresh_paths,
            strong_paths,
            strong_methods,
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
