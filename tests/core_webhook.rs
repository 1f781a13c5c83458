//! Webhook settings, signing input and retry schedule.

use edge_sessions::core::event::EventType;
use edge_sessions::core::webhook::*;

mod common;

// The example secret of the Standard Webhooks specification's reference libraries.
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn config(pairs: &[(&str, &str)]) -> Result<Option<WebhookConfig>, edge_sessions::core::vars::ConfigError> {
    WebhookConfig::from_vars(&common::vars(pairs))
}

#[test]
fn no_url_means_no_webhook() {
    assert_eq!(config(&[]).unwrap(), None);
    assert_eq!(config(&[("WEBHOOK_URL", " ")]).unwrap(), None);
}

#[test]
fn the_url_must_be_https_except_on_loopback() {
    for ok in ["https://hooks.example.com/in", "http://127.0.0.1:8080/x", "http://localhost:9/x", "http://[::1]:9/"] {
        assert!(config(&[("WEBHOOK_URL", ok), ("WEBHOOK_SECRET", SECRET)]).unwrap().is_some(), "{ok}");
    }
    for bad in [
        "http://hooks.example.com/in",
        "ftp://x",
        "https://",
        "http://127.0.0.1.evil.example/",
        "http://localhost.evil/",
    ] {
        let e = config(&[("WEBHOOK_URL", bad), ("WEBHOOK_SECRET", SECRET)]).unwrap_err();
        assert_eq!(e.variable, "WEBHOOK_URL", "{bad}");
    }
}

#[test]
fn userinfo_is_refused_and_the_host_is_the_one_a_url_parser_sees() {
    let check = |url: &str| config(&[("WEBHOOK_URL", url), ("WEBHOOK_SECRET", SECRET)]);
    // A WHATWG parser reads each of these with a loopback host, as this check does.
    for ok in [
        "http://LocalHost:8080/x",
        "http://127.0.0.1:65535/",
        "http://localhost/@hooks.example",
        "http://localhost?@hooks.example",
        "http://localhost#@hooks.example",
        "https://hooks.example.com:8443/in?x=1#y",
        "https://[2001:db8::1]/in",
    ] {
        assert!(check(ok).unwrap().is_some(), "{ok}");
    }
    let userinfo = "must not hold userinfo (a user name or password before '@')";
    for url in [
        "http://localhost:1@hooks.example/in", // the request would go to hooks.example
        "http://localhost@hooks.example/",
        "http://127.0.0.1:80@hooks.example/",
        "http://[::1]@hooks.example/",
        "https://user:password@hooks.example/in",
        "https://@hooks.example/in",
        "http://hooks.example@localhost/", // loopback, but credentials in a URL are refused too
    ] {
        let e = check(url).unwrap_err();
        assert_eq!((e.variable, e.reason.as_str()), ("WEBHOOK_URL", userinfo), "{url}");
        assert!(!e.reason.contains("hooks.example"), "the message never echoes the URL");
    }
    // What a parser would read another way than a split on '/', or not at all.
    for url in [
        "http://localhost\\@hooks.example/", // a backslash ends the host for a WHATWG parser
        "http://localhost\\.hooks.example/",
        "http://local\thost/", // tabs and newlines are dropped
        "http://localhost\n.hooks.example/",
        "https://hooks.example .com/",
        "http://%6cocalhost/",
        "http://localhost%2f.hooks.example/",
        "http://localhost:80:90/",
        "http://localhost:99999/",
        "http://localhost:/",
        "http://localhost:0x50/",
        "http://[::1/",
        "http://[localhost]/",
        "http://[::1]8080/",
        "https://:443/",
        "https:///hooks.example/",
        "https://hooks[1].example/",
        "http://127.1/", // 127.0.0.1 to a parser, but not the plain form
    ] {
        assert_eq!(check(url).unwrap_err().variable, "WEBHOOK_URL", "{url:?}");
    }
}

