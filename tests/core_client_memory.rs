//! The isolate's memory of what each client's theft signals digested to
//! (`core::client_memory`): it only ever vouches for the digest a session expects, for a
//! minute, for the same address, user agent and platform.

use edge_sessions::core::client_memory::{ClientKey, ClientMemory};
use edge_sessions::core::drift::{Baseline, BaselineDigest};
use proptest::prelude::*;

const UA: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/148.0.0.0 Safari/537.36";

fn digest(country: &str) -> BaselineDigest {
    Baseline { country: Some(country.to_owned()), ..Baseline::default() }.digest()
}

fn key(address: &str) -> ClientKey {
    ClientKey::of(Some(address), Some(UA), Some("\"Linux\"")).unwrap()
}

#[test]
fn a_client_is_named_only_with_an_address_and_by_every_part() {
    assert_eq!(ClientKey::of(None, Some(UA), None), None, "no address: the ASN and country are not the key's");
    assert_eq!(ClientKey::of(Some(""), Some(UA), None), None);
    let home = key("203.0.113.7");
    assert_eq!(home, key("203.0.113.7"));
    assert_ne!(home, key("203.0.113.8"));
    assert_ne!(home, ClientKey::of(Some("203.0.113.7"), Some("curl/8.5.0"), Some("\"Linux\"")).unwrap());
    assert_ne!(home, ClientKey::of(Some("203.0.113.7"), Some(UA), Some("\"Windows\"")).unwrap());
    assert_ne!(home, ClientKey::of(Some("203.0.113.7"), Some(UA), None).unwrap());
    // Parts are length-prefixed, not joined: moving a character between them is another client.
    assert_ne!(ClientKey::of(Some("a"), Some("bc"), None), ClientKey::of(Some("ab"), Some("c"), None));
}

#[test]
fn it_vouches_only_for_the_digest_the_session_expects_and_only_for_a_minute() {
    let mut memory = ClientMemory::new(16, 60);
    let (home, de, us) = (key("203.0.113.7"), digest("DE"), digest("US"));
    assert!(!memory.matches(&home, &de, 1_000), "nothing remembered yet");
    memory.remember(home, de.clone(), 1_000);
    assert!(memory.matches(&home, &de, 1_000));
    assert!(memory.matches(&home, &de, 1_059));
    assert!(!memory.matches(&home, &de, 1_060), "a minute later request.cf is read again");
    assert!(!memory.matches(&home, &us, 1_010), "another session's baseline is not vouched for");
    assert!(!memory.matches(&key("198.51.100.1"), &de, 1_010), "another address is another client");
    assert!(!memory.matches(&home, &de, 999), "a clock that went back vouches for nothing");
    // A new reading replaces the old one.
    memory.remember(home, us.clone(), 1_020);
    assert!(memory.matches(&home, &us, 1_020));
    assert!(!memory.matches(&home, &de, 1_020));
}

#[test]
fn past_its_capacity_it_forgets_everything() {
    let mut memory = ClientMemory::new(2, 60);
    memory.remember(key("10.0.0.1"), digest("DE"), 0);
    memory.remember(key("10.0.0.2"), digest("DE"), 0);
    memory.remember(key("10.0.0.2"), digest("DE"), 1); // an update is not a new client
    assert_eq!(memory.len(), 2);
    memory.remember(key("10.0.0.3"), digest("DE"), 2);
    assert_eq!(memory.len(), 1);
    assert!(!memory.matches(&key("10.0.0.1"), &digest("DE"), 2));
    assert!(memory.matches(&key("10.0.0.3"), &digest("DE"), 2));
}

proptest! {
    #[test]
    fn a_match_is_always_what_was_remembered_last_for_that_client(
        steps in proptest::collection::vec((0u8..4, 0u8..3, 0i64..200), 1..40),
        probe in (0u8..4, 0u8..3),
    ) {
        let countries = ["DE", "US", "FR"];
        let mut memory = ClientMemory::new(64, 60);
        let mut last: std::collections::HashMap<u8, (usize, i64)> = Default::default();
        let mut now = 0;
        for (client, country, dt) in steps {
            now += dt;
            memory.remember(key(&format!("10.0.0.{client}")), digest(countries[country as usize]), now);
            last.insert(client, (country as usize, now));
        }
        let (client, country) = probe;
        let expected = last.get(&client).is_some_and(|&(c, at)| c == country as usize && now - at < 60);
        prop_assert_eq!(memory.matches(&key(&format!("10.0.0.{client}")), &digest(countries[country as usize]), now), expected);
    }
}
