//! Parsing of everything a request brings: account ids, cookies, bearer headers,
//! origins, and the worker's own configuration.

use edge_sessions::core::account::*;
use edge_sessions::core::admin_key::AdminKeyState;
use edge_sessions::core::config::Config;
use edge_sessions::core::cookie::*;
use edge_sessions::core::credentials::*;
use edge_sessions::core::origin::*;
use edge_sessions::core::token::TokenError;

mod common;
use common::vars;

fn token(n: u8) -> String {
    common::token(n).expose_secret().to_owned()
}

#[test]
fn account_ids_accept_the_documented_alphabet() {
    for ok in ["a", "user-42", "ACME_corp.eu", "alice@example.com", "tenant:7:user:9", &"x".repeat(128)] {
        assert_eq!(AccountId::parse(ok).map(|a| a.to_string()), Ok(ok.to_owned()));
    }
}

#[test]
fn account_ids_refuse_hostile_input() {
    assert_eq!(AccountId::parse(""), Err(AccountIdError::Empty));
    assert_eq!(AccountId::parse(&"x".repeat(129)), Err(AccountIdError::TooLong));
    assert_eq!(AccountId::parse(&"x".repeat(1000)), Err(AccountIdError::TooLong));
    for bad in ["a/b", "a\\b", "a b", "a\nb", "a\0b", "\u{7f}", "a%2Fb", "é", "a?b", "a#b", "<script>"] {
        assert_eq!(AccountId::parse(bad), Err(AccountIdError::BadCharacter), "{bad:?}");
    }
    for bad in ["..", ".", ".hidden", "a..b", "a.."] {
        assert_eq!(AccountId::parse(bad), Err(AccountIdError::DotSegment), "{bad:?}");
    }
}

#[test]
fn account_ids_in_a_path_take_exactly_percent_40_and_3a() {
    for (segment, id) in [
        ("alice@example.com", "alice@example.com"),
        ("alice%40example.com", "alice@example.com"),
        ("tenant%3A7%3auser%3A9", "tenant:7:user:9"),
        (&format!("{}%40", "x".repeat(127)), &format!("{}@", "x".repeat(127))),
    ] {
        assert_eq!(AccountId::from_path_segment(segment).map(|a| a.to_string()), Ok(id.to_owned()), "{segment}");
    }
    for bad in ["a%2Fb", "%41", "a%2540b", "a%20b", "a%", "a%4", "a%4é", "%e9", "a%%40b"] {
        assert_eq!(AccountId::from_path_segment(bad), Err(AccountIdError::BadCharacter), "{bad:?}");
    }
    for bad in ["%2e%2e", "a%2E%2Eb"] {
        assert!(AccountId::from_path_segment(bad).is_err(), "{bad:?}");
    }
    assert_eq!(AccountId::from_path_segment(&format!("{}%40", "x".repeat(128))), Err(AccountIdError::TooLong));
}

#[test]
fn find_cookie_picks_the_named_cookie_among_others() {
    let h = "theme=dark; __Host-session=abc; other=\"q\"";
    assert_eq!(find_cookie(h, "__Host-session"), Ok(Some("abc")));
    assert_eq!(find_cookie(h, "other"), Ok(Some("q")));
    assert_eq!(find_cookie(h, "missing"), Ok(None));
    assert_eq!(find_cookie("", "a"), Ok(None));
    // Prefix of another cookie's name is not a match.
    assert_eq!(find_cookie("__Host-session2=x", "__Host-session"), Ok(None));
    // Junk pairs of other cookies are skipped, not fatal.
    assert_eq!(find_cookie(";;; =; novalue; a=1", "a"), Ok(Some("1")));
}

#[test]
fn find_cookie_refuses_a_duplicated_session_cookie() {
    assert_eq!(find_cookie("s=1; s=2", "s"), Err(DuplicateCookie));
    assert_eq!(find_cookie("s=1;s=1", "s"), Err(DuplicateCookie));
}

#[test]
fn cookie_names_are_rfc6265_tokens() {
    assert!(is_valid_cookie_name("__Host-session"));
    assert!(is_valid_cookie_name("sid"));
    for bad in ["", "a b", "a;b", "a=b", "é", &"x".repeat(65)] {
        assert!(!is_valid_cookie_name(bad), "{bad:?}");
    }
}

#[test]
fn set_cookie_values_carry_every_attribute() {
    assert_eq!(
        session_cookie("__Host-session", "est_x", 1000, 400),
        "__Host-session=est_x; Max-Age=600; Path=/; Secure; HttpOnly; SameSite=Lax"
    );
    assert_eq!(
        clear_session_cookie("__Host-session"),
        "__Host-session=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Lax"
    );
}