#[test]
fn the_secret_is_required_and_must_be_whsec_base64() {
    let url = ("WEBHOOK_URL", "https://hooks.example.com/");
    assert_eq!(config(&[url]).unwrap_err().variable, "WEBHOOK_SECRET");
    for bad in ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not base64!", "whsec_c2hvcnQ="] {
        let e = config(&[url, ("WEBHOOK_SECRET", bad)]).unwrap_err();
        assert_eq!(e.variable, "WEBHOOK_SECRET");
        assert!(!e.reason.contains("MfKQ"), "the message never echoes the secret");
    }
    let c = config(&[url, ("WEBHOOK_SECRET", SECRET)]).unwrap().unwrap();
    assert_eq!(c.secret.key_bytes().len(), 24);
    assert_eq!(format!("{:?}", c.secret), "WebhookSecret(<redacted>)");
}

#[test]
fn settings_default_and_are_bounded() {
    let base = [("WEBHOOK_URL", "https://h.example/"), ("WEBHOOK_SECRET", SECRET)];
    let c = config(&base).unwrap().unwrap();
    assert_eq!(
        (c.timeout_ms, c.retry_delay_secs, c.events.clone()),
        (DEFAULT_TIMEOUT_MS, DEFAULT_RETRY_DELAY_SECS, None)
    );
    assert_eq!(config(&[base[0], base[1], ("WEBHOOK_TIMEOUT_MS", "0")]).unwrap_err().variable, "WEBHOOK_TIMEOUT_MS");
    assert_eq!(config(&[base[0], base[1], ("WEBHOOK_EVENTS", "session.nope")]).unwrap_err().variable, "WEBHOOK_EVENTS");
    let c = config(&[base[0], base[1], ("WEBHOOK_EVENTS", "session.revoked, session.expired")]).unwrap().unwrap();
    assert_eq!(c.events, Some(vec![EventType::SessionRevoked, EventType::SessionExpired]));
    assert!(c.sends("session.revoked") && !c.sends("session.created"));
}

#[test]
fn retries_back_off_exponentially_and_are_capped() {
    let c = config(&[
        ("WEBHOOK_URL", "https://h.example/"),
        ("WEBHOOK_SECRET", SECRET),
        ("WEBHOOK_RETRY_DELAY_SECS", "10"),
    ])
    .unwrap()
    .unwrap();
    assert_eq!([1, 2, 3, 4].map(|a| c.retry_delay(a)), [10, 20, 40, 80]);
    assert_eq!(c.retry_delay(60), MAX_RETRY_DELAY_SECS);
}

#[test]
fn the_signed_content_and_header_follow_the_specification() {
    assert_eq!(signed_content("msg_1", 1614265330, r#"{"a":1}"#), r#"msg_1.1614265330.{"a":1}"#);
    assert_eq!(signature_header(&[[0xfb, 0xff, 0x00]]), "v1,+/8A");
    // One per secret while WEBHOOK_SECRET_PREVIOUS is set, separated by a space.
    assert_eq!(signature_header(&[vec![0xfb, 0xff, 0x00], vec![0x00]]), "v1,+/8A v1,AA==");
}

#[test]
fn the_previous_secret_is_optional_and_parsed_like_the_secret() {
    let base = [("WEBHOOK_URL", "https://h.example/"), ("WEBHOOK_SECRET", SECRET)];
    let c = config(&base).unwrap().unwrap();
    assert_eq!(c.previous_secret, None);
    assert_eq!(c.secrets().count(), 1);
    assert_eq!(config(&[base[0], base[1], ("WEBHOOK_SECRET_PREVIOUS", " ")]).unwrap().unwrap().previous_secret, None);

    let previous = "whsec_bmV4dC1zZWNyZXQtZm9yLXJvdGF0aW9uLXRlc3Q=";
    let c = config(&[base[0], base[1], ("WEBHOOK_SECRET_PREVIOUS", previous)]).unwrap().unwrap();
    let keys: Vec<&[u8]> = c.secrets().map(|s| s.key_bytes()).collect();
    assert_eq!(keys, [c.secret.key_bytes(), b"next-secret-for-rotation-test".as_slice()], "current first");
    for bad in ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not base64!", "whsec_c2hvcnQ="] {
        let e = config(&[base[0], base[1], ("WEBHOOK_SECRET_PREVIOUS", bad)]).unwrap_err();
        assert_eq!(e.variable, "WEBHOOK_SECRET_PREVIOUS");
        assert!(!e.reason.contains("MfKQ"), "the message never echoes the secret");
    }
}
