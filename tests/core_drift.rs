//! Theft signals: the baseline, its digest, the drift classifier, DRIFT_POLICY and the
//! DBSC lowering, the session check's drift rules, and the isolate's verdict memory.

use edge_sessions::core::account::AccountId;
use edge_sessions::core::config::Config;
use edge_sessions::core::drift::*;
use edge_sessions::core::drift_memory::DriftMemory;
use edge_sessions::core::policy::{LifetimeOverrides, Policy};
use edge_sessions::core::record::{SessionMeta, SessionRecord};
use edge_sessions::core::session_check::{check, DriftRule, Refusal, Requirement};
use proptest::prelude::*;

mod common;

const CHROME_131: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const CHROME_132: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/132.0.6834.83 Safari/537.36";
const CHROME_131_PATCH: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.205 Safari/537.36";
const FIREFOX_WIN: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";
const CHROME_MAC: &str =
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

fn client(asn: u32, country: &'static str, tls: &'static str, ua: &'static str) -> ClientSignals<'static> {
    ClientSignals {
        asn: Some(asn),
        country: Some(country),
        tls_ciphers_sha1: Some(tls),
        tls_extensions_sha1: Some("ext"),
        tls_version: Some("TLSv1.3"),
        user_agent: Some(ua),
        ..ClientSignals::default()
    }
}

fn home() -> Baseline {
    Baseline::observe(&client(3320, "DE", "tls-a", CHROME_131))
}

fn classes(observed: ClientSignals<'static>) -> Vec<DriftClass> {
    classify(&home(), &Baseline::observe(&observed))
}

#[test]
fn each_class_is_what_the_issue_names() {
    assert_eq!(classes(client(3320, "DE", "tls-a", CHROME_131)), vec![]);
    assert_eq!(classes(client(6805, "DE", "tls-a", CHROME_131)), vec![DriftClass::Asn]);
    // A new ASN abroad is a new country, not two signals.
    assert_eq!(classes(client(7922, "US", "tls-a", CHROME_131)), vec![DriftClass::Country]);
    assert_eq!(classes(client(3320, "DE", "tls-b", CHROME_131)), vec![DriftClass::Tls]);
    // A new family explains its new TLS stack: browser, not tls.
    assert_eq!(classes(client(3320, "DE", "tls-b", FIREFOX_WIN)), vec![DriftClass::Browser]);
    assert_eq!(classes(client(3320, "DE", "tls-a", CHROME_MAC)), vec![DriftClass::Browser], "a new platform");
    assert_eq!(
        classes(client(7922, "US", "tls-b", FIREFOX_WIN)),
        vec![DriftClass::Country, DriftClass::Browser],
        "everything at once"
    );
}

#[test]
fn a_browser_update_is_never_drift_even_with_its_new_tls_stack() {
    assert_eq!(classes(client(3320, "DE", "tls-a", CHROME_131_PATCH)), vec![], "a patch");
    assert_eq!(classes(client(3320, "DE", "tls-a", CHROME_132)), vec![], "a major");
    assert_eq!(classes(client(3320, "DE", "tls-b", CHROME_132)), vec![], "a major with the new TLS it brings");
    // The same TLS change under the very same user agent is drift.
    assert_eq!(classes(client(3320, "DE", "tls-b", CHROME_131_PATCH)), vec![DriftClass::Tls]);
}

#[test]
fn missing_evidence_never_counts() {
    let nothing = ClientSignals::default();
    assert!(Baseline::observe(&nothing).is_empty());
    assert_eq!(classify(&home(), &Baseline::observe(&nothing)), vec![]);
    let no_cf = ClientSignals { user_agent: Some(CHROME_131), ..ClientSignals::default() };
    assert_eq!(classify(&home(), &Baseline::observe(&no_cf)), vec![]);
    // What a create knows (the user agent) is completed at the first use, not drift...
    let at_create = Baseline::from_user_agent(Some(CHROME_131));
    assert_eq!(classify(&at_create, &home()), vec![]);
    assert_eq!(home().over(&at_create), home());
    // ...unless the first use shows another browser than the one the origin reported.
    let firefox = Baseline::observe(&client(3320, "DE", "tls-a", FIREFOX_WIN));
    assert_eq!(classify(&at_create, &firefox), vec![DriftClass::Browser]);
    // A user agent the table does not know, passed at create, is no evidence either.
    assert!(Baseline::from_user_agent(Some("Firefox")).is_empty());
    assert!(Baseline::from_user_agent(None).is_empty());
    // An observation without a field keeps the stored one.
    assert_eq!(Baseline::observe(&no_cf).over(&home()), home());
}

#[test]
fn the_tls_fingerprint_prefers_ja4_and_is_never_kept_in_the_clear() {
    let cf = client(3320, "DE", "0123456789abcdef0123456789abcdef01234567", CHROME_131);
    let plain = Baseline::observe(&cf);
    let with_ja4 = Baseline::observe(&ClientSignals { ja4: Some("t13d1516h2_8daaf6152771_02713d6af862"), ..cf });
    assert_ne!(plain.tls, with_ja4.tls);
    for b in [&plain, &with_ja4] {
        let json = serde_json::to_string(b).unwrap();
        assert!(!json.contains("0123456789abcdef01") && !json.contains("8daaf6152771"), "{json}");
        assert_eq!(b.tls.as_ref().unwrap().len(), 16);
    }
}

#[test]
fn the_digest_moves_with_every_signal_and_only_with_them() {
    let d = home().digest();
    assert_eq!(d, Baseline::observe(&client(3320, "DE", "tls-a", CHROME_131)).digest());
    assert_eq!(d, Baseline::observe(&client(3320, "de", "tls-a", CHROME_131)).digest(), "country case");
    for other in [
        client(6805, "DE", "tls-a", CHROME_131),
        client(3320, "FR", "tls-a", CHROME_131),
        client(3320, "DE", "tls-b", CHROME_131),
        client(3320, "DE", "tls-a", CHROME_132),
    ] {
        assert_ne!(d, Baseline::observe(&other).digest());
    }
    // A patch version is not in the baseline at all.
    assert_eq!(d, Baseline::observe(&client(3320, "DE", "tls-a", CHROME_131_PATCH)).digest());
    assert_eq!(d.as_str().len(), 16);
}

#[test]
fn signal_lines_from_the_entry_shim_read_as_the_full_path_reads_them() {
    let headers = format!("203.0.113.7\n{CHROME_131}\n");
    let cf = "3320\nDE\ntls-a\next\nTLSv1.3\n";
    let signals = ClientSignals::from_lines(&headers, Some(cf));
    assert_eq!(Baseline::observe(&signals), home());
    assert_eq!(signals.address, Some("203.0.113.7"));
    // Without request.cf's lines, only the headers' part of the baseline is observed.
    let headers_only = Baseline::observe(&ClientSignals::from_lines(&headers, None));
    assert_eq!((headers_only.asn, headers_only.country.as_deref(), headers_only.tls.as_deref()), (None, None, None));
    assert_eq!(headers_only.browser, home().browser);
    assert!(Baseline::observe(&ClientSignals::from_lines("\n\n", Some("\n\n\n\n\n"))).is_empty());
    assert!(Baseline::observe(&ClientSignals::from_lines("", Some(""))).is_empty());
    let junk = ClientSignals::from_lines("", Some("not-a-number\nDEU\n\n\n\n"));
    assert!(Baseline::observe(&junk).is_empty(), "an unreadable ASN and a 3-letter country are no evidence");
}

#[test]
fn drift_policy_parses_and_defaults_to_log() {
    let default = DriftPolicy::parse("").unwrap();
    assert!(DriftClass::ALL.iter().all(|&c| default.action(c) == DriftAction::Log));
    let p = DriftPolicy::parse(" country=step_up, tls=revoke ,browser=strong").unwrap();
    assert_eq!(p.action(DriftClass::Country), DriftAction::StepUp);
    assert_eq!(p.action(DriftClass::Tls), DriftAction::Revoke);
    assert_eq!(p.action(DriftClass::Browser), DriftAction::Strong);
    assert_eq!(p.action(DriftClass::Asn), DriftAction::Log);
    for bad in ["country", "city=log", "country=ban", "country=log,country=revoke", "country=log,", "=log"] {
        assert!(DriftPolicy::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn a_bad_drift_policy_is_a_config_error_naming_the_variable() {
    let err = Config::from_vars(|name: &str| (name == "DRIFT_POLICY").then(|| "tls=maybe".to_owned())).unwrap_err();
    assert_eq!(err.variable, "DRIFT_POLICY");
    assert!(err.to_string().contains("maybe"), "{err}");
    let ok = Config::from_vars(|name: &str| (name == "DRIFT_POLICY").then(|| "asn=revoke".to_owned())).unwrap();
    assert_eq!(ok.drift_policy.action(DriftClass::Asn), DriftAction::Revoke);
}

#[test]
fn the_strictest_class_decides_and_a_device_bound_session_gets_one_step_less() {
    let p = DriftPolicy::parse("country=step_up,tls=revoke,browser=strong").unwrap();
    assert_eq!(p.decide(&[], false), None);
    assert_eq!(p.decide(&[DriftClass::Asn], false), Some(DriftAction::Log));
    assert_eq!(p.decide(&[DriftClass::Country, DriftClass::Browser], false), Some(DriftAction::StepUp));
    assert_eq!(p.decide(&[DriftClass::Country, DriftClass::Tls], false), Some(DriftAction::Revoke));
    assert_eq!(p.decide(&[DriftClass::Tls], true), Some(DriftAction::StepUp));
    assert_eq!(p.decide(&[DriftClass::Country], true), Some(DriftAction::Strong));
    assert_eq!(p.decide(&[DriftClass::Browser], true), Some(DriftAction::Log));
    assert_eq!(p.decide(&[DriftClass::Asn], true), Some(DriftAction::Log));
}

#[test]
fn the_anomaly_carries_coarse_values_only() {
    let away = Baseline::observe(&client(7922, "US", "tls-b", FIREFOX_WIN));
    let anomaly = Anomaly::new(&home(), &away, classify(&home(), &away), DriftAction::StepUp);
    let json = serde_json::to_value(anomaly.data()).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "signals": ["country", "browser"],
            "action": "step_up",
            "country": {"from": "DE", "to": "US"},
            "asn": {"from": 3320, "to": 7922},
            "browser": {"from": "Chrome on Windows", "to": "Firefox on Windows"},
        })
    );
    let text = json.to_string();
    assert!(!text.contains("tls-") && !text.contains(home().tls.as_deref().unwrap()), "no fingerprint: {text}");
}

fn record() -> SessionRecord {
    let policy = Policy::new(1800, 7200, 300, 3).unwrap();
    let session_id = common::token(7).session_id();
    let account = AccountId::parse("acct-1").unwrap();
    policy.start(account, session_id, SessionMeta::default(), LifetimeOverrides::default(), common::T0).unwrap()
}

fn stamped(hold: Option<DriftHold>) -> SessionRecord {
    let mut r = record();
    r.baseline = Some(BaselineStamp::of(&home(), hold));
    r
}

#[test]
fn the_session_check_compares_the_digest_and_honours_holds() {
    let config = Config::from_vars(|_: &str| None).unwrap();
    let now = common::T0 + 1;
    let same = Some(home().digest());
    let moved = Some(Baseline::observe(&client(7922, "US", "tls-a", CHROME_131)).digest());
    let compare = |observed: &Option<BaselineDigest>, strong| {
        Requirement::live().drift(DriftRule::Compare { observed: observed.clone(), strong })
    };
    let plain = stamped(None);
    assert_eq!(check(&config, &plain, &compare(&same, false), now), Ok(()));
    assert_eq!(check(&config, &plain, &compare(&moved, false), now), Err(Refusal::Unclassified));
    assert_eq!(check(&config, &plain, &compare(&None, false), now), Ok(()), "no signals, nothing to compare");
    assert_eq!(check(&config, &plain, &Requirement::live(), now), Ok(()));
    // No baseline yet: the first use by a client is the object's to record.
    let fresh = record();
    assert_eq!(check(&config, &fresh, &compare(&same, false), now), Err(Refusal::Unclassified));
    assert_eq!(check(&config, &fresh, &Requirement::live(), now), Ok(()));

    let step_up = stamped(Some(DriftHold::StepUp));
    assert_eq!(check(&config, &step_up, &compare(&same, false), now), Err(Refusal::DriftStepUp));
    assert_eq!(
        check(&config, &step_up, &Requirement::live(), now),
        Err(Refusal::DriftStepUp),
        "the object's commands too"
    );
    assert_eq!(check(&config, &step_up, &Requirement::live().drift(DriftRule::Ignored), now), Ok(()));

    let strong = stamped(Some(DriftHold::Strong));
    assert_eq!(check(&config, &strong, &compare(&moved, false), now), Err(Refusal::DriftStrong));
    assert_eq!(check(&config, &strong, &compare(&moved, true), now), Ok(()), "a strong check meets it");
    assert_eq!(check(&config, &strong, &Requirement::live(), now), Ok(()));
    // An expired session is reported as expired, whatever its drift.
    let late = plain.absolute_expires_at;
    assert_eq!(check(&config, &plain, &compare(&moved, false), late), Err(Refusal::ExpiredAbsolute));
}

#[test]
fn the_isolate_remembers_one_verdict_per_session_and_change() {
    let mut memory = DriftMemory::new(3);
    let (a, b) = (common::token(1).hash(), common::token(2).hash());
    let us = Baseline::observe(&client(7922, "US", "tls-a", CHROME_131)).digest();
    let fr = Baseline::observe(&client(3215, "FR", "tls-a", CHROME_131)).digest();
    assert_eq!(memory.verdict(&a, &us), None);
    memory.remember(&a, &us, DriftVerdict::StepUp);
    assert_eq!(memory.verdict(&a, &us), Some(DriftVerdict::StepUp));
    assert_eq!(memory.verdict(&a, &fr), None, "another change is asked about again");
    assert_eq!(memory.verdict(&b, &us), None, "another session too");
    for n in 0..10u8 {
        memory.remember(&common::token(n).hash(), &us, DriftVerdict::Accepted);
        assert!(memory.len() <= 3);
    }
}

fn any_signals() -> impl Strategy<Value = (u32, &'static str, &'static str, &'static str)> {
    (
        prop::sample::select(vec![3320u32, 6805, 7922, 13335]),
        prop::sample::select(vec!["DE", "US", "FR"]),
        prop::sample::select(vec!["tls-a", "tls-b"]),
        prop::sample::select(vec![CHROME_131, CHROME_132, CHROME_131_PATCH, FIREFOX_WIN, CHROME_MAC]),
    )
}

proptest! {
    /// With the default policy nothing ever escalates; with any policy, a change of ASN
    /// within a country does only what `asn=` says, and a browser update does nothing.
    #[test]
    fn defaults_never_escalate_and_updates_never_count((asn, country, tls, ua) in any_signals(), (asn2, tls2) in (prop::sample::select(vec![3320u32, 6805, 7922]), prop::sample::select(vec!["tls-a", "tls-b"]))) {
        let stored = Baseline::observe(&client(asn, country, tls, ua));
        let default = DriftPolicy::default();
        let moved = Baseline::observe(&client(asn2, country, tls2, ua));
        let found = classify(&stored, &moved);
        prop_assert!(matches!(default.decide(&found, false), None | Some(DriftAction::Log)));
        prop_assert!(!found.contains(&DriftClass::Country) && !found.contains(&DriftClass::Browser));
        let strict = DriftPolicy::parse("country=revoke,tls=revoke,browser=revoke").unwrap();
        if tls2 == tls {
            prop_assert!(matches!(strict.decide(&found, false), None | Some(DriftAction::Log)), "an ASN move in {country}");
        }
        // Updating Chrome 131 to 132 (or a patch) with everything else the same is no drift.
        if ua == CHROME_131 {
            for update in [CHROME_132, CHROME_131_PATCH] {
                let updated = Baseline::observe(&client(asn, country, tls2, update));
                let classes = classify(&stored, &updated);
                prop_assert!(strict.decide(&classes, false).is_none() || (update == CHROME_131_PATCH && tls2 != tls));
            }
        }
    }
}
