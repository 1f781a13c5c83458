//! The session record and the lifecycle policy.

use edge_sessions::core::account::AccountId;
use edge_sessions::core::device_binding::DeviceBinding;
use edge_sessions::core::drift::{Baseline, BaselineStamp, DriftHold};
use edge_sessions::core::policy::*;
use edge_sessions::core::record::*;
use edge_sessions::core::token::SessionId;

mod common;
use common::T0;

fn sid(n: u8) -> SessionId {
    common::token(n).session_id()
}

fn policy() -> Policy {
    // idle 30 min, absolute 2 h, touch every 5 min, 3 sessions.
    Policy::new(1800, 7200, 300, 3).unwrap()
}

fn record_at(now: i64) -> SessionRecord {
    policy()
        .start(AccountId::parse("acct-1").unwrap(), sid(1), SessionMeta::default(), LifetimeOverrides::default(), now)
        .unwrap()
}

#[test]
fn defaults_are_30_minutes_idle_30_days_absolute_10_sessions() {
    let p = Policy::default();
    assert_eq!((p.idle_timeout_secs, p.absolute_lifetime_secs, p.max_sessions), (1800, 2_592_000, 10));
    assert!(p.touch_interval_secs > 0 && p.touch_interval_secs < p.idle_timeout_secs);
}

#[test]
fn start_sets_both_deadlines_from_now() {
    let r = record_at(T0);
    assert_eq!((r.created_at, r.last_seen_at), (T0, T0));
    assert_eq!(r.idle_expires_at, T0 + 1800);
    assert_eq!(r.absolute_expires_at, T0 + 7200);
    assert_eq!(r.idle_timeout_secs, 1800);
}

#[test]
fn overrides_may_only_shorten() {
    let p = policy();
    let acct = AccountId::parse("a").unwrap();
    let short = LifetimeOverrides { idle_timeout_secs: Some(60), absolute_lifetime_secs: Some(600) };
    let r = p.start(acct.clone(), sid(1), SessionMeta::default(), short, T0).unwrap();
    assert_eq!((r.idle_expires_at, r.absolute_expires_at, r.idle_timeout_secs), (T0 + 60, T0 + 600, 60));

    let idle_longer = LifetimeOverrides { idle_timeout_secs: Some(1801), ..Default::default() };
    assert_eq!(
        p.start(acct.clone(), sid(1), SessionMeta::default(), idle_longer, T0).unwrap_err().field,
        "idle_ttl_secs"
    );
    let abs_zero = LifetimeOverrides { absolute_lifetime_secs: Some(0), ..Default::default() };
    assert_eq!(
        p.start(acct.clone(), sid(1), SessionMeta::default(), abs_zero, T0).unwrap_err().field,
        "absolute_ttl_secs"
    );
    // An absolute lifetime shorter than the idle timeout caps the idle deadline too.
    let abs_short = LifetimeOverrides { absolute_lifetime_secs: Some(100), ..Default::default() };
    let r = p.start(acct, sid(1), SessionMeta::default(), abs_short, T0).unwrap();
    assert_eq!((r.idle_expires_at, r.absolute_expires_at), (T0 + 100, T0 + 100));
}

#[test]
fn check_is_valid_until_exactly_the_idle_deadline() {
    let p = policy();
    let r = record_at(T0);
    assert_eq!(p.check(&r, T0), Validity::Valid);
    assert_eq!(p.check(&r, T0 + 1799), Validity::Valid);
    assert_eq!(p.check(&r, T0 + 1800), Validity::ExpiredIdle, "deadline itself is expired");
    assert_eq!(p.check(&r, T0 + 1801), Validity::ExpiredIdle);
}

#[test]
fn check_reports_absolute_when_both_deadlines_passed() {
    let p = policy();
    let mut r = record_at(T0);
    r.idle_expires_at = r.absolute_expires_at;
    assert_eq!(p.check(&r, T0 + 7199), Validity::Valid);
    assert_eq!(p.check(&r, T0 + 7200), Validity::ExpiredAbsolute);
}

