//! Gatekeeper rules: public paths, identity headers, cookie stripping, return_to.

use edge_sessions::core::config::Config;
use edge_sessions::core::gate::*;
use std::collections::HashMap;

#[test]
fn public_paths_match_exact_paths_and_star_prefixes() {
    let p = PublicPaths::parse("/login, /assets/*, /favicon.ico").unwrap();
    for public in ["/login", "/assets/", "/assets/app.js", "/assets/img/a.png", "/favicon.ico"] {
        assert!(p.matches(public), "{public}");
    }
    for private in ["/", "/login/", "/loginx", "/assets", "/favicon.ico.bak", "/admin", "/Login"] {
        assert!(!p.matches(private), "{private}");
    }
}

#[test]
fn escaped_separators_are_never_public() {
    let p = PublicPaths::parse("/assets/*").unwrap();
    for tricky in [
        "/assets/..%2Fadmin",
        "/assets/%2e%2e/admin",
        "/assets/..%5Cadmin",
        "/assets/%2F%2Fx",
        "/assets/a%00",
        "/assets/..;/admin",
        "/assets/x;jsessionid=1",
        "/assets/%252e%252e/admin",
    ] {
        assert!(!p.matches(tricky), "{tricky}");
    }
}

#[test]
fn public_path_patterns_are_validated() {
    assert!(!PublicPaths::parse("").unwrap().matches("/x"));
    assert!(PublicPaths::parse("login").is_err());
    assert!(PublicPaths::parse("/a/*/b").is_err());
    assert!(PublicPaths::parse("/a*b").is_err());
    assert!(PublicPaths::parse("/*").unwrap().matches("/anything"));
}

#[test]
fn identity_headers_are_recognised_in_any_case() {
    for h in
        ["x-session-account", "X-Session-Id", "X-SESSION-EXPIRES", "x-session-", "X_Session_Account", "x_session-id"]
    {
        assert!(is_identity_header(h), "{h}");
    }
    for h in ["x-sessio", "x-sessions", "session", "x-forwarded-for"] {
        assert!(!is_identity_header(h), "{h}");
    }
}

#[test]
fn hop_by_hop_and_forwarding_headers_are_dropped() {
    for h in [
        "Host",
        "connection",
        "Keep-Alive",
        "TE",
        "Upgrade",
        "Forwarded",
        "X-Forwarded-Host",
        "x-forwarded-proto",
        "X-Forwarded-Port",
    ] {
        assert!(is_dropped_request_header(h), "{h}");
    }
    for h in ["x-forwarded-for", "content-type", "cookie", "authorization", "accept"] {
        assert!(!is_dropped_request_header(h), "{h}");
    }
}

#[test]
fn session_bearers_are_recognised() {
    assert!(is_session_bearer("Bearer est_abc"));
    assert!(is_session_bearer("bearer   est_"));
    assert!(!is_session_bearer("Bearer eyJhbGciOi"));
    assert!(!is_session_bearer("Basic est_abc"));
}

#[test]
fn strip_cookie_removes_only_the_session_cookie() {
    assert_eq!(strip_cookie("a=1; s=tok; b=2", "s").as_deref(), Some("a=1; b=2"));
    assert_eq!(strip_cookie("s=tok", "s"), None);
    assert_eq!(strip_cookie("s=1;s=2", "s"), None);
    assert_eq!(strip_cookie("session=x; s2=y", "s").as_deref(), Some("session=x; s2=y"));
    assert_eq!(strip_cookie("novalue; s=t", "s").as_deref(), Some("novalue"));
}

#[test]
fn html_navigation_is_a_get_that_accepts_html() {
    assert!(is_html_navigation("GET", Some("text/html,application/xhtml+xml,*/*;q=0.8")));
    assert!(!is_html_navigation("GET", Some("application/json")));
    assert!(!is_html_navigation("POST", Some("text/html")));
    assert!(!is_html_navigation("GET", None));
}

