//! Gatekeeper rules: which paths are public, what the origin may be told, and where an
//! unauthenticated browser is sent. Pure functions over strings; the worker layer does
//! the forwarding.

use crate::core::impersonation::ImpersonationRules;
use crate::core::path_patterns::{FreshPaths, PathPatterns, PublicPaths, RequirementPaths};
use crate::core::record::SessionRecord;
use crate::core::timestamp::rfc3339;
use crate::core::vars::{self, ConfigError, Vars};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

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
    pub strong_paths: RequirementPaths,
    /// Methods whose requests are checked against the account's Durable Object:
    /// `STRONG_METHODS`.
    pub strong_methods: StrongMethods,
    /// What an impersonation session may do here: `IMPERSONATION_METHODS` and
    /// `IMPERSONATION_DENY_PATHS`.
    pub impersonation: ImpersonationRules,
}

/// Which methods get a strong check wherever they go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StrongMethods {
    /// Unset: every method but GET, HEAD and OPTIONS, as the CSRF rule reads them. A
    /// list of "writing" methods would miss the ones nobody thought of (`PROPPATCH`,
    /// `MOVE`, `MKCOL`, `QUERY`).
    AllButSafe,
    /// `STRONG_METHODS=POST,DELETE`, upper case; blank turns method checks off.
    Listed(Vec<String>),
}

impl StrongMethods {
    pub fn includes(&self, method: &str) -> bool {
        match self {
            StrongMethods::AllButSafe => !matches!(method.to_ascii_uppercase().as_str(), "GET" | "HEAD" | "OPTIONS"),
            StrongMethods::Listed(methods) => methods.iter().any(|m| m.eq_ignore_ascii_case(method)),
        }
    }
}

impl GateConfig {
    /// Whether a gated request must be checked against the account's Durable Object
    /// before it is forwarded.
    pub fn needs_strong_check(&self, method: &str, path: &str) -> bool {
        self.strong_methods.includes(method) || self.strong_paths.covers(path)
    }

    /// What the origin gets of one client header, from its name and (for the two
    /// credential headers, `Cookie` and `Authorization`) its value. Both paths of the
    /// forward (`routes::gatekeeper`, `fast_gate`) ask this for every header.
    pub fn forwarded_header(&self, cookie_name: &str, name: &str, value: Option<&str>) -> ForwardedHeader {
        if is_identity_header(name) || self.dropped_headers.drops(name) {
            return ForwardedHeader::Removed;
        }
        // The origin never needs the token, on public paths either.
        if !self.forward_session_cookie {
            if name.eq_ignore_ascii_case("cookie") {
                return match value.and_then(|v| strip_cookie(v, cookie_name)) {
                    Some(rest) => ForwardedHeader::Rewritten(rest),
                    None => ForwardedHeader::Removed,
                };
            }
            if name.eq_ignore_ascii_case("authorization") && value.is_some_and(carries_session_credential) {
                return ForwardedHeader::Removed;
            }
        }
        ForwardedHeader::Unchanged
    }
}

/// What [`GateConfig::forwarded_header`] does with a client header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ForwardedHeader {
    Unchanged,
    Removed,
    /// The `Cookie` header without the session cookie (re-joined with `; `).
    Rewritten(String),
}

/// The headers the gatekeeper itself sets on a forwarded request, in the order they are
/// set: the session's identity (when the request has a session), then the forwarding
/// headers. `host` is `PUBLIC_HOST` (or `ISSUER`'s host) when configured, else the
/// request's own; `connecting_ip` is `CF-Connecting-IP`.
pub fn gatekeeper_headers(
    identity: Option<(&SessionRecord, Option<&str>)>,
    host: &str,
    scheme: &str,
    connecting_ip: Option<&str>,
) -> Vec<(&'static str, String)> {
    let mut set = Vec::with_capacity(8);
    if let Some((record, assertion)) = identity {
        if let Some(jwt) = assertion {
            set.push(("X-Session-Assertion", jwt.to_owned()));
        }
        set.push(("X-Session-Account", record.account_id.as_str().to_owned()));
        set.push(("X-Session-Id", record.session_id.as_str().to_owned()));
        set.push(("X-Session-Expires", rfc3339(record.idle_expires_at)));
        if let Some(imp) = &record.impersonation {
            // Never forwarded without it: the origin would take the request as the user's.
            set.push((ACTOR_HEADER, imp.actor.clone()));
        }
    }
    set.push(("X-Forwarded-Host", host.to_owned()));
    set.push(("X-Forwarded-Proto", scheme.to_owned()));
    // The client's own X-Forwarded-For was dropped; the origin gets the address
    // Cloudflare saw, or none.
    if let Some(client) = forwarded_for(connecting_ip) {
        set.push(("X-Forwarded-For", client));
    }
    set
}