#[test]
fn touch_waits_for_the_touch_interval() {
    let p = policy();
    let r = record_at(T0);
    assert_eq!(p.touch(&r, T0), Touch::NotDue);
    assert_eq!(p.touch(&r, T0 + 299), Touch::NotDue);
    let Touch::Extended(t) = p.touch(&r, T0 + 300) else { panic!("due at exactly the interval") };
    assert_eq!((t.last_seen_at, t.idle_expires_at), (T0 + 300, T0 + 300 + 1800));
    assert_eq!((t.created_at, t.absolute_expires_at), (r.created_at, r.absolute_expires_at));
    // The next touch is measured from the last extension.
    assert_eq!(p.touch(&t, T0 + 599), Touch::NotDue);
    assert!(matches!(p.touch(&t, T0 + 600), Touch::Extended(_)));
}

#[test]
fn touch_just_before_the_absolute_cap_is_clamped() {
    let p = policy();
    let mut r = record_at(T0);
    r.last_seen_at = T0 + 5000;
    r.idle_expires_at = T0 + 6800;
    let Touch::Extended(t) = p.touch(&r, T0 + 6799) else { panic!("valid one second before its idle deadline") };
    assert_eq!(t.idle_expires_at, T0 + 7200, "clamped to the absolute deadline");
    // Once clamped, further touches have nothing to extend.
    assert_eq!(p.touch(&t, T0 + 7199), Touch::NotDue);
    assert_eq!(p.refresh(&t, T0 + 7199), Touch::NotDue);
    assert_eq!(p.touch(&t, T0 + 7200), Touch::Expired(Validity::ExpiredAbsolute));
}

#[test]
fn touch_never_revives_an_expired_session() {
    let p = policy();
    let r = record_at(T0);
    assert_eq!(p.touch(&r, T0 + 1800), Touch::Expired(Validity::ExpiredIdle));
    assert_eq!(p.refresh(&r, T0 + 1800), Touch::Expired(Validity::ExpiredIdle));
}

#[test]
fn steady_touching_never_passes_the_absolute_cap() {
    let p = policy();
    let mut r = record_at(T0);
    let mut now = T0;
    while p.check(&r, now) == Validity::Valid {
        if let Touch::Extended(t) = p.touch(&r, now) {
            assert!(t.idle_expires_at <= t.absolute_expires_at);
            r = t;
        }
        now += 60;
    }
    assert_eq!(p.check(&r, now), Validity::ExpiredAbsolute);
    assert!((T0 + 7200..T0 + 7200 + 60).contains(&now));
}

#[test]
fn refresh_extends_before_the_touch_interval_but_not_within_its_own_window() {
    let p = policy(); // touch interval 300
    let r = record_at(T0);
    // Within REFRESH_MIN_INTERVAL_SECS of the last extension: answered without a write.
    assert_eq!(p.refresh(&r, T0 + 1), Touch::NotDue);
    assert_eq!(p.refresh(&r, T0 + REFRESH_MIN_INTERVAL_SECS - 1), Touch::NotDue);
    // After it, though the touch interval has not passed: extended.
    let Touch::Extended(t) = p.refresh(&r, T0 + REFRESH_MIN_INTERVAL_SECS) else { panic!() };
    assert_eq!(t.idle_expires_at, T0 + REFRESH_MIN_INTERVAL_SECS + 1800);
    assert_eq!(p.touch(&r, T0 + REFRESH_MIN_INTERVAL_SECS), Touch::NotDue);
}

#[test]
fn a_refresh_loop_writes_at_most_once_per_window() {
    let p = policy();
    let mut r = record_at(T0);
    let mut writes = 0;
    for now in T0..T0 + 100 {
        if let Touch::Extended(t) = p.refresh(&r, now) {
            writes += 1;
            r = t;
        }
    }
    // T0 is the creation (the last extension), so the first write is at T0 + 10.
    assert_eq!(writes, 9);
}

