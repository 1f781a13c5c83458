//! Property tests of the lifecycle rules and the parsers: whatever the sequence of
//! uses, no session outlives its absolute cap, and nothing revives a revoked one.

use edge_sessions::core::account::AccountId;
use edge_sessions::core::cookie::find_cookie;
use edge_sessions::core::credentials::extract_credential;
use edge_sessions::core::gate::return_to;
use edge_sessions::core::policy::{LifetimeOverrides, Policy, Touch, Validity};
use edge_sessions::core::record::{SessionMeta, SessionRecord};
use edge_sessions::core::token::SessionToken;
use proptest::prelude::*;

mod common;
use common::T0;

fn policy_strategy() -> impl Strategy<Value = Policy> {
    (1i64..5_000, 0i64..5_000, 1u32..20).prop_flat_map(|(idle, extra, max)| {
        let absolute = idle + extra;
        (0..idle).prop_map(move |touch| Policy::new(idle, absolute, touch, max).unwrap())
    })
}

fn start(policy: &Policy) -> SessionRecord {
    policy
        .start(
            AccountId::parse("prop").unwrap(),
            common::token(7).session_id(),
            SessionMeta::default(),
            LifetimeOverrides::default(),
            T0,
        )
        .unwrap()
}

/// A session's index entry, as the Durable Object holds it: present or revoked.
struct Indexed {
    record: Option<SessionRecord>,
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn no_sequence_of_touches_passes_the_absolute_cap(
        policy in policy_strategy(),
        gaps in prop::collection::vec(0i64..2_000, 1..200),
        forced in prop::collection::vec(any::<bool>(), 200),
    ) {
        let mut record = start(&policy);
        let mut now = T0;
        for (i, gap) in gaps.iter().enumerate() {
            now += gap;
            let outcome = if forced[i] { policy.refresh(&record, now) } else { policy.touch(&record, now) };
            if let Touch::Extended(next) = outcome {
                prop_assert!(next.idle_expires_at <= next.absolute_expires_at);
                prop_assert_eq!(next.absolute_expires_at, T0 + policy.absolute_lifetime_secs);
                prop_assert!(next.idle_expires_at > record.idle_expires_at, "extensions only move forward");
                prop_assert_eq!(policy.check(&next, now), Validity::Valid);
                record = next;
            }
            if now >= T0 + policy.absolute_lifetime_secs {
                prop_assert_eq!(policy.check(&record, now), Validity::ExpiredAbsolute);
            }
            prop_assert!(policy.kv_ttl(&record, now) >= 60);
        }
    }

    #[test]
    fn an_expired_session_stays_expired_whatever_is_tried(
        policy in policy_strategy(),
        later in prop::collection::vec(0i64..10_000, 1..50),
    ) {
        let record = start(&policy);
        let expired_at = record.idle_expires_at;
        prop_assert_ne!(policy.check(&record, expired_at), Validity::Valid);
        let mut now = expired_at;
        for gap in later {
            now += gap;
            prop_assert!(matches!(policy.touch(&record, now), Touch::Expired(_)));
            prop_assert!(matches!(policy.refresh(&record, now), Touch::Expired(_)));
        }
    }

    /// The Durable Object's rule: a touch applies only to an indexed session. Model the
    /// index with a revoke at an arbitrary step and check no later touch restores it.
    #[test]
    fn a_touched_session_is_never_valid_after_a_revoke(
        policy in policy_strategy(),
        gaps in prop::collection::vec(0i64..1_000, 2..100),
        revoke_at in any::<prop::sample::Index>(),
    ) {
        let revoke_step = revoke_at.index(gaps.len());
        let mut index = Indexed { record: Some(start(&policy)) };
        let mut now = T0;
        for (step, gap) in gaps.iter().enumerate() {
            now += gap;
            if step == revoke_step {
                index.record = None;
            }
            // What the DO does with a touch: look the row up; no row, no write.
            if let Some(record) = &index.record {
                if let Touch::Extended(next) = policy.touch(record, now) {
                    index.record = Some(next);
                }
            }
            if step >= revoke_step {
                prop_assert!(index.record.is_none());
            }
        }
    }

    #[test]
    fn token_parsing_never_panics_and_accepts_only_canonical_tokens(input in ".{0,80}") {
        if let Ok(token) = SessionToken::parse(&input) {
            prop_assert_eq!(token.expose_secret(), input.as_str());
            prop_assert!(input.starts_with("est_") && input.len() == 47);
        }
    }

    #[test]
    fn generated_tokens_always_parse(bytes in prop::array::uniform32(any::<u8>())) {
        let token = SessionToken::from_random_bytes(bytes);
        prop_assert_eq!(SessionToken::parse(token.expose_secret()), Ok(token.clone()));
        prop_assert_eq!(token.hash().kv_key().len(), 72);
    }

    #[test]
    fn cookie_and_credential_parsing_never_panic(header in ".{0,300}", auth in proptest::option::of(".{0,80}")) {
        let _ = find_cookie(&header, "__Host-session");
        let _ = extract_credential(Some(&header), auth.as_deref(), "__Host-session", None, 0);
    }

    #[test]
    fn account_ids_that_parse_are_safe_path_segments(input in ".{0,140}") {
        if let Ok(id) = AccountId::parse(&input) {
            let s = id.as_str();
            prop_assert!(!s.is_empty() && s.len() <= 128);
            prop_assert!(!s.contains('/') && !s.contains("..") && !s.starts_with('.'));
            prop_assert!(s.bytes().all(|b| b.is_ascii_graphic()));
        }
    }

    #[test]
    fn return_to_is_always_a_local_path(path in "[/\\\\a-z%.\\t]{0,30}", query in proptest::option::of("[a-z=&/%]{0,20}")) {
        let r = return_to(&path, query.as_deref());
        prop_assert!(r.starts_with('/'));
        prop_assert!(!r.starts_with("//") && !r.starts_with("/\\"));
        prop_assert!(!r.chars().any(char::is_control));
    }

    #[test]
    fn record_decoding_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = SessionRecord::decode(&bytes);
    }
}
