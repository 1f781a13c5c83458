//! Device-bound sessions (DBSC): the proof parser, the stateless challenges, the bound
//! cookie's MAC, the structured fields, and the anti-downgrade rule.

mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::{token, vars};
use edge_sessions::core::bound_cookie::{BoundCookie, BoundCookieError, Thumbprint, BOUND_COOKIE_LEN};
use edge_sessions::core::config::Config;
use edge_sessions::core::credentials::{extract_credential, CredentialError, Presented};
use edge_sessions::core::dbsc_proof::{parse_proof, ProofAlg, ProofError, ProofKey, ProofStep};
use edge_sessions::core::device_binding::{
    check_proof, refresh_cookie_name, BindingRefusal, DeviceBinding, DeviceProof, REGISTER_PATH,
};
use edge_sessions::core::device_challenge::{self, BindingKeys, ChallengeError, Purpose};
use edge_sessions::core::structured_field::{read_string_item, string_item};
use proptest::prelude::*;
use serde_json::json;

const T0: i64 = 1_790_000_000;
const SECRET: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="; // 32 bytes

fn keys() -> BindingKeys {
    BindingKeys::derive(&[7; 32])
}

fn b64(value: &serde_json::Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

fn p256() -> serde_json::Value {
    json!({"kty": "EC", "crv": "P-256", "x": URL_SAFE_NO_PAD.encode([1u8; 32]), "y": URL_SAFE_NO_PAD.encode([2u8; 32])})
}

fn jws(header: serde_json::Value, payload: serde_json::Value, signature_len: usize) -> String {
    format!("{}.{}.{}", b64(&header), b64(&payload), URL_SAFE_NO_PAD.encode(vec![9u8; signature_len]))
}

#[test]
fn a_registration_proof_carries_its_key_and_a_refresh_proof_must_not() {
    let registration =
        jws(json!({"typ": "dbsc+jwt", "alg": "ES256", "jwk": p256()}), json!({"jti": "c1", "authorization": "a1"}), 64);
    let proof = parse_proof(&registration, ProofStep::Registration).unwrap();
    assert_eq!(proof.alg, ProofAlg::Es256);
    assert_eq!((proof.jti.as_str(), proof.authorization.as_deref()), ("c1", Some("a1")));
    assert_eq!(proof.signature, vec![9u8; 64]);
    assert!(registration.starts_with(&proof.signing_input));
    let quoted = format!("\"{registration}\"");
    assert_eq!(parse_proof(&quoted, ProofStep::Registration).unwrap(), proof, "a String item is read too");
    assert_eq!(parse_proof(&registration, ProofStep::Refresh), Err(ProofError::KeyPresence));

    let refresh = jws(json!({"typ": "dbsc+jwt", "alg": "RS256"}), json!({"jti": "c2"}), 256);
    let proof = parse_proof(&refresh, ProofStep::Refresh).unwrap();
    assert_eq!((proof.alg, proof.key, proof.authorization), (ProofAlg::Rs256, None, None));
    assert_eq!(parse_proof(&refresh, ProofStep::Registration), Err(ProofError::KeyPresence));
}

#[test]
fn proofs_of_the_wrong_shape_are_refused_with_the_reason() {
    let reg = |header: serde_json::Value, payload: serde_json::Value| {
        parse_proof(&jws(header, payload, 64), ProofStep::Registration)
    };
    let ok_payload = json!({"jti": "c"});
    assert_eq!(reg(json!({"typ": "JWT", "alg": "ES256", "jwk": p256()}), ok_payload.clone()), Err(ProofError::Type));
    assert_eq!(
        reg(json!({"typ": "dbsc+jwt", "alg": "none", "jwk": p256()}), ok_payload.clone()),
        Err(ProofError::Algorithm)
    );
    assert_eq!(
        reg(json!({"typ": "dbsc+jwt", "alg": "RS256", "jwk": p256()}), ok_payload.clone()),
        Err(ProofError::Algorithm)
    );
    let mut private = p256();
    private["d"] = json!(URL_SAFE_NO_PAD.encode([3u8; 32]));
    assert!(matches!(
        reg(json!({"typ": "dbsc+jwt", "alg": "ES256", "jwk": private}), ok_payload.clone()),
        Err(ProofError::Key(_))
    ));
    let mut short = p256();
    short["x"] = json!(URL_SAFE_NO_PAD.encode([1u8; 31]));
    assert!(matches!(
        reg(json!({"typ": "dbsc+jwt", "alg": "ES256", "jwk": short}), ok_payload.clone()),
        Err(ProofError::Key(_))
    ));
    let rsa = |n: &str, e: &str| {
        let jwk = json!({"kty": "RSA", "n": n, "e": e});
        ProofKey::from_jwk(&jwk).map(|_| ())
    };
    let modulus = URL_SAFE_NO_PAD.encode([0xc5u8; 256]);
    assert_eq!(rsa(&modulus, "AQAB"), Ok(()));
    assert!(rsa("", "AQAB").is_err(), "an empty modulus");
    assert!(rsa(&URL_SAFE_NO_PAD.encode([0u8; 257]), "AQAB").is_err(), "a leading zero");
    for e in ["AQ", "", "Ag", "AAEAAQ", "AQABAQAB"] {
        assert!(rsa(&modulus, e).is_err(), "exponent {e:?}");
    }
    assert_eq!(rsa(&modulus, "Aw"), Ok(()), "e = 3");
    let weak_rsa = json!({"kty": "RSA", "n": URL_SAFE_NO_PAD.encode([0xc5u8; 128]), "e": "AQAB"});
    assert!(matches!(
        reg(json!({"typ": "dbsc+jwt", "alg": "RS256", "jwk": weak_rsa}), ok_payload.clone()),
        Err(ProofError::Key(_))
    ));
    let header = json!({"typ": "dbsc+jwt", "alg": "ES256", "jwk": p256()});
    assert_eq!(reg(header.clone(), json!({"jti": 5})), Err(ProofError::Claims));
    assert_eq!(reg(header.clone(), json!({"jti": "c", "authorization": 5})), Err(ProofError::Claims));
    assert_eq!(
        parse_proof(&jws(header.clone(), ok_payload.clone(), 63), ProofStep::Registration),
        Err(ProofError::Malformed)
    );
    assert_eq!(parse_proof("a.b", ProofStep::Registration), Err(ProofError::Malformed));
    assert_eq!(parse_proof(&"a".repeat(5000), ProofStep::Registration), Err(ProofError::TooLarge));
}

#[test]
fn thumbprints_follow_rfc_7638() {
    // RFC 7638 section 3.1's example key and thumbprint.
    let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
    let key =
        ProofKey::from_jwk(&json!({"kty": "RSA", "n": n, "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"})).unwrap();
    assert_eq!(key.thumbprint_input(), format!(r#"{{"e":"AQAB","kty":"RSA","n":"{n}"}}"#));
    let ec = ProofKey::from_jwk(&p256()).unwrap();
    assert!(ec.thumbprint_input().starts_with(r#"{"crv":"P-256","kty":"EC","x":""#));
    let jwk: serde_json::Value = serde_json::from_str(&ec.jwk_json()).unwrap();
    assert_eq!(jwk, p256(), "the JWK WebCrypto imports is the public key as sent");
}

#[test]
fn challenges_are_bound_to_purpose_session_and_age() {
    let (k, s) = (keys(), token(1).session_id());
    let c = device_challenge::issue(&k, Purpose::Refresh, &s, T0 * 1000);
    assert_eq!(device_challenge::verify(&k, Purpose::Refresh, &s, &c, T0 * 1000 + 1, 60_000), Ok(T0 * 1000));
    assert_eq!(
        device_challenge::verify(&k, Purpose::Registration, &s, &c, T0 * 1000, 60_000),
        Err(ChallengeError::Forged)
    );
    assert_eq!(
        device_challenge::verify(&k, Purpose::Refresh, &token(2).session_id(), &c, T0 * 1000, 60_000),
        Err(ChallengeError::Forged)
    );
    assert_eq!(
        device_challenge::verify(&BindingKeys::derive(&[8; 32]), Purpose::Refresh, &s, &c, T0 * 1000, 60_000),
        Err(ChallengeError::Forged)
    );
    assert_eq!(
        device_challenge::verify(&k, Purpose::Refresh, &s, &c, T0 * 1000 + 60_001, 60_000),
        Err(ChallengeError::Stale)
    );
    assert_eq!(
        device_challenge::verify(&k, Purpose::Refresh, &s, &c, T0 * 1000 - 10_000, 60_000),
        Err(ChallengeError::Stale),
        "from the future"
    );
    assert_eq!(
        device_challenge::verify(&k, Purpose::Refresh, &s, "short", T0 * 1000, 60_000),
        Err(ChallengeError::Malformed)
    );
}

fn bound(expires_at: i64) -> BoundCookie {
    let t = token(3);
    BoundCookie { expires_at, session_id: t.session_id(), hash: t.hash(), thumbprint: Thumbprint([5; 32]) }
}

#[test]
fn a_bound_cookie_verifies_until_its_expiry_and_only_under_its_key() {
    let k = keys();
    let value = bound(T0 + 300).encode(&k);
    assert_eq!(value.len(), BOUND_COOKIE_LEN);
    assert!(value.starts_with("esb_"));
    assert_eq!(BoundCookie::verify(&value, &k, T0 + 299), Ok(bound(T0 + 300)));
    assert_eq!(BoundCookie::verify(&value, &k, T0 + 300), Err(BoundCookieError::Expired));
    assert_eq!(BoundCookie::verify(&value, &BindingKeys::derive(&[8; 32]), T0), Err(BoundCookieError::Forged));
    assert_eq!(BoundCookie::verify(&value[..value.len() - 1], &k, T0), Err(BoundCookieError::Malformed));
    assert_eq!(BoundCookie::verify(token(3).expose_secret(), &k, T0), Err(BoundCookieError::Malformed));
}

proptest! {
    /// Any single changed character of a bound cookie fails its MAC (or its shape): an
    /// expiry cannot be moved, nor the hash pointed at another session.
    #[test]
    fn no_edit_of_a_bound_cookie_verifies(index in 4usize..BOUND_COOKIE_LEN, replacement in "[A-Za-z0-9_-]") {
        let k = keys();
        let value = bound(T0 + 300).encode(&k);
        let mut edited = value.clone().into_bytes();
        edited[index] = replacement.as_bytes()[0];
        let edited = String::from_utf8(edited).unwrap();
        prop_assume!(edited != value);
        prop_assert!(BoundCookie::verify(&edited, &k, T0).is_err());
    }

    /// A bound record is never used with its long-lived token alone, nor with a bound
    /// cookie for another key; an unbound one never with a bound cookie.
    #[test]
    fn a_bound_session_never_validates_on_its_long_lived_token(key in any::<[u8; 32]>(), other in any::<[u8; 32]>()) {
        let binding = DeviceBinding::new(Thumbprint(key), T0);
        prop_assert_eq!(check_proof(Some(&binding), DeviceProof::TokenOnly), Err(BindingRefusal::BoundCookieRequired));
        prop_assert_eq!(check_proof(Some(&binding), DeviceProof::BoundCookie(Thumbprint(key))), Ok(()));
        prop_assert_eq!(check_proof(None, DeviceProof::TokenOnly), Ok(()));
        prop_assert_eq!(check_proof(None, DeviceProof::BoundCookie(Thumbprint(key))), Err(BindingRefusal::KeyMismatch));
        if key != other {
            prop_assert_eq!(check_proof(Some(&binding), DeviceProof::BoundCookie(Thumbprint(other))), Err(BindingRefusal::KeyMismatch));
        }
    }

    /// A refresh challenge older than its age limit, or for another session, never passes.
    #[test]
    fn an_expired_or_foreign_challenge_never_refreshes(age in 0i64..1_000_000, limit in 1i64..500_000, other in 4u8..200) {
        let (k, s) = (keys(), token(1).session_id());
        let c = device_challenge::issue(&k, Purpose::Refresh, &s, T0 * 1000);
        let verdict = device_challenge::verify(&k, Purpose::Refresh, &s, &c, T0 * 1000 + age, limit);
        prop_assert_eq!(verdict.is_ok(), age <= limit);
        prop_assert!(device_challenge::verify(&k, Purpose::Refresh, &token(other).session_id(), &c, T0 * 1000, limit).is_err());
    }

    #[test]
    fn string_items_round_trip(value in "[ -~]{0,40}") {
        let item = string_item(&value).unwrap();
        prop_assert_eq!(read_string_item(&format!("{item};id=\"x\"")), Some(value));
    }
}

#[test]
fn structured_strings_refuse_what_a_string_cannot_hold() {
    assert_eq!(string_item("a\"b\\c").as_deref(), Some(r#""a\"b\\c""#));
    assert_eq!(string_item("é"), None);
    assert_eq!(read_string_item(r#""sid_1""#).as_deref(), Some("sid_1"));
    assert_eq!(read_string_item("sid_1").as_deref(), Some("sid_1"), "a bare token");
    assert_eq!(read_string_item(r#""unterminated"#), None);
    assert_eq!(read_string_item(r#""a" junk"#), None);
    assert_eq!(read_string_item(r#""\x""#), None);
}

#[test]
fn the_session_cookie_holds_a_bound_cookie_once_bound() {
    let k = keys();
    let value = bound(T0 + 300).encode(&k);
    let header = format!("other=1; __Host-session={value}");
    let credential = extract_credential(Some(&header), None, "__Host-session", Some(&k), T0).unwrap();
    assert!(matches!(credential.presented, Presented::BoundCookie(_)));
    assert_eq!(credential.hash(), token(3).hash());
    assert_eq!(credential.device_proof(), DeviceProof::BoundCookie(Thumbprint([5; 32])));
    assert!(credential.token().is_none());
    let expired = extract_credential(Some(&header), None, "__Host-session", Some(&k), T0 + 300).unwrap_err();
    assert_eq!(expired, CredentialError::Bound(BoundCookieError::Expired));
    // Without binding keys (DBSC off), or as a bearer, it is just a malformed token.
    assert!(matches!(
        extract_credential(Some(&header), None, "__Host-session", None, T0),
        Err(CredentialError::Invalid(_))
    ));
    let bearer = format!("Bearer {value}");
    assert!(matches!(
        extract_credential(None, Some(&bearer), "__Host-session", Some(&k), T0),
        Err(CredentialError::Invalid(_))
    ));
}

#[test]
fn settings_are_off_by_default_and_need_a_strong_secret_when_offered() {
    let config = |pairs: &[(&str, &str)]| Config::from_vars(vars(pairs));
    assert_eq!(config(&[]).unwrap().device_binding, None);
    assert_eq!(config(&[("DEVICE_BOUND_SESSIONS", "offer")]).unwrap_err().variable, "DEVICE_BINDING_SECRET");
    let short = [("DEVICE_BOUND_SESSIONS", "offer"), ("DEVICE_BINDING_SECRET", "c2hvcnQ=")];
    assert_eq!(config(&short).unwrap_err().variable, "DEVICE_BINDING_SECRET");
    assert_eq!(config(&[("DEVICE_BOUND_SESSIONS", "yes")]).unwrap_err().variable, "DEVICE_BOUND_SESSIONS");
    let on = config(&[("DEVICE_BOUND_SESSIONS", "offer"), ("DEVICE_BINDING_SECRET", SECRET)]).unwrap();
    assert_eq!(on.device_binding.as_ref().unwrap().cookie_ttl_secs, 300);
    let ttl = |v| {
        config(&[("DEVICE_BOUND_SESSIONS", "offer"), ("DEVICE_BINDING_SECRET", SECRET), ("DBSC_COOKIE_TTL_SECS", v)])
    };
    assert_eq!(ttl("120").unwrap_err().variable, "DBSC_COOKIE_TTL_SECS", "no room for Chromium's early refresh");
    assert_eq!(ttl("150").unwrap().device_binding.unwrap().cookie_ttl_secs, 150);
    let header = on.device_binding.unwrap().registration_header(&token(1).session_id(), T0 * 1000);
    assert!(header.starts_with(&format!(r#"(ES256 RS256);path="{REGISTER_PATH}";challenge=""#)), "{header}");
    assert!(header.contains(";authorization=\""));
    assert_eq!(refresh_cookie_name("__Host-session"), "__Secure-session-dbsc");
    assert_eq!(refresh_cookie_name("sid"), "sid-dbsc");
}