#[test]
fn a_short_idle_override_is_touched_within_its_own_window() {
    // The issue as reported: IDLE_TTL_SECS 60, TOUCH_INTERVAL_SECS 5, a session created
    // with idle_ttl_secs 4, used once a second. Every use must find it valid.
    let p = Policy::new(60, 3600, 5, 10).unwrap();
    let overrides = LifetimeOverrides { idle_timeout_secs: Some(4), absolute_lifetime_secs: None };
    let mut r = p.start(AccountId::parse("a").unwrap(), sid(1), SessionMeta::default(), overrides, T0).unwrap();
    assert_eq!(p.touch_interval_for(&r), 2, "half the session's own idle window");
    for now in T0..T0 + 30 {
        assert_eq!(p.check(&r, now), Validity::Valid, "logged out at +{}", now - T0);
        if let Touch::Extended(t) = p.touch(&r, now) {
            r = t;
        }
    }
    // A session with the configured window keeps the configured interval.
    assert_eq!(p.touch_interval_for(&record_at(T0)), p.touch_interval_secs.min(1800 / 2));
}

#[test]
fn configurations_that_outrun_kv_propagation_warn_naming_both_variables() {
    assert!(Policy::new(1800, 7200, 300, 3).unwrap().warnings().is_empty());
    assert!(Policy::new(360, 7200, 300, 3).unwrap().warnings().is_empty(), "exactly 60 s of slack is enough");
    let warnings = Policy::new(60, 7200, 5, 3).unwrap().warnings();
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].contains("IDLE_TTL_SECS") && warnings[0].contains("TOUCH_INTERVAL_SECS"), "{}", warnings[0]);
}

#[test]
fn kv_ttl_follows_the_idle_deadline_with_a_60_second_floor() {
    let p = policy();
    let r = record_at(T0);
    assert_eq!(p.kv_ttl(&r, T0), 1800);
    assert_eq!(p.kv_ttl(&r, T0 + 1700), 100);
    assert_eq!(p.kv_ttl(&r, T0 + 1790), 60);
    assert_eq!(p.kv_ttl(&r, T0 + 1800), 60);
    assert_eq!(p.kv_ttl(&r, T0 + 100_000), 60);
}

#[test]
fn evict_drops_the_oldest_to_make_room() {
    let p = policy(); // max 3
    let entry = |n: u8, at| IndexEntry { session_id: sid(n), created_at: at, seq: i64::from(n) };
    assert!(p.evict(&[]).is_empty());
    assert!(p.evict(&[entry(1, 10), entry(2, 20)]).is_empty());
    assert_eq!(p.evict(&[entry(1, 30), entry(2, 10), entry(3, 20)]), vec![sid(2)]);
    // Already over the limit (e.g. the limit was lowered): drop enough to fit.
    let five = [entry(1, 50), entry(2, 40), entry(3, 30), entry(4, 20), entry(5, 10)];
    assert_eq!(p.evict(&five), vec![sid(5), sid(4), sid(3)]);
    assert_eq!(evict_oldest(&five, 1).len(), 5);
}

#[test]
fn evict_breaks_same_second_ties_by_insertion_order() {
    // Two sessions created in the same second: the one indexed first goes first,
    // whatever their (random) ids are.
    let first = IndexEntry { session_id: sid(9), created_at: 10, seq: 1 };
    let second = IndexEntry { session_id: sid(1), created_at: 10, seq: 2 };
    assert_eq!(evict_oldest(&[second.clone(), first.clone()], 2), vec![sid(9)]);
    assert_eq!(evict_oldest(&[first, second], 2), vec![sid(9)]);
}

#[test]
fn policy_rejects_settings_that_cannot_work() {
    assert_eq!(Policy::new(0, 100, 0, 1).unwrap_err().variable, "IDLE_TTL_SECS");
    assert_eq!(Policy::new(200, 100, 0, 1).unwrap_err().variable, "IDLE_TTL_SECS");
    assert_eq!(Policy::new(100, 0, 0, 1).unwrap_err().variable, "ABSOLUTE_TTL_SECS");
    assert_eq!(Policy::new(100, 200, 100, 1).unwrap_err().variable, "TOUCH_INTERVAL_SECS");
    assert_eq!(Policy::new(100, 200, -1, 1).unwrap_err().variable, "TOUCH_INTERVAL_SECS");
    assert_eq!(Policy::new(100, 200, 0, 0).unwrap_err().variable, "MAX_SESSIONS_PER_ACCOUNT");
    assert_eq!(Policy::new(100, 200, 0, 1001).unwrap_err().variable, "MAX_SESSIONS_PER_ACCOUNT");
    assert!(Policy::new(2, 2, 0, 1).is_ok());
}

