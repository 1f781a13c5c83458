//! The error codes the worker can send (the core's `ErrorCode`) and the codes
//! `openapi.json` documents are the same set, and each code has one status and one
//! default message.

use edge_sessions::core::error_code::ErrorCode;
use std::collections::BTreeSet;

fn documented_codes() -> BTreeSet<String> {
    let doc: serde_json::Value = serde_json::from_str(include_str!("../openapi.json")).expect("openapi.json is JSON");
    doc["components"]["schemas"]["Error"]["properties"]["error"]["enum"]
        .as_array()
        .expect("Error.error is an enum")
        .iter()
        .map(|v| v.as_str().expect("codes are strings").to_owned())
        .collect()
}

#[test]
fn every_code_is_documented_and_every_documented_code_exists() {
    let sent: BTreeSet<String> = ErrorCode::ALL.iter().map(|c| c.as_str().to_owned()).collect();
    let documented = documented_codes();
    let undocumented: Vec<_> = sent.difference(&documented).collect();
    let never_sent: Vec<_> = documented.difference(&sent).collect();
    assert!(undocumented.is_empty(), "sent but not in openapi.json: {undocumented:?}");
    assert!(never_sent.is_empty(), "in openapi.json but never sent: {never_sent:?}");
}

#[test]
fn codes_round_trip_through_json() {
    for code in ErrorCode::ALL {
        let json = serde_json::to_string(&code).unwrap();
        assert_eq!(json, format!("\"{}\"", code.as_str()));
        let back: ErrorCode = serde_json::from_str(&json).unwrap();
        assert_eq!(back.as_str(), code.as_str());
    }
    assert!(serde_json::from_str::<ErrorCode>("\"no_such_code\"").is_err());
}

#[test]
fn statuses_are_errors_and_messages_are_plain() {
    for code in ErrorCode::ALL {
        assert!((400..600).contains(&code.status()), "{code}: {}", code.status());
        let message = code.message();
        assert!(!message.is_empty() && message.len() < 120, "{code}: {message}");
        assert!(!message.contains("est_"), "{code}: a message never shows a token");
    }
}

#[test]
fn a_session_addressed_by_id_shares_the_wire_code_but_answers_404() {
    assert_eq!(ErrorCode::UnknownSessionId.as_str(), ErrorCode::SessionNotFound.as_str());
    assert_eq!(ErrorCode::UnknownSessionId.status(), 404);
    assert_eq!(ErrorCode::SessionNotFound.status(), 401);
    // Decoding the shared string gives the 401 variant, the one the account's Durable
    // Object replies with.
    assert_eq!(ErrorCode::parse("session_not_found"), Some(ErrorCode::SessionNotFound));
}
