//! Gatekeeper rules: public paths, identity headers, cookie stripping, return_to.

use edge_sessions::core::config::Config;
use edge_sessions::core::gate::*;
use edge_sessions::core::path_patterns::*;

mod common;

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
    for h in ["content-type", "cookie", "authorization", "accept", "x-requested-with"] {
        assert!(!is_dropped_request_header(h), "{h}");
    }
}

#[test]
fn session_bearers_are_recognised() {
    assert!(carries_session_credential("Bearer est_abc"));
    assert!(carries_session_credential("bearer   est_"));
    assert!(!carries_session_credential("Bearer eyJhbGciOi"));
    assert!(carries_session_credential("Basic est_abc"), "a token in any scheme is ours");
    assert!(carries_session_credential("Basic eA==, Bearer est_T"), "two Authorization lines, joined");
    assert!(carries_session_credential("Bearer\test_T"), "a tab for the space");
    assert!(carries_session_credential("Bearer esb_AAAA"), "a bound cookie sent as a bearer");
    assert!(!carries_session_credential("Bearer eyJhbGciOiJIUzI1NiJ9.eyJ0ZXN0X2tleSI6MX0.abcest_def"), "inside a JWT");
    assert!(!carries_session_credential("Bearer interest_rate"));
}

#[test]
fn strip_cookie_removes_only_the_session_cookie() {
    assert_eq!(strip_cookie("a=1; s=tok; b=2", "s").as_deref(), Some("a=1; b=2"));
    assert_eq!(strip_cookie("s=tok", "s"), None);
    assert_eq!(strip_cookie("s=1;s=2", "s"), None);
    assert_eq!(strip_cookie("session=x; s2=y", "s").as_deref(), Some("session=x; s2=y"));
    assert_eq!(strip_cookie("novalue; s=t", "s").as_deref(), Some("novalue"));
    // Two Cookie lines, joined by the runtime with ", ".
    assert_eq!(strip_cookie("a=1, s=tok", "s").as_deref(), Some("a=1"));
    assert_eq!(strip_cookie("s=tok, b=2; c=3", "s").as_deref(), Some("b=2; c=3"));
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

fn config(pairs: &[(&str, &str)]) -> Result<Config, edge_sessions::core::vars::ConfigError> {
    Config::from_vars(common::vars(pairs))
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

#[test]
fn url_override_and_client_trust_headers_are_dropped_in_any_spelling() {
    for h in [
        "X-Original-URL",
        "x_original_url",
        "X-Rewrite-Url",
        "X-Original-URI",
        "X-Forwarded-Prefix",
        "X-Forwarded-Path",
        "X-Forwarded-Server",
        "X-Forwarded-Scheme",
        "X_Forwarded_Ssl",
        "Front-End-Https",
        "X-Url-Scheme",
        "X-HTTP-Method-Override",
        "X-HTTP-Method",
        "x-method-override",
        "X-Real-IP",
        "X-Client-IP",
        "True-Client-IP",
        "X-Cluster-Client-IP",
        "X-Forwarded-For",
        "x_forwarded_for",
    ] {
        assert!(is_dropped_request_header(h), "{h}");
    }
    let extra = DroppedHeaders::parse("X-Debug-User, x_internal").unwrap();
    assert!(extra.drops("x-debug-user") && extra.drops("X-Internal") && extra.drops("X-Real-IP"));
    assert!(!extra.drops("x-debug"));
    assert!(DroppedHeaders::parse("bad header").is_err());
    assert_eq!(
        config(&[("ORIGIN_URL", "http://o.example"), ("DROP_REQUEST_HEADERS", "a b")]).unwrap_err().variable,
        "DROP_REQUEST_HEADERS"
    );
}

#[test]
fn x_forwarded_for_is_rebuilt_from_cf_connecting_ip_only() {
    assert_eq!(forwarded_for(Some("203.0.113.7")), Some("203.0.113.7".into()));
    assert_eq!(forwarded_for(Some(" 2001:db8::1 ")), Some("2001:db8::1".into()));
    assert_eq!(forwarded_for(Some("203.0.113.7, 10.0.0.1")), None);
    assert_eq!(forwarded_for(None), None);
}

#[test]
fn each_client_header_is_kept_removed_or_rewritten_for_the_origin() {
    let gate = |extra: &[(&str, &str)]| {
        let mut pairs = vec![("ORIGIN_URL", "http://o.example"), ("DROP_REQUEST_HEADERS", "X-Internal")];
        pairs.extend_from_slice(extra);
        config(&pairs).unwrap().gate.unwrap()
    };
    let strict = gate(&[]);
    let forwarded = |gate: &GateConfig, name: &str, value: Option<&str>| gate.forwarded_header("s", name, value);
    assert_eq!(forwarded(&strict, "accept", None), ForwardedHeader::Unchanged);
    for name in ["X-Session-Account", "x_session_id", "host", "x-forwarded-for", "x_internal", "X-Internal"] {
        assert_eq!(forwarded(&strict, name, None), ForwardedHeader::Removed, "{name}");
    }
    // The Cookie header is always re-joined, so both paths send the same bytes.
    assert_eq!(forwarded(&strict, "cookie", Some("a=1;s=tok; b=2")), ForwardedHeader::Rewritten("a=1; b=2".into()));
    assert_eq!(forwarded(&strict, "Cookie", Some("a=1;b=2")), ForwardedHeader::Rewritten("a=1; b=2".into()));
    assert_eq!(forwarded(&strict, "cookie", Some("s=tok")), ForwardedHeader::Removed);
    let bearer = format!("Bearer est_{}", "A".repeat(43));
    assert_eq!(forwarded(&strict, "authorization", Some(&bearer)), ForwardedHeader::Removed);
    assert_eq!(forwarded(&strict, "authorization", Some("Basic dXNlcjpwYXNz")), ForwardedHeader::Unchanged);
    // FORWARD_SESSION_COOKIE=true passes the credential on, never the identity headers.
    let lenient = gate(&[("FORWARD_SESSION_COOKIE", "true")]);
    assert_eq!(forwarded(&lenient, "cookie", Some("s=tok")), ForwardedHeader::Unchanged);
    assert_eq!(forwarded(&lenient, "authorization", Some(&bearer)), ForwardedHeader::Unchanged);
    assert_eq!(forwarded(&lenient, "X-Session-Id", None), ForwardedHeader::Removed);
}

#[test]
fn without_a_session_the_gatekeeper_sets_only_the_forwarding_headers() {
    let set = gatekeeper_headers(None, "app.example", "https", Some("203.0.113.7"));
    let expected =
        [("X-Forwarded-Host", "app.example"), ("X-Forwarded-Proto", "https"), ("X-Forwarded-For", "203.0.113.7")];
    assert_eq!(set, expected.map(|(n, v)| (n, v.to_owned())));
    let unknown = gatekeeper_headers(None, "app.example", "https", Some("not an address"));
    assert!(unknown.iter().all(|(name, _)| *name != "X-Forwarded-For"));
}

#[test]
fn patterns_match_at_segment_boundaries_and_bare_prefixes_are_refused() {
    let p = PathPatterns::parse("/login,/assets/*").unwrap();
    for private in ["/login-as-admin", "/loginhistory", "/assets-private/x", "/assets"] {
        assert!(!p.matches(private), "{private}");
    }
    assert!(p.matches("/assets/") && p.matches("/assets/a/b.css"));
    for bare in ["/login*", "/assets*", "/a/b*"] {
        let e = PathPatterns::parse(bare).unwrap_err();
        assert!(e.contains(bare), "{e}");
    }
    let e = config(&[("ORIGIN_URL", "http://o.example"), ("PUBLIC_PATHS", "/ok,/login*")]).unwrap_err();
    assert_eq!(e.variable, "PUBLIC_PATHS");
    assert!(e.reason.contains("/login*"), "{}", e.reason);
}

#[test]
fn public_matching_refuses_escapes_an_origin_could_decode_into_separators() {
    let p = PathPatterns::parse("/assets/*").unwrap();
    for tricky in [
        "/assets/..%u002fadmin",
        "/assets/%c0%ae%c0%ae/admin",
        "/assets/%C0%AF",
        "/assets/x%3bjsessionid=1",
        "/assets/%e0%80%ae",
        "/assets/%2",
        "/assets/%zz",
        "/assets/caf%C3%A9",
    ] {
        assert!(!p.matches(tricky), "{tricky}");
    }
    for plain in ["/assets/a%20b.png", "/assets/%41bc", "/assets/x%5Fy", "/assets/x%7e"] {
        assert!(p.matches(plain), "{plain}");
    }
}

#[test]
fn requirement_patterns_match_every_reading_of_a_path() {
    let strong = RequirementPaths::parse("/settings/*").unwrap();
    for path in ["/settings/x", "/settings%2Fx", "/settings/%78", "/settings;v=1/x"] {
        assert!(strong.covers(path), "{path}");
    }
    assert!(!strong.covers("/settingsx"));
}

/// The review's spellings (issue 20, item 1): each reaches the protected page on some
/// common origin, so each must meet the requirement.
#[test]
fn requirement_patterns_cover_case_slashes_trailing_dots_and_the_bare_directory() {
    let settings = RequirementPaths::parse("/settings/*,/billing").unwrap();
    for path in [
        "/Settings/profile",
        "/SETTINGS/PROFILE",
        "/settings",
        "/settings/",
        "//settings/profile",
        "/settings//profile",
        "/billing/",
        "/Billing",
        "/billing.",
        "/billing%20",
        "/settings./profile",
        "/settings%5Cprofile",
        "/%53ettings/profile",
        // A `..` that only a decoding, a `;params` cut or IIS's trimming reveals.
        "/x/..;/settings/profile",
        "/x/..%2fsettings/profile",
        "/x/%2e%2e%2fsettings/profile",
        "/x/..%5cbilling",
        "/x/..%20/billing",
        "/x/.. /billing",
    ] {
        assert!(settings.covers(path), "{path}");
    }
    for other in ["/settingsx", "/billing-history", "/home", "/", "/set/tings", "/settings/../home", "/x/...billing"] {
        assert!(!settings.covers(other), "{other}");
    }
}

#[test]
fn fail_closed_requirements_cover_everything_but_strict_exemptions() {
    let strong = RequirementPaths::parse("/*,!/assets/*,!/help").unwrap();
    assert!(strong.covers("/") && strong.covers("/admin/panel") && strong.covers("/x;y"));
    assert!(!strong.covers("/assets/app.css") && !strong.covers("/help"));
    // Exemptions match as strictly as public paths: a spelling the origin might read
    // differently stays covered.
    for path in ["/Assets/app.css", "/assets/..%2Fadmin", "/assets;x/app.css", "/help/", "/HELP"] {
        assert!(strong.covers(path), "{path}");
    }
    let fresh = FreshPaths::parse("/*=600,!/public/*").unwrap();
    assert_eq!(fresh.requirement("/public/page"), None);
    assert_eq!(fresh.requirement("/Public/page").and_then(|f| f.max_age_secs), Some(600));
    assert!(FreshPaths::parse("!nope").is_err() && RequirementPaths::parse("!/a*").is_err());
}

#[test]
fn public_paths_refuse_a_segment_that_windows_would_trim() {
    let public = PathPatterns::parse("/assets/*").unwrap();
    for tricky in ["/assets/..%20/admin", "/assets/x%20", "/assets/x./y", "/assets/x."] {
        assert!(!public.matches(tricky), "{tricky}");
    }
    assert!(public.matches("/assets/a%20b.png") && public.matches("/assets/.hidden"));
}

#[test]
fn fresh_paths_take_the_strictest_matching_rule() {
    let fresh = FreshPaths::parse("/settings/*=600,/settings/billing/*=300:aal2").unwrap();
    assert_eq!(fresh.requirement("/home"), None);
    let settings = fresh.requirement("/settings/profile").unwrap();
    assert_eq!((settings.max_age_secs, settings.min_aal), (Some(600), None));
    let billing = fresh.requirement("/settings/billing/card").unwrap();
    assert_eq!((billing.max_age_secs, billing.min_aal), (Some(300), Some(2)));
    for bad in ["/x/*", "/x/*=soon", "/x/*=60:aal9", "/x/*=60:level2", "x=60", "/x*=60"] {
        assert!(FreshPaths::parse(bad).is_err(), "{bad}");
    }
    assert_eq!(
        config(&[("ORIGIN_URL", "http://o.example"), ("FRESH_PATHS", "/x/*")]).unwrap_err().variable,
        "FRESH_PATHS"
    );
}

#[test]
fn strong_checks_by_method_and_path() {
    let gate = config(&[("ORIGIN_URL", "http://o.example"), ("STRONG_PATHS", "/admin/*")]).unwrap().gate.unwrap();
    assert!(gate.needs_strong_check("POST", "/anything") && gate.needs_strong_check("delete", "/x"));
    assert!(gate.needs_strong_check("GET", "/admin/users"));
    assert!(!gate.needs_strong_check("GET", "/home"));
    // By default every method but the safe ones, including those nobody lists.
    for method in ["PROPPATCH", "MOVE", "MKCOL", "QUERY", "purge"] {
        assert!(gate.needs_strong_check(method, "/x"), "{method}");
    }
    assert!(!gate.needs_strong_check("HEAD", "/x") && !gate.needs_strong_check("OPTIONS", "/x"));
    let listed = config(&[("ORIGIN_URL", "http://o.example"), ("STRONG_METHODS", "delete")]).unwrap().gate.unwrap();
    assert!(listed.needs_strong_check("DELETE", "/x") && !listed.needs_strong_check("POST", "/x"));
    let off = config(&[("ORIGIN_URL", "http://o.example"), ("STRONG_METHODS", "")]).unwrap().gate.unwrap();
    assert!(!off.needs_strong_check("POST", "/x"));
    assert_eq!(
        config(&[("ORIGIN_URL", "http://o.example"), ("STRONG_METHODS", "PO ST")]).unwrap_err().variable,
        "STRONG_METHODS"
    );
}

#[test]
fn a_login_url_on_the_site_itself_that_is_not_public_would_loop() {
    let public = PathPatterns::parse("/login").unwrap();
    assert!(login_would_loop("https://app.example.com/signin", "https://app.example.com", &public));
    assert!(login_would_loop("https://APP.example.com/", "https://app.example.com", &public));
    assert!(!login_would_loop("https://app.example.com/login?x=1", "https://app.example.com", &public));
    assert!(!login_would_loop("https://auth.example.com/signin", "https://app.example.com", &public));
}