#[test]
fn return_to_holds_only_a_same_origin_path_and_query() {
    assert_eq!(return_to("/account/settings", Some("tab=2")), "/account/settings?tab=2");
    assert_eq!(return_to("/", None), "/");
    assert_eq!(return_to("/a", Some("")), "/a");
    // Protocol-relative and backslash tricks collapse to a path on this origin.
    assert_eq!(return_to("//evil.example", None), "/evil.example");
    assert_eq!(return_to("//evil.example/x", Some("y=1")), "/evil.example/x?y=1");
    assert_eq!(return_to("/\\evil.example", None), "/evil.example");
    assert_eq!(return_to("/\\/\\//evil.example", None), "/evil.example");
    assert_eq!(return_to("/\t/evil.example", None), "/evil.example");
    assert_eq!(return_to("/a\nb", Some("c\rd")), "/ab?cd");
    // Escapes stay escaped: a later decode yields a path, not a host.
    assert_eq!(return_to("/%2F%2Fevil.example", None), "/%2F%2Fevil.example");
    for attack in ["//evil.example", "/\\evil.example", "///evil.example", "/\\\\evil", "/\t\\evil"] {
        let r = return_to(attack, None);
        assert!(r.starts_with('/') && !r.starts_with("//") && !r.starts_with("/\\"), "{attack:?} -> {r:?}");
    }
}

#[test]
fn login_redirect_encodes_return_to() {
    assert_eq!(
        login_redirect("https://site.example/login", "/a b?x=1&y=2"),
        "https://site.example/login?return_to=%2Fa%20b%3Fx%3D1%26y%3D2"
    );
    assert_eq!(login_redirect("/login?lang=en", "/"), "/login?lang=en&return_to=%2F");
}

fn config(pairs: &[(&str, &str)]) -> Result<Config, edge_sessions::core::config::ConfigError> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Config::from_vars(move |k| map.get(k).cloned())
}

#[test]
fn gatekeeper_mode_is_on_only_with_an_origin_url() {
    assert_eq!(config(&[]).unwrap().gate, None);
    assert_eq!(config(&[("ORIGIN_URL", "")]).unwrap().gate, None);
    let gate = config(&[
        ("ORIGIN_URL", "http://127.0.0.1:9000/"),
        ("LOGIN_URL", "/login?lang=en"),
        ("PUBLIC_PATHS", "/login,/assets/*"),
        ("FORWARD_SESSION_COOKIE", "true"),
        ("ORIGIN_TIMEOUT_MS", "2500"),
    ])
    .unwrap()
    .gate
    .unwrap();
    assert_eq!(gate.origin_url, "http://127.0.0.1:9000");
    assert_eq!(gate.login_url.as_deref(), Some("/login?lang=en"));
    assert!(gate.public_paths.matches("/assets/x.css"));
    assert!(gate.forward_session_cookie);
    assert_eq!(gate.origin_timeout_ms, 2500);
    assert_eq!(gate.upstream_url("/a", Some("b=1")), "http://127.0.0.1:9000/a?b=1");
}

#[test]
fn gatekeeper_settings_are_validated() {
    let var_of = |pairs: &[(&str, &str)]| config(pairs).unwrap_err().variable;
    assert_eq!(var_of(&[("ORIGIN_URL", "ftp://x")]), "ORIGIN_URL");
    assert_eq!(var_of(&[("ORIGIN_URL", "https://x/?a=1")]), "ORIGIN_URL");
    assert_eq!(var_of(&[("ORIGIN_URL", "https://x"), ("LOGIN_URL", "//evil.example/login")]), "LOGIN_URL");
    assert_eq!(var_of(&[("ORIGIN_URL", "https://x"), ("LOGIN_URL", "javascript:alert(1)")]), "LOGIN_URL");
    assert_eq!(
        var_of(&[("ORIGIN_URL", "https://x"), ("LOGIN_URL", "/login")]),
        "LOGIN_URL",
        "not public: it would redirect to itself"
    );
    assert_eq!(var_of(&[("ORIGIN_URL", "https://x"), ("LOGIN_URL", "https://id.example/login#top")]), "LOGIN_URL");
    assert_eq!(var_of(&[("ORIGIN_URL", "https://x"), ("PUBLIC_PATHS", "login")]), "PUBLIC_PATHS");
    assert_eq!(var_of(&[("ORIGIN_URL", "https://x"), ("FORWARD_SESSION_COOKIE", "yes")]), "FORWARD_SESSION_COOKIE");
    assert_eq!(var_of(&[("ORIGIN_URL", "https://x"), ("ORIGIN_TIMEOUT_MS", "0")]), "ORIGIN_TIMEOUT_MS");
}