#[test]
fn credential_from_cookie_or_bearer() {
    let t = token(1);
    let c = extract_credential(Some(&format!("x=1; s={t}")), None, "s", None, 0).unwrap();
    assert_eq!((c.token().unwrap().expose_secret(), c.source), (t.as_str(), CredentialSource::Cookie));
    let b = extract_credential(None, Some(&format!("Bearer {t}")), "s", None, 0).unwrap();
    assert_eq!((b.token().unwrap().expose_secret(), b.source), (t.as_str(), CredentialSource::Bearer));
    let lower = extract_credential(None, Some(&format!("bearer   {t}")), "s", None, 0).unwrap();
    assert_eq!(lower.token().unwrap().expose_secret(), t);
    // Both, agreeing: treated as cookie-borne so CSRF checks still apply.
    let both = extract_credential(Some(&format!("s={t}")), Some(&format!("Bearer {t}")), "s", None, 0).unwrap();
    assert_eq!(both.source, CredentialSource::Cookie);
}

#[test]
fn credential_errors() {
    let (a, b) = (token(1), token(2));
    let err = |cookie: Option<&str>, auth: Option<&str>| extract_credential(cookie, auth, "s", None, 0).unwrap_err();
    assert_eq!(err(None, None), CredentialError::Missing);
    assert_eq!(err(Some("other=1"), None), CredentialError::Missing);
    assert_eq!(err(Some(&format!("s={a}; s={b}")), None), CredentialError::DuplicateCookie);
    assert_eq!(err(Some(&format!("s={a}")), Some(&format!("Bearer {b}"))), CredentialError::Conflicting);
    assert_eq!(err(None, Some(&format!("Basic {a}"))), CredentialError::NotBearer);
    assert_eq!(err(None, Some("Bearer eyJhbGciOi.jwt")), CredentialError::Invalid(TokenError::WrongPrefix));
    assert_eq!(err(None, Some("Bearer")), CredentialError::NotBearer);
    assert_eq!(err(None, Some("Bearer ")), CredentialError::NotBearer);
    assert_eq!(err(Some("s=garbage"), None), CredentialError::Invalid(TokenError::WrongPrefix));
    assert_eq!(err(Some(&format!("s={}", &a[..46])), None), CredentialError::Invalid(TokenError::WrongLength));
    let big = format!("s={a}; pad={}", "x".repeat(COOKIE_HEADER_MAX_LEN));
    assert_eq!(err(Some(&big), None), CredentialError::HeaderTooLarge);
    assert_eq!(err(None, Some(&format!("Bearer {}", "x".repeat(64 * 1024)))), CredentialError::HeaderTooLarge);
}

#[test]
fn with_a_cookie_other_authorization_schemes_and_foreign_bearers_are_left_alone() {
    let t = token(1);
    let cookie = format!("s={t}");
    for auth in ["Basic dXNlcjpwYXNz", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig", "Digest x", "Bearer"] {
        let c = extract_credential(Some(&cookie), Some(auth), "s", None, 0).unwrap();
        assert_eq!((c.token().unwrap().expose_secret(), c.source), (t.as_str(), CredentialSource::Cookie), "{auth}");
    }
    // One of ours that disagrees is still a conflict.
    let other = token(2);
    assert_eq!(
        extract_credential(Some(&cookie), Some(&format!("Bearer {other}")), "s", None, 0).unwrap_err(),
        CredentialError::Conflicting
    );
}

#[test]
fn credential_error_messages_never_echo_the_token() {
    let t = token(7);
    let mangled = format!("{}!", &t[..46]);
    let e = extract_credential(Some(&format!("s={mangled}")), None, "s", None, 0).unwrap_err();
    assert!(!e.to_string().contains(&t[4..40]), "{e}");
}

