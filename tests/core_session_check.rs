//! The one session check: each refusal, the order they are reported in, and the
//! copies (deciding, locating, opening) it judges differently.

use edge_sessions::core::account::AccountId;
use edge_sessions::core::config::Config;
use edge_sessions::core::policy::{LifetimeOverrides, Policy};
use edge_sessions::core::record::{SessionMeta, SessionRecord};
use edge_sessions::core::session_check::{check, Refusal, Requirement};
use edge_sessions::core::step_up::{Freshness, NotFresh};
use edge_sessions::core::token::SessionToken;

const T0: i64 = 1_790_000_000;

/// Idle 30 min, absolute 2 h; `SESSIONS_NOT_BEFORE` when given.
fn config(not_before: Option<i64>) -> Config {
    let mut vars = vec![("IDLE_TTL_SECS", "1800".to_owned()), ("ABSOLUTE_TTL_SECS", "7200".to_owned())];
    if let Some(at) = not_before {
        vars.push(("SESSIONS_NOT_BEFORE", at.to_string()));
    }
    Config::from_vars(|name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone())).unwrap()
}

/// A session created (and authenticated, at aal1) at `T0`.
fn record() -> SessionRecord {
    let policy = Policy::new(1800, 7200, 300, 3).unwrap();
    let session_id = SessionToken::from_random_bytes([7; 32]).session_id();
    let account = AccountId::parse("acct-1").unwrap();
    policy.start(account, session_id, SessionMeta::default(), LifetimeOverrides::default(), T0).unwrap()
}

#[test]
fn a_live_session_passes_and_each_deadline_refuses_at_its_instant() {
    let (c, r) = (config(None), record());
    assert_eq!(check(&c, &r, &Requirement::live(), T0), Ok(()));
    assert_eq!(check(&c, &r, &Requirement::live(), T0 + 1799), Ok(()));
    assert_eq!(check(&c, &r, &Requirement::live(), T0 + 1800), Err(Refusal::ExpiredIdle));
    let used = SessionRecord { idle_expires_at: T0 + 7200, ..r };
    assert_eq!(check(&c, &used, &Requirement::live(), T0 + 7199), Ok(()));
    assert_eq!(check(&c, &used, &Requirement::live(), T0 + 7200), Err(Refusal::ExpiredAbsolute));
}

#[test]
fn the_cut_off_refuses_sessions_authenticated_before_it_even_when_alive() {
    let r = record();
    assert_eq!(check(&config(Some(T0 + 1)), &r, &Requirement::live(), T0 + 5), Err(Refusal::CutOff));
    assert_eq!(check(&config(Some(T0)), &r, &Requirement::live(), T0 + 5), Ok(()), "at the cut-off is after it");
    // Reported before expiry: the session is gone for good either way, and "revoked"
    // tells the holder more than "expired".
    assert_eq!(check(&config(Some(T0 + 1)), &r, &Requirement::live(), T0 + 9000), Err(Refusal::CutOff));
}

#[test]
fn a_locating_copy_is_judged_only_by_what_no_touch_moves() {
    let (c, r) = (config(None), record());
    // Idle-expired by this copy, but a touch may have moved the deadline in the index.
    assert_eq!(check(&c, &r, &Requirement::locating(), T0 + 1800), Ok(()));
    assert_eq!(check(&c, &r, &Requirement::locating(), T0 + 7200), Err(Refusal::ExpiredAbsolute));
    assert_eq!(check(&config(Some(T0 + 1)), &r, &Requirement::locating(), T0), Err(Refusal::CutOff));
}

#[test]
fn an_opening_session_is_fenced_by_revoke_all_and_by_the_cut_off() {
    let (c, r) = (config(None), record());
    let ms = |secs: i64| secs * 1000;
    let login = ms(T0) + 400;
    assert_eq!(check(&c, &r, &Requirement::opening(None, login), T0), Ok(()));
    assert_eq!(check(&c, &r, &Requirement::opening(Some(ms(T0 - 1)), login), T0), Ok(()), "after the fence");
    // Within one second, the milliseconds decide, both ways.
    assert_eq!(check(&c, &r, &Requirement::opening(Some(login - 1), login), T0), Ok(()));
    assert_eq!(check(&c, &r, &Requirement::opening(Some(login), login), T0), Ok(()), "not strictly before");
    assert_eq!(check(&c, &r, &Requirement::opening(Some(login + 1), login), T0), Err(Refusal::Fenced));
    assert_eq!(check(&c, &r, &Requirement::opening(Some(ms(T0 + 1)), login), T0 + 1), Err(Refusal::Fenced));
    assert_eq!(check(&config(Some(T0 + 1)), &r, &Requirement::opening(None, login), T0 + 1), Err(Refusal::Fenced));
}

#[test]
fn freshness_refuses_with_what_failed_and_when_the_user_last_authenticated() {
    let (c, r) = (config(None), record());
    let recent = Freshness { max_age_secs: Some(300), min_aal: None };
    assert_eq!(check(&c, &r, &Requirement::live().fresh(recent), T0 + 300), Ok(()));
    let refusal = check(&c, &r, &Requirement::live().fresh(recent), T0 + 301);
    let too_old = NotFresh { too_old: true, too_weak: false };
    assert_eq!(refusal, Err(Refusal::NotFresh { authenticated_at: T0, aal: 1, failed: too_old }));
    let strong = Freshness { max_age_secs: Some(300), min_aal: Some(2) };
    let both = NotFresh { too_old: true, too_weak: true };
    assert_eq!(
        check(&c, &r, &Requirement::live().fresh(strong), T0 + 301),
        Err(Refusal::NotFresh { authenticated_at: T0, aal: 1, failed: both })
    );
    // Expiry wins over freshness: reauthenticating cannot revive an expired session.
    assert_eq!(check(&c, &r, &Requirement::live().fresh(strong), T0 + 1800), Err(Refusal::ExpiredIdle));
}

#[test]
fn an_authentication_time_at_the_bottom_of_i64_is_very_old_not_fresh() {
    let c = config(None);
    let r = SessionRecord { authenticated_at: i64::MIN, ..record() };
    let recent = Freshness { max_age_secs: Some(300), min_aal: None };
    assert!(matches!(check(&c, &r, &Requirement::live().fresh(recent), T0), Err(Refusal::NotFresh { .. })));
    let parsed = edge_sessions::core::step_up::parse_authenticated_at(&serde_json::json!(i64::MIN), T0);
    assert!(parsed.is_err(), "{parsed:?}");
}
