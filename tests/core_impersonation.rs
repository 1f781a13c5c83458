//! Impersonation: the request's rules, the record it opens, the cap that no path that
//! moves deadlines extends, and the session check's rule.

use edge_sessions::core::account::AccountId;
use edge_sessions::core::config::Config;
use edge_sessions::core::impersonation::{
    ImpersonationAccess, ImpersonationBody, ImpersonationError, ImpersonationRequest, ImpersonationRules, TTL_MAX_SECS,
};
use edge_sessions::core::policy::{Policy, Touch};
use edge_sessions::core::record::{MetaError, SessionRecord};
use edge_sessions::core::session_check::{check, Refusal, Requirement};
use edge_sessions::core::token::{SessionId, SessionToken};

const T0: i64 = 1_790_000_000;

fn policy() -> Policy {
    Policy::new(1800, 30 * 24 * 3600, 300, 3).unwrap()
}

fn body(actor: &str, reason: &str, ttl: serde_json::Value) -> Result<ImpersonationRequest, ImpersonationError> {
    let json = serde_json::json!({ "actor": actor, "reason": reason, "ttl_secs": ttl });
    ImpersonationRequest::parse(serde_json::from_value::<ImpersonationBody>(json).unwrap())
}

fn opened(ttl: i64) -> SessionRecord {
    let request = body("support@example.com", "ticket 4521", ttl.into()).unwrap();
    let session_id = SessionToken::from_random_bytes([9; 32]).session_id();
    request.start(&policy(), AccountId::parse("acct-1").unwrap(), session_id, T0).unwrap()
}

#[test]
fn a_request_names_an_actor_and_a_reason_and_lasts_at_most_an_hour() {
    let ok = body("support@example.com", "ticket 4521", 600.into()).unwrap();
    assert_eq!((ok.actor.as_str(), ok.reason.as_str(), ok.ttl_secs), ("support@example.com", "ticket 4521", 600));
    // Whole numbers as JSON writes them, as everywhere in the API.
    assert_eq!(body("a", "b", serde_json::json!(60.0)).unwrap().ttl_secs, 60);
    assert_eq!(body("a", "b", TTL_MAX_SECS.into()).unwrap().ttl_secs, 3600);
    for ttl in [serde_json::json!(0), serde_json::json!(3601), serde_json::json!(-5)] {
        assert_eq!(body("a", "b", ttl.clone()), Err(ImpersonationError::Ttl), "{ttl}");
    }
    let no_ttl = ImpersonationBody { actor: Some("a".into()), reason: Some("b".into()), ttl_secs: None };
    assert_eq!(ImpersonationRequest::parse(no_ttl), Err(ImpersonationError::Ttl));
    // A fraction or a string is not a whole number: refused when the body is read.
    for ttl in [serde_json::json!(60.5), serde_json::json!("60")] {
        let json = serde_json::json!({ "actor": "a", "reason": "b", "ttl_secs": ttl });
        assert!(serde_json::from_value::<ImpersonationBody>(json).is_err());
    }
}

#[test]
fn actor_and_reason_follow_the_listing_text_rules_and_may_not_be_blank() {
    assert_eq!(body("", "b", 60.into()), Err(ImpersonationError::Missing("actor")));
    assert_eq!(body("a", "  ", 60.into()), Err(ImpersonationError::Missing("reason")));
    assert_eq!(body(&"a".repeat(129), "b", 60.into()), Err(ImpersonationError::Text(MetaError::TooLong("actor"))));
    assert_eq!(body("a", &"b".repeat(257), 60.into()), Err(ImpersonationError::Text(MetaError::TooLong("reason"))));
    for spoof in ["evil\nline", "rtl\u{202E}", "zero\u{200B}width"] {
        assert_eq!(body(spoof, "b", 60.into()), Err(ImpersonationError::Text(MetaError::ControlCharacter("actor"))));
        assert_eq!(body("a", spoof, 60.into()), Err(ImpersonationError::Text(MetaError::ControlCharacter("reason"))));
    }
    // The actor travels in a header: printable ASCII only. The reason is shown, not sent.
    for actor in ["José", "サポート", "tab\there"] {
        assert!(body(actor, "b", 60.into()).is_err(), "{actor:?}");
    }
    assert_eq!(body("José", "b", 60.into()), Err(ImpersonationError::ActorNotAscii));
    assert_eq!(body("support-7 <s7@example.com>", "Ticket für José", 60.into()).unwrap().reason, "Ticket für José");
    let unknown = serde_json::json!({ "actor": "a", "reason": "b", "ttl_secs": 60, "aal": 3 });
    assert!(serde_json::from_value::<ImpersonationBody>(unknown).is_err());
}