#[test]
fn allowed_origins_parse_strictly() {
    let o = AllowedOrigins::parse("https://app.example.com, http://localhost:5173").unwrap();
    assert!(o.allows("https://app.example.com"));
    assert!(o.allows("http://localhost:5173"));
    assert!(!o.allows("https://app.example.com.evil.test"));
    assert!(!o.allows("https://evil.test"));
    assert!(!o.allows("null"));
    assert!(!o.allows("http://app.example.com"), "scheme matters");
    assert!(AllowedOrigins::parse("").unwrap().is_empty());
    for bad in [
        "*",
        "https://a.example/",
        "https://a.example/path",
        "a.example",
        "ftp://a.example",
        "https://",
        "https://a:99999x",
    ] {
        assert!(AllowedOrigins::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn cookie_writes_need_a_trusted_origin() {
    let allowed = AllowedOrigins::parse("https://app.example").unwrap();
    let own = Some("https://auth.example");
    assert!(cookie_write_allowed(&allowed, own, Some("https://app.example"), None));
    assert!(cookie_write_allowed(&allowed, own, Some("https://auth.example"), None));
    assert!(!cookie_write_allowed(&allowed, own, Some("https://evil.example"), None));
    assert!(!cookie_write_allowed(&allowed, own, Some("null"), None));
    assert!(cookie_write_allowed(&allowed, own, None, None), "non-browser client");
    assert!(cookie_write_allowed(&allowed, own, None, Some("same-origin")));
    assert!(!cookie_write_allowed(&allowed, own, None, Some("cross-site")));
    assert_eq!(origin_of_url("https://auth.example:8443/v1/session?x=1"), Some("https://auth.example:8443"));
    assert_eq!(origin_of_url("http://127.0.0.1:8787"), Some("http://127.0.0.1:8787"));
}

#[test]
fn config_defaults_when_nothing_is_set() {
    let c = Config::from_vars(vars(&[])).unwrap();
    assert_eq!(c.policy, edge_sessions::core::policy::Policy::default());
    assert_eq!(c.cookie_name, "__Host-session");
    assert!(c.allowed_origins.is_empty());
}

#[test]
fn config_reads_every_variable() {
    let c = Config::from_vars(vars(&[
        ("IDLE_TTL_SECS", "60"),
        ("ABSOLUTE_TTL_SECS", "120"),
        ("TOUCH_INTERVAL_SECS", "10"),
        ("MAX_SESSIONS_PER_ACCOUNT", "5"),
        ("COOKIE_NAME", "sid"),
        ("ALLOWED_ORIGINS", "https://a.example"),
    ]))
    .unwrap();
    assert_eq!(
        (
            c.policy.idle_timeout_secs,
            c.policy.absolute_lifetime_secs,
            c.policy.touch_interval_secs,
            c.policy.max_sessions
        ),
        (60, 120, 10, 5)
    );
    assert_eq!(c.cookie_name, "sid");
    assert!(c.allowed_origins.allows("https://a.example"));
}

#[test]
fn config_errors_name_the_variable_and_never_fall_back() {
    let var_of = |pairs: &[(&str, &str)]| Config::from_vars(vars(pairs)).unwrap_err().variable;
    assert_eq!(var_of(&[("IDLE_TTL_SECS", "thirty")]), "IDLE_TTL_SECS");
    assert_eq!(var_of(&[("IDLE_TTL_SECS", "")]), "IDLE_TTL_SECS");
    assert_eq!(var_of(&[("ABSOLUTE_TTL_SECS", "-5")]), "ABSOLUTE_TTL_SECS");
    assert_eq!(var_of(&[("MAX_SESSIONS_PER_ACCOUNT", "99999999999")]), "MAX_SESSIONS_PER_ACCOUNT");
    assert_eq!(var_of(&[("TOUCH_INTERVAL_SECS", "1800")]), "TOUCH_INTERVAL_SECS");
    assert_eq!(var_of(&[("COOKIE_NAME", "bad name")]), "COOKIE_NAME");
    assert_eq!(var_of(&[("ALLOWED_ORIGINS", "*")]), "ALLOWED_ORIGINS");
    let msg = Config::from_vars(vars(&[("IDLE_TTL_SECS", "1.5")])).unwrap_err().to_string();
    assert!(msg.contains("IDLE_TTL_SECS") && msg.contains("whole number"), "{msg}");
}

#[test]
fn admin_key_fails_closed_and_verifies_exactly() {
    assert!(matches!(AdminKeyState::from_secrets(None, None), AdminKeyState::NotConfigured));
    assert!(matches!(AdminKeyState::from_secrets(Some("  "), None), AdminKeyState::NotConfigured));
    assert!(matches!(AdminKeyState::from_secrets(Some("short"), None), AdminKeyState::TooShort("ADMIN_KEY")));
    let secret = "k".repeat(40);
    let AdminKeyState::Configured(key) = AdminKeyState::from_secrets(Some(&secret), None) else { panic!() };
    assert!(key.verify(&secret));
    assert!(!key.verify(&secret[..39]));
    assert!(!key.verify(&format!("{secret}k")));
    assert!(!key.verify(""));
    assert!(!key.has_previous());
    assert!(!format!("{key:?}").contains("kkkk"));
}

#[test]
fn admin_key_previous_is_accepted_beside_the_current_and_never_alone() {
    let (current, previous) = ("c".repeat(40), "p".repeat(40));
    let AdminKeyState::Configured(keys) = AdminKeyState::from_secrets(Some(&current), Some(&previous)) else {
        panic!()
    };
    assert!(keys.verify(&current) && keys.verify(&previous) && keys.has_previous());
    assert!(!keys.verify(&"x".repeat(40)) && !keys.verify(""));
    assert!(!format!("{keys:?}").contains("pppp"));
    // The previous key alone does not open the admin API.
    assert!(matches!(AdminKeyState::from_secrets(None, Some(&previous)), AdminKeyState::NotConfigured));
    assert!(matches!(AdminKeyState::from_secrets(Some(" "), Some(&previous)), AdminKeyState::NotConfigured));
    // A short previous key is a configuration error named as such, not a silent skip.
    assert!(matches!(
        AdminKeyState::from_secrets(Some(&current), Some("short")),
        AdminKeyState::TooShort("ADMIN_KEY_PREVIOUS")
    ));
    // Blank means unset.
    let AdminKeyState::Configured(keys) = AdminKeyState::from_secrets(Some(&current), Some("")) else { panic!() };
    assert!(!keys.has_previous() && keys.verify(&current));
}