/// The record the golden encodings describe, before any v3 field.
fn golden_record() -> SessionRecord {
    let mut r = record_at(T0);
    r.session_id = SessionId::parse("sid_0123456789abcdef0123456789abcdef").unwrap();
    r.meta = SessionMeta { ip: Some("203.0.113.9".into()), user_agent: Some("Firefox".into()), label: None };
    r.authenticated_at = T0 - 30;
    r.aal = 2;
    r.amr = vec!["pwd".into(), "otp".into()];
    r
}

#[test]
fn the_v3_encoding_is_pinned_and_v2_records_still_read() {
    let mut r = golden_record();
    // The v2 golden record, exactly as builds before v3 wrote it: it reads unbound.
    let v2 = r#"{"v":2,"account_id":"acct-1","session_id":"sid_0123456789abcdef0123456789abcdef","created_at":1790000000,"last_seen_at":1790000000,"idle_timeout_secs":1800,"idle_expires_at":1790001800,"absolute_expires_at":1790007200,"meta":{"ip":"203.0.113.9","user_agent":"Firefox"},"authenticated_at":1789999970,"aal":2,"amr":["pwd","otp"]}"#;
    assert_eq!(SessionRecord::decode(v2.as_bytes()).unwrap(), r);
    assert_eq!(r.encode(), v2.replace(r#"{"v":2"#, r#"{"v":3"#));
    r.device_binding =
        Some(DeviceBinding { jkt: "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs".into(), bound_at: T0 + 5 });
    let golden = r#"{"v":3,"account_id":"acct-1","session_id":"sid_0123456789abcdef0123456789abcdef","created_at":1790000000,"last_seen_at":1790000000,"idle_timeout_secs":1800,"idle_expires_at":1790001800,"absolute_expires_at":1790007200,"meta":{"ip":"203.0.113.9","user_agent":"Firefox"},"authenticated_at":1789999970,"aal":2,"amr":["pwd","otp"],"device_binding":{"jkt":"NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs","bound_at":1790000005}}"#;
    assert_eq!(r.encode(), golden);
    assert_eq!(SessionRecord::decode(golden.as_bytes()).unwrap(), r);
    // A v2 record cannot carry a v3 field, nor a v3 one a thumbprint that is not one.
    assert!(SessionRecord::decode(golden.replace(r#"{"v":3"#, r#"{"v":2"#).as_bytes()).is_err());
    assert!(SessionRecord::decode(golden.replace("NzbLsXh8", "short").as_bytes()).is_err());
}

#[test]
fn the_v3_baseline_is_pinned() {
    let mut r = golden_record();
    let baseline = Baseline { country: Some("DE".into()), asn: Some(3320), ..Baseline::default() };
    r.baseline = Some(BaselineStamp::of(&baseline, Some(DriftHold::StepUp)));
    let golden = r#"{"v":3,"account_id":"acct-1","session_id":"sid_0123456789abcdef0123456789abcdef","created_at":1790000000,"last_seen_at":1790000000,"idle_timeout_secs":1800,"idle_expires_at":1790001800,"absolute_expires_at":1790007200,"meta":{"ip":"203.0.113.9","user_agent":"Firefox"},"authenticated_at":1789999970,"aal":2,"amr":["pwd","otp"],"baseline":{"digest":"DIGEST","country":"DE","hold":"step_up"}}"#;
    let golden = golden.replace("DIGEST", baseline.digest().as_str());
    assert_eq!(r.encode(), golden);
    assert_eq!(SessionRecord::decode(golden.as_bytes()).unwrap(), r);
    // The digest itself is pinned too: changing how it is computed makes every stored
    // session look drifted once.
    assert_eq!(baseline.digest().as_str(), "27eba3c9a2a3ce7c");
}

#[test]
fn v2_records_still_read_with_no_baseline() {
    let v2 = r#"{"v":2,"account_id":"acct-1","session_id":"sid_0123456789abcdef0123456789abcdef","created_at":1790000000,"last_seen_at":1790000000,"idle_timeout_secs":1800,"idle_expires_at":1790001800,"absolute_expires_at":1790007200,"meta":{"ip":"203.0.113.9","user_agent":"Firefox"},"authenticated_at":1789999970,"aal":2,"amr":["pwd","otp"]}"#;
    let r = SessionRecord::decode(v2.as_bytes()).unwrap();
    assert_eq!((r.v, r.aal, r.baseline), (3, 2, None));
}

#[test]
fn v1_records_still_read_as_authenticated_at_creation_at_level_1() {
    // The v1 golden record, exactly as builds before v2 wrote it (and KV may still hold).
    let v1 = r#"{"v":1,"account_id":"acct-1","session_id":"sid_0123456789abcdef0123456789abcdef","created_at":1790000000,"last_seen_at":1790000000,"idle_timeout_secs":1800,"idle_expires_at":1790001800,"absolute_expires_at":1790007200,"meta":{"ip":"203.0.113.9","user_agent":"Firefox"}}"#;
    let r = SessionRecord::decode(v1.as_bytes()).unwrap();
    assert_eq!((r.v, r.authenticated_at, r.aal, r.amr.len()), (RECORD_VERSION, T0, 1, 0));
    assert_eq!(r.meta.user_agent.as_deref(), Some("Firefox"));
    // A v1 record cannot carry v2 fields.
    let forged = v1.replacen('}', r#"},"aal":3"#, 1);
    assert!(
        SessionRecord::decode(forged.replace(r#""Firefox"}},"aal":3"#, r#""Firefox"},"aal":3}"#).as_bytes()).is_err()
    );
}

#[test]
fn decode_refuses_other_versions_junk_and_inconsistent_deadlines() {
    let good = record_at(T0).encode();
    assert!(matches!(
        SessionRecord::decode(good.replace("\"v\":3", "\"v\":4").as_bytes()),
        Err(DecodeError::UnsupportedVersion(4))
    ));
    for junk in ["", "null", "{}", "[]", "{\"v\":1}", "\u{0}\u{1}", "{\"v\":1,"] {
        assert!(matches!(SessionRecord::decode(junk.as_bytes()), Err(DecodeError::Malformed(_))), "{junk:?}");
    }
    assert!(SessionRecord::decode(&[0xff, 0xfe, 0x00]).is_err());
    let unknown_field = good.replacen('{', "{\"token\":\"x\",", 1);
    assert!(matches!(SessionRecord::decode(unknown_field.as_bytes()), Err(DecodeError::Malformed(_))));
    let bad_account = good.replace("acct-1", "../x");
    assert!(matches!(SessionRecord::decode(bad_account.as_bytes()), Err(DecodeError::Malformed(_))));
    let inverted = good.replace("\"idle_expires_at\":1790001800", "\"idle_expires_at\":1790009999");
    assert!(matches!(SessionRecord::decode(inverted.as_bytes()), Err(DecodeError::Inconsistent)));
}

#[test]
fn meta_is_bounded_and_free_of_control_characters() {
    let ok = SessionMeta {
        ip: Some("2001:db8::1".into()),
        user_agent: Some("Mozilla/5.0 (X11)".into()),
        label: Some("Laptop – home".into()),
    };
    assert_eq!(ok.validate(), Ok(()));
    let long = SessionMeta { user_agent: Some("a".repeat(USER_AGENT_MAX_LEN + 1)), ..Default::default() };
    assert_eq!(long.validate(), Err(MetaError::TooLong("user_agent")));
    let ctrl = SessionMeta { label: Some("evil\nlog line".into()), ..Default::default() };
    assert_eq!(ctrl.validate(), Err(MetaError::ControlCharacter("label")));
    for spoof in ["Chrome\u{202E}cod.exe", "zero\u{200B}width", "line\u{2028}sep", "bom\u{FEFF}"] {
        let meta = SessionMeta { user_agent: Some(spoof.into()), ..Default::default() };
        assert_eq!(meta.validate(), Err(MetaError::ControlCharacter("user_agent")), "{spoof:?}");
    }
}
