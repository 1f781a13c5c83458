//! Tokens, hashes and session ids.

use edge_sessions::core::token::*;

mod common;
use common::token;

#[test]
fn prefix_is_pinned_because_changing_it_revokes_every_session() {
    assert_eq!(TOKEN_PREFIX, "est_");
    assert_eq!(TOKEN_LEN, 47);
    assert!(token(7).expose_secret().starts_with("est_"));
}

#[test]
fn encodes_32_bytes_as_43_base64url_chars() {
    assert_eq!(token(0).expose_secret(), "est_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    assert_eq!(token(0xff).expose_secret(), "est___________________________________________8");
    let t = SessionToken::from_random_bytes(std::array::from_fn(|i| i as u8));
    assert_eq!(t.expose_secret(), "est_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8");
}

#[test]
fn parse_round_trips_generated_tokens() {
    for seed in 0..=255u8 {
        let bytes: [u8; 32] = std::array::from_fn(|i| seed.wrapping_mul(31).wrapping_add(i as u8 * 7));
        let t = SessionToken::from_random_bytes(bytes);
        assert_eq!(SessionToken::parse(t.expose_secret()), Ok(t));
    }
}

#[test]
fn tokens_from_the_os_csprng_are_distinct() {
    let mut a = [0u8; 32];
    let mut b = [0u8; 32];
    getrandom::fill(&mut a).unwrap();
    getrandom::fill(&mut b).unwrap();
    assert_ne!(SessionToken::from_random_bytes(a), SessionToken::from_random_bytes(b));
}

#[test]
fn parse_rejects_wrong_prefix() {
    let good = token(9).expose_secret().to_owned();
    let wrong = format!("xst_{}", &good[4..]);
    assert_eq!(SessionToken::parse(&wrong), Err(TokenError::WrongPrefix));
    assert_eq!(SessionToken::parse(&good.to_uppercase()), Err(TokenError::WrongPrefix));
}

#[test]
fn parse_rejects_one_byte_short_and_one_byte_long() {
    let good = token(9).expose_secret().to_owned();
    assert_eq!(SessionToken::parse(&good[..good.len() - 1]), Err(TokenError::WrongLength));
    assert_eq!(SessionToken::parse(&format!("{good}A")), Err(TokenError::WrongLength));
    assert_eq!(SessionToken::parse(""), Err(TokenError::WrongLength));
    assert_eq!(SessionToken::parse("est_"), Err(TokenError::WrongLength));
}

#[test]
fn parse_rejects_characters_outside_base64url() {
    let good = token(9).expose_secret().to_owned();
    for bad in ['+', '/', '=', ' ', '.', '\0', '%'] {
        let mut s = good.clone();
        s.replace_range(10..11, &bad.to_string());
        assert_eq!(SessionToken::parse(&s), Err(TokenError::BadAlphabet), "{bad:?}");
    }
}

#[test]
fn parse_rejects_non_ascii_without_panicking() {
    // 'é' is two bytes: the string has the right byte length but is not base64url.
    let good = token(9).expose_secret().to_owned();
    let s = format!("{}é", &good[..good.len() - 2]);
    assert_eq!(s.len(), TOKEN_LEN);
    assert_eq!(SessionToken::parse(&s), Err(TokenError::BadAlphabet));
    assert!(SessionToken::parse("est_ééééééééééééééééééééééééééééééééééééééééééé").is_err());
}

#[test]
fn parse_rejects_non_canonical_last_character() {
    // "AAAA...A" + 'B' sets a bit below the 256 that 32 bytes can carry.
    let s = format!("est_{}B", "A".repeat(42));
    assert_eq!(SessionToken::parse(&s), Err(TokenError::NonCanonical));
    let s = format!("est_{}E", "A".repeat(42));
    assert!(SessionToken::parse(&s).is_ok());
}

#[test]
fn debug_and_display_print_no_secret() {
    let t = token(42);
    let secret = t.expose_secret().to_owned();
    let body = &secret[4..];
    for shown in [format!("{t:?}"), format!("{t}"), format!("{:?}", Some(&t))] {
        assert!(!shown.contains(body), "{shown}");
    }
    assert_eq!(format!("{t:?}"), "SessionToken(<redacted>)");
}

#[test]
fn hash_is_blake3_hex_of_the_token_string() {
    let t = token(1);
    let expected = blake3::hash(t.expose_secret().as_bytes()).to_hex().to_string();
    assert_eq!(t.hash().as_str(), expected);
    assert_eq!(t.hash().kv_key(), format!("session:{expected}"));
    assert_eq!(t.hash().kv_key().len(), 72);
    assert_ne!(token(1).hash(), token(2).hash());
}

#[test]
fn a_stored_hash_presented_as_a_token_is_refused() {
    let h = token(3).hash();
    assert_eq!(SessionToken::parse(h.as_str()), Err(TokenError::WrongPrefix));
    assert_eq!(SessionToken::parse(&h.kv_key()), Err(TokenError::WrongPrefix));
}

#[test]
fn session_id_reveals_neither_token_nor_kv_key() {
    let t = token(5);
    let sid = t.session_id();
    assert!(sid.as_str().starts_with("sid_"));
    assert_eq!(sid.as_str().len(), 4 + 32);
    assert!(!t.hash().as_str().contains(&sid.as_str()[4..]));
    assert!(!t.expose_secret().contains(&sid.as_str()[4..]));
    assert_eq!(t.session_id(), token(5).session_id(), "derivation is deterministic");
    assert_ne!(t.session_id(), token(6).session_id());
}

#[test]
fn session_id_and_hash_parsing_is_strict() {
    let sid = token(5).session_id();
    assert_eq!(SessionId::parse(sid.as_str()), Some(sid.clone()));
    assert_eq!(SessionId::parse(&sid.as_str().to_uppercase()), None);
    assert_eq!(SessionId::parse(&sid.as_str()[..35]), None);
    assert_eq!(SessionId::parse("sid_../../../etc/passwd0000000000"), None);
    let h = token(5).hash();
    assert_eq!(TokenHash::parse(h.as_str()), Some(h.clone()));
    assert_eq!(TokenHash::parse(&h.as_str()[1..]), None);
    assert_eq!(TokenHash::parse(&h.as_str().to_uppercase()), None);
}
