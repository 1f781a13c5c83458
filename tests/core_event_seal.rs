//! The `EVENTS` queue message: the event's bytes survive sealing exactly, and only the
//! sealed shape reads back.

use edge_sessions::core::event_seal::*;

const EVENT: &str = r#"{"id":"evt_5f0c2a9e8b7d4c31a6e2f0b9d8c7a6e5","type":"session.revoked","occurred_at":"2026-11-22T08:00:43Z","account_id":"alice","session_id":"sid_c3017674278a709f644b22aaedb7c12b","reason":"logout","data":{}}"#;

#[test]
fn the_label_is_pinned() {
    // Changing it unseals every message still in the queue.
    assert_eq!(SEAL_KEY_LABEL, "edge-sessions outbox v1");
}

#[test]
fn a_sealed_message_carries_the_event_bytes_unchanged() {
    let message = sealed_message(EVENT, Some(&[7u8; 32])).unwrap();
    assert_eq!(message, format!(r#"{{"event":{EVENT},"mac":"{}"}}"#, "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc="));
    let read = read_message(&message).unwrap();
    assert_eq!(read, QueueMessage { event: EVENT, mac: Some(vec![7u8; 32]) });
}

#[test]
fn a_message_without_a_seal_reads_as_unsealed() {
    let message = sealed_message(EVENT, None).unwrap();
    assert_eq!(message, format!(r#"{{"event":{EVENT}}}"#));
    assert_eq!(read_message(&message).unwrap().mac, None);
    let not_base64 = format!(r#"{{"event":{EVENT},"mac":"not base64!"}}"#);
    assert_eq!(read_message(&not_base64).unwrap().mac, None);
}

#[test]
fn anything_but_the_sealed_shape_is_refused() {
    let twice = format!(r#"{{"event":{EVENT},"event":{{}},"mac":"AA=="}}"#);
    for body in [EVENT, "", "null", r#"{"mac":"AA=="}"#, twice.as_str(), r#"{"event":}"#] {
        assert_eq!(read_message(body), None, "{body}");
    }
}