#[test]
fn the_record_ends_for_good_at_creation_plus_ttl_and_carries_act() {
    let r = opened(900);
    assert_eq!((r.created_at, r.absolute_expires_at, r.idle_expires_at), (T0, T0 + 900, T0 + 900));
    assert_eq!(r.idle_timeout_secs, 900, "no idle window longer than the impersonation");
    let imp = r.impersonation.as_ref().unwrap();
    assert_eq!((imp.actor.as_str(), imp.reason.as_str(), imp.started_at), ("support@example.com", "ticket 4521", T0));
    assert_eq!(serde_json::to_value(imp.act()).unwrap(), serde_json::json!({ "sub": "support@example.com" }));
    assert_eq!(imp.notice(), "support@example.com (ticket 4521) signed in as you");
    assert!(r.meta.ip.is_none() && r.meta.user_agent.is_none() && r.meta.label.is_none());
    // A longer ttl keeps the policy's idle window, still under the cap.
    let long = opened(3600);
    assert_eq!((long.idle_expires_at, long.absolute_expires_at), (T0 + 1800, T0 + 3600));
    // A policy shorter than the ttl caps it.
    let short = Policy::new(60, 120, 10, 3).unwrap();
    let session_id = SessionToken::from_random_bytes([3; 32]).session_id();
    let r = body("a", "b", 3600.into())
        .unwrap()
        .start(&short, AccountId::parse("acct-1").unwrap(), session_id, T0)
        .unwrap();
    assert_eq!((r.idle_expires_at, r.absolute_expires_at), (T0 + 60, T0 + 120));
}

