//! Authentication facts and the freshness rule.

use edge_sessions::core::step_up::*;
use serde_json::json;

const NOW: i64 = 1_790_000_000;

#[test]
fn authenticated_at_takes_rfc3339_or_unix_seconds_within_ten_minutes_and_never_ahead() {
    let secs = |v: serde_json::Value, now| parse_authenticated_at(&v, now).map(|at| at.secs);
    assert_eq!(secs(json!(NOW - 600), NOW), Ok(NOW - 600));
    assert_eq!(secs(json!(NOW), NOW), Ok(NOW));
    assert_eq!(secs(json!("2026-09-21T14:13:20Z"), 1_790_000_000), Ok(1_790_000_000));
    assert_eq!(secs(json!("2026-09-21T16:13:10+02:00"), NOW), Ok(NOW - 10));
    assert_eq!(secs(json!(NOW - 601), NOW), Err(AuthFactsError::AuthenticatedAtTooOld));
    assert_eq!(secs(json!(NOW + 1), NOW), Err(AuthFactsError::AuthenticatedAtFuture));
    for bad in [json!("yesterday"), json!(1.5), json!(null), json!([NOW]), json!(true)] {
        assert_eq!(parse_authenticated_at(&bad, NOW), Err(AuthFactsError::AuthenticatedAtFormat), "{bad}");
    }
}

#[test]
fn a_fraction_gives_the_login_to_the_millisecond_and_a_whole_second_counts_as_its_end() {
    let at = |v: serde_json::Value| parse_authenticated_at(&v, NOW).unwrap();
    // 1_790_000_000 is 2026-09-21T14:13:20Z.
    assert_eq!(
        at(json!("2026-09-21T14:13:19.250Z")),
        AuthenticatedAt { secs: NOW - 1, millis: (NOW - 1) * 1000 + 250 }
    );
    assert_eq!(at(json!("2026-09-21T14:13:19.000Z")).millis, (NOW - 1) * 1000, "a fraction of zero is still exact");
    assert_eq!(at(json!("2026-09-21T14:13:19.9999Z")).millis, (NOW - 1) * 1000 + 999, "truncated, never rounded up");
    assert_eq!(at(json!("2026-09-21T14:13:19Z")).millis, (NOW - 1) * 1000 + 999);
    assert_eq!(at(json!(NOW - 1)).millis, (NOW - 1) * 1000 + 999);
    // The future is judged in whole seconds: an origin clock a little ahead is still now.
    assert_eq!(at(json!("2026-09-21T14:13:20.900Z")).secs, NOW);
    assert_eq!(AuthenticatedAt::whole_second(i64::MAX).millis, i64::MAX, "saturates");
    assert_eq!(AuthenticatedAt::exact(-1), AuthenticatedAt { secs: -1, millis: -1 }, "floors before the epoch");
}

#[test]
fn aal_is_one_to_three_and_amr_is_short_and_plain() {
    assert!(check_auth_facts(1, &[]).is_ok());
    assert!(check_auth_facts(3, &["pwd".into(), "otp".into(), "web-authn_2".into()]).is_ok());
    assert_eq!(check_auth_facts(0, &[]), Err(AuthFactsError::Aal));
    assert_eq!(check_auth_facts(4, &[]), Err(AuthFactsError::Aal));
    let nine: Vec<String> = (0..9).map(|i| format!("m{i}")).collect();
    assert_eq!(check_auth_facts(1, &nine), Err(AuthFactsError::AmrTooMany));
    assert!(check_auth_facts(1, &nine[..8]).is_ok());
    for bad in ["", "PWD", "p w d", "pwd\n", &"x".repeat(33), "ünï"] {
        assert_eq!(check_auth_facts(1, &[bad.to_string()]), Err(AuthFactsError::AmrEntry), "{bad:?}");
    }
    assert!(check_auth_facts(1, &["x".repeat(32)]).is_ok());
}

#[test]
fn freshness_is_measured_from_the_last_authentication() {
    let asks = Freshness::parse(Some("300"), None).unwrap();
    assert_eq!(asks.check(NOW - 300, 1, NOW), Ok(()));
    assert_eq!(asks.check(NOW - 301, 1, NOW), Err(NotFresh { too_old: true, too_weak: false }));
    let both = Freshness::parse(Some("60"), Some("2")).unwrap();
    assert_eq!(both.check(NOW - 61, 1, NOW), Err(NotFresh { too_old: true, too_weak: true }));
    assert_eq!(both.check(NOW - 10, 1, NOW), Err(NotFresh { too_old: false, too_weak: true }));
    assert_eq!(both.check(NOW - 10, 3, NOW), Ok(()));
    assert!(!Freshness::parse(None, None).unwrap().is_required());
    assert_eq!(Freshness::default().check(0, 1, NOW), Ok(()));
    // `60.0` is a whole number in a query too, as in a JSON body.
    assert_eq!(Freshness::parse(Some("60.0"), Some("2.0")).unwrap(), Freshness::parse(Some("60"), Some("2")).unwrap());
}

#[test]
fn malformed_freshness_parameters_name_the_parameter() {
    for bad in ["-1", "abc", "1.5", "", "99999999999999", "6e1", "+60", "60.00"] {
        assert!(Freshness::parse(Some(bad), None).unwrap_err().contains("max_age"), "{bad}");
    }
    for bad in ["0", "4", "x", "-1"] {
        assert!(Freshness::parse(None, Some(bad)).unwrap_err().contains("min_aal"), "{bad}");
    }
}
