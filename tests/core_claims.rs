//! Session claims rules and the assertion's key handling.

use edge_sessions::core::claims::*;
use edge_sessions::core::jwk::{KeyType, SigningJwk};
use serde_json::json;

#[test]
fn claims_are_an_object_with_plain_names_bounded_in_size_and_depth() {
    assert!(SessionClaims::parse(json!({"role": "editor", "org.id": 7, "a:b-c_d": [1, {"x": null}]})).is_ok());
    assert_eq!(SessionClaims::parse(json!([1])), Err(ClaimsError::NotAnObject));
    assert_eq!(SessionClaims::parse(json!("role")), Err(ClaimsError::NotAnObject));
    for bad in ["", "9lives", "_x", "with space", "é", &"k".repeat(65)] {
        assert!(matches!(SessionClaims::parse(json!({ bad: 1 })), Err(ClaimsError::BadKey(_))), "{bad:?}");
    }
    assert!(SessionClaims::parse(json!({ "k".repeat(64): 1 })).is_ok());
    for reserved in RESERVED_CLAIMS {
        assert_eq!(SessionClaims::parse(json!({ reserved: 1 })), Err(ClaimsError::Reserved(reserved.into())));
    }
}

#[test]
fn the_size_limit_is_2_kib_of_json_and_the_depth_limit_8_levels() {
    // {"k":"…"} is 8 bytes plus the string.
    assert!(SessionClaims::parse(json!({ "k": "x".repeat(CLAIMS_MAX_BYTES - 8) })).is_ok());
    assert_eq!(SessionClaims::parse(json!({ "k": "x".repeat(CLAIMS_MAX_BYTES - 7) })), Err(ClaimsError::TooLarge));
    let nest = |levels: usize| (1..levels).fold(json!(1), |inner, _| json!({ "n": inner }));
    assert!(SessionClaims::parse(nest(8)).is_ok(), "the object itself and 7 below it");
    assert_eq!(SessionClaims::parse(nest(9)), Err(ClaimsError::TooDeep));
    assert_eq!(SessionClaims::parse(json!({"a": [[[[[[[1]]]]]]]})), Err(ClaimsError::TooDeep));
}

#[test]
fn a_record_field_rejects_invalid_claims_on_decode() {
    let claims: Result<SessionClaims, _> = serde_json::from_value(json!({"sub": "x"}));
    assert!(claims.is_err());
    assert_eq!(serde_json::to_value(SessionClaims::default()).unwrap(), json!({}));
}

#[test]
fn ed25519_keys_give_the_rfc_7638_thumbprint_input_and_publish_no_private_part() {
    // RFC 8037, Appendix A.1 and A.3.
    let jwk = r#"{"kty":"OKP","crv":"Ed25519","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
    let key = SigningJwk::parse(jwk, true).unwrap();
    assert_eq!(key.key_type, KeyType::Ed25519);
    assert_eq!(
        key.thumbprint_input(),
        r#"{"crv":"Ed25519","kty":"OKP","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#
    );
    let public = key.public_jwk("kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    assert_eq!(public["alg"], "EdDSA");
    assert_eq!(public["use"], "sig");
    assert!(public.get("d").is_none());
    assert!(!format!("{key:?}").contains("nWGxne"), "Debug never shows d");
    // A public key may be the previous one, never the signing one.
    let public_only = r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
    assert!(SigningJwk::parse(public_only, false).is_ok());
    assert!(SigningJwk::parse(public_only, true).is_err());
}

#[test]
fn other_keys_and_broken_members_are_refused_without_echoing_them() {
    for bad in [
        r#"{"kty":"RSA","n":"x","e":"AQAB"}"#,
        r#"{"kty":"OKP","crv":"X25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
        r#"{"kty":"OKP","crv":"Ed25519","x":"short"}"#,
        r#"{"kty":"EC","crv":"P-256","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
        r#"{"kty":"OKP","crv":"Ed25519","alg":"ES256","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
        "not json",
    ] {
        let e = SigningJwk::parse(bad, false).unwrap_err();
        assert!(!e.contains("11qYAY"), "{e}");
    }
}