#[test]
fn the_v3_impersonation_field_is_pinned_and_refused_in_older_versions() {
    let mut r = opened(600);
    r.session_id = SessionId::parse("sid_0123456789abcdef0123456789abcdef").unwrap();
    let golden = r#"{"v":3,"account_id":"acct-1","session_id":"sid_0123456789abcdef0123456789abcdef","created_at":1790000000,"last_seen_at":1790000000,"idle_timeout_secs":600,"idle_expires_at":1790000600,"absolute_expires_at":1790000600,"meta":{},"authenticated_at":1790000000,"aal":1,"impersonation":{"actor":"support@example.com","reason":"ticket 4521","started_at":1790000000}}"#;
    assert_eq!(r.encode(), golden);
    assert_eq!(SessionRecord::decode(golden.as_bytes()).unwrap(), r);
    assert!(SessionRecord::decode(golden.replace(r#""v":3"#, r#""v":2"#).as_bytes()).is_err());
    assert!(SessionRecord::decode(golden.replace(r#""v":3"#, r#""v":1"#).as_bytes()).is_err());
}

#[test]
fn touch_refresh_and_reauthentication_never_move_the_cap() {
    let p = policy();
    let mut r = opened(3600);
    // Used steadily, refreshed whenever allowed: never valid past T0 + 3600.
    for now in (T0..T0 + 4000).step_by(11) {
        for extended in [p.touch(&r, now), p.refresh(&r, now)] {
            match extended {
                Touch::Extended(next) => {
                    assert_eq!(next.absolute_expires_at, T0 + 3600);
                    assert!(next.idle_expires_at <= T0 + 3600);
                    r = next;
                }
                Touch::NotDue => {}
                Touch::Expired(_) => assert!(now >= T0 + 3600),
            }
        }
    }
    assert!(r.idle_expires_at <= T0 + 3600 && r.absolute_expires_at == T0 + 3600);
    // Reauthentication renews the idle window and the authentication, never the cap.
    let renewed = p.reauthenticate(&opened(600), 2, vec!["pwd".into()], T0 + 500);
    assert_eq!((renewed.absolute_expires_at, renewed.idle_expires_at), (T0 + 600, T0 + 600));
    assert_eq!(renewed.impersonation, opened(600).impersonation, "still an impersonation");
    // Rotation moves the record as it is (`move_to_token` stores the record it was given).
}

fn gate_config(extra: &[(&'static str, &str)]) -> Config {
    let mut vars: Vec<(&str, String)> = vec![("ORIGIN_URL", "http://127.0.0.1:9".into())];
    vars.extend(extra.iter().map(|(n, v)| (*n, v.to_string())));
    Config::from_vars(|name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone())).unwrap()
}

#[test]
fn the_gatekeeper_permits_read_only_methods_off_the_denied_paths() {
    let defaults = gate_config(&[]).gate.unwrap().impersonation;
    assert_eq!(defaults, ImpersonationRules::default());
    assert_eq!(defaults.access("GET", "/settings/profile"), ImpersonationAccess::Allowed);
    assert_eq!(defaults.access("head", "/"), ImpersonationAccess::Allowed);
    for method in ["POST", "PUT", "PATCH", "DELETE", "OPTIONS", "PROPPATCH"] {
        assert_eq!(defaults.access(method, "/"), ImpersonationAccess::Refused, "{method}");
    }
    let rules = gate_config(&[
        ("IMPERSONATION_METHODS", "get, head, post"),
        ("IMPERSONATION_DENY_PATHS", "/settings/*,/billing/*"),
    ])
    .gate
    .unwrap()
    .impersonation;
    assert_eq!(rules.access("POST", "/notes"), ImpersonationAccess::Allowed);
    for path in ["/settings/password", "/billing/card", "/billing", "/Settings/x", "/settings//x", "/settings/%2e%2e"] {
        assert_eq!(rules.access("GET", path), ImpersonationAccess::Refused, "{path}");
    }
    // Blank: no method at all.
    let none = gate_config(&[("IMPERSONATION_METHODS", " ")]).gate.unwrap().impersonation;
    assert_eq!(none.access("GET", "/"), ImpersonationAccess::Refused);
    let bad = |vars: &[(&'static str, &str)]| {
        let vars: Vec<(&str, String)> = [("ORIGIN_URL", "http://127.0.0.1:9".to_owned())]
            .into_iter()
            .chain(vars.iter().map(|(n, v)| (*n, v.to_string())))
            .collect();
        Config::from_vars(|name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone())).unwrap_err().variable
    };
    assert_eq!(bad(&[("IMPERSONATION_METHODS", "GET,PO ST")]), "IMPERSONATION_METHODS");
    assert_eq!(bad(&[("IMPERSONATION_DENY_PATHS", "settings")]), "IMPERSONATION_DENY_PATHS");
}

#[test]
fn the_session_check_refuses_an_impersonation_only_where_asked() {
    let config = gate_config(&[]);
    let imp = opened(600);
    let refused = Requirement::live().impersonation(ImpersonationAccess::Refused);
    assert_eq!(check(&config, &imp, &Requirement::live(), T0 + 1), Ok(()));
    assert_eq!(check(&config, &imp, &refused, T0 + 1), Err(Refusal::ImpersonationForbidden));
    // The user's own sessions are never refused by it.
    let session_id = SessionToken::from_random_bytes([5; 32]).session_id();
    let own = policy()
        .start(AccountId::parse("acct-1").unwrap(), session_id, Default::default(), Default::default(), T0)
        .unwrap();
    assert_eq!(check(&config, &own, &refused, T0 + 1), Ok(()));
    // An ended impersonation is reported as ended, not as forbidden.
    assert_eq!(check(&config, &imp, &refused, T0 + 600), Err(Refusal::ExpiredAbsolute));
}

#[test]
fn events_of_an_impersonation_carry_act_and_its_start_and_end_describe_it() {
    use edge_sessions::core::event::{ImpersonationEnd, RevokeReason, SessionEvent};
    use edge_sessions::core::impersonation::event_data;
    let imp = opened(600);
    let refreshed = event_data(SessionEvent::Refreshed(edge_sessions::core::policy::TouchKind::Use), &imp);
    assert_eq!(serde_json::Value::Object(refreshed), serde_json::json!({ "act": { "sub": "support@example.com" } }));
    let started = event_data(SessionEvent::ImpersonationStarted, &imp);
    assert_eq!(
        started["impersonation"],
        serde_json::json!({
            "actor": "support@example.com",
            "reason": "ticket 4521",
            "started_at": "2026-09-21T14:13:20Z",
            "expires_at": "2026-09-21T14:23:20Z",
        })
    );
    // What ends a session ends its impersonation, with the same reason.
    let ended = SessionEvent::Revoked(RevokeReason::RevokedByUser).ends_impersonation();
    assert_eq!(ended, Some(SessionEvent::ImpersonationEnded(ImpersonationEnd::Revoked(RevokeReason::RevokedByUser))));
    assert_eq!(ended.unwrap().delivered_reason(), "revoke");
    assert_eq!(
        SessionEvent::Expired(edge_sessions::core::policy::Validity::ExpiredAbsolute).ends_impersonation(),
        Some(SessionEvent::ImpersonationEnded(ImpersonationEnd::Expired))
    );
    assert_eq!(SessionEvent::Created.ends_impersonation(), None);
    // The user's own sessions: no data at all.
    let session_id = SessionToken::from_random_bytes([5; 32]).session_id();
    let own = policy()
        .start(AccountId::parse("acct-1").unwrap(), session_id, Default::default(), Default::default(), T0)
        .unwrap();
    assert!(event_data(SessionEvent::Created, &own).is_empty());
}