/// The header that says who acts for the user (an impersonation session).
pub const ACTOR_HEADER: &str = "X-Session-Actor";

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

/// Whether an `Authorization` header value carries one of our credentials (a session
/// token `est_…` or a bound cookie `esb_…`), which the origin must never receive: in any
/// scheme and anywhere in the value, since two `Authorization` lines arrive joined
/// (`Basic eA==, Bearer est_…`) and a tab may stand for the space. A prefix inside a run
/// of base64url characters (another party's JWT that happens to contain `est_`) is not one.
pub fn carries_session_credential(value: &str) -> bool {
    use crate::core::{bound_cookie::BOUND_COOKIE_PREFIX, token::TOKEN_PREFIX};
    let bytes = value.as_bytes();
    let in_token = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
    [TOKEN_PREFIX, BOUND_COOKIE_PREFIX]
        .iter()
        .any(|prefix| value.match_indices(prefix).any(|(at, _)| at == 0 || !in_token(bytes[at - 1])))
}

/// The `Cookie` header without the session cookie, or `None` when nothing else is left.
/// Pairs are split at `;` and at `,` too: two `Cookie` lines arrive joined with `, `, and
/// no cookie value may hold a comma (RFC 6265).
pub fn strip_cookie(header: &str, name: &str) -> Option<String> {
    let kept: Vec<&str> = header
        .split([';', ','])
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

/// Everything but RFC 3986 unreserved characters is escaped in a query component.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn percent_encode_component(s: &str) -> String {
    utf8_percent_encode(s, COMPONENT).to_string()
}

/// Default time the origin gets to answer before the gatekeeper gives up with a 502.
pub const DEFAULT_ORIGIN_TIMEOUT_MS: u32 = 10_000;

impl GateConfig {
    /// `None` when `ORIGIN_URL` is unset or empty (gatekeeper mode off).
    pub fn from_vars(var: &impl Vars) -> Result<Option<GateConfig>, ConfigError> {
        let Some(origin) = vars::var(var, "ORIGIN_URL") else { return Ok(None) };
        if !is_http_url(&origin) || origin.contains(['?', '#']) {
            return Err(ConfigError::new("ORIGIN_URL", "must be an http(s) URL with no query or fragment"));
        }
        let patterns = |name: &'static str| {
            PathPatterns::parse(&vars::var(var, name).unwrap_or_default())
                .map_err(|reason| ConfigError::new(name, reason))
        };
        let public_paths: PublicPaths = patterns("PUBLIC_PATHS")?;
        let login_url = match vars::var(var, "LOGIN_URL") {
            None => None,
            Some(url) if url.contains('#') => {
                return Err(ConfigError::new(
                    "LOGIN_URL",
                    "must not contain a fragment: return_to would be lost after it",
                ))
            }
            Some(url) if is_http_url(&url) => Some(url),
            Some(url) if url.starts_with('/') && !url.starts_with("//") && !url.starts_with("/\\") => {
                // A login page on this site must itself be reachable without a session,
                // or every visit to it redirects to it again.
                let path = url.split('?').next().unwrap_or(&url);
                if !public_paths.matches(path) {
                    return Err(ConfigError::new(
                        "LOGIN_URL",
                        format!("'{path}' must be listed in PUBLIC_PATHS, or it redirects to itself"),
                    ));
                }
                Some(url)
            }
            Some(_) => {
                return Err(ConfigError::new(
                    "LOGIN_URL",
                    "must be an http(s) URL or a path starting with a single '/'",
                ))
            }
        };
        let forward_session_cookie = vars::boolean(var, "FORWARD_SESSION_COOKIE", false)?;
        let origin_timeout_ms = vars::whole_number(var, "ORIGIN_TIMEOUT_MS", DEFAULT_ORIGIN_TIMEOUT_MS, 1..=300_000)?;
        let dropped_headers = DroppedHeaders::parse(&vars::var(var, "DROP_REQUEST_HEADERS").unwrap_or_default())
            .map_err(|reason| ConfigError::new("DROP_REQUEST_HEADERS", reason))?;
        let fresh_paths = FreshPaths::parse(&vars::var(var, "FRESH_PATHS").unwrap_or_default())
            .map_err(|reason| ConfigError::new("FRESH_PATHS", reason))?;
        let strong_paths = RequirementPaths::parse(&vars::var(var, "STRONG_PATHS").unwrap_or_default())
            .map_err(|reason| ConfigError::new("STRONG_PATHS", reason))?;
        // Unset means every method but the safe ones; set but blank turns method-based
        // strong checks off.
        let strong_methods = match vars::methods(var, "STRONG_METHODS")? {
            None => StrongMethods::AllButSafe,
            Some(methods) => StrongMethods::Listed(methods),
        };
        let impersonation = ImpersonationRules::from_vars(var)?;
        Ok(Some(GateConfig {
            impersonation,
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
