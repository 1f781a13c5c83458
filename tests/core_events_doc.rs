//! docs/events.md documents every event type and every reason the core can emit, and
//! names no reason the core does not have; openapi.json's `webhooks` describe every
//! delivered type with its delivered reasons.

use edge_sessions::core::event::{EventType, SessionEvent};
use std::collections::BTreeSet;

const DOC: &str = include_str!("../docs/events.md");

/// The reasons column of the doc's event table: every `code` span in rows that start
/// with an event type.
fn documented_reasons() -> BTreeSet<String> {
    let mut reasons = BTreeSet::new();
    for line in DOC.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let is_event_row = cells.len() > 2 && EventType::ALL.iter().any(|t| cells[1] == format!("`{}`", t.as_str()));
        if !is_event_row {
            continue;
        }
        for span in cells[2].split('`').skip(1).step_by(2) {
            if span.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                reasons.insert(span.to_owned());
            }
        }
    }
    reasons
}

#[test]
fn every_event_type_and_reason_is_documented() {
    let reasons = documented_reasons();
    for event in SessionEvent::all() {
        let row = format!("| `{}` |", event.event_type().as_str());
        assert!(DOC.contains(&row), "docs/events.md has no row for {}", event.event_type().as_str());
        assert!(reasons.contains(event.reason()), "docs/events.md does not list reason {}", event.reason());
    }
}

#[test]
fn the_doc_lists_no_reason_the_core_lacks() {
    let emitted: BTreeSet<&str> = SessionEvent::all().iter().map(|e| e.reason()).collect();
    for reason in documented_reasons() {
        assert!(emitted.contains(reason.as_str()), "docs/events.md lists {reason}, which no event has");
    }
}

/// openapi.json's `webhooks`: one entry per delivered type, whose payload schema fixes
/// `type` to it and lists exactly the delivered reasons that type can carry.
#[test]
fn openapi_has_a_webhook_per_delivered_type_with_its_reasons() {
    let doc: serde_json::Value = serde_json::from_str(include_str!("../openapi.json")).expect("openapi.json is JSON");
    let webhooks = doc["webhooks"].as_object().expect("openapi.json has webhooks");
    let delivered: BTreeSet<&str> = EventType::ALL.iter().map(|t| t.delivered()).collect();
    let documented: BTreeSet<&str> = webhooks.keys().map(String::as_str).collect();
    assert_eq!(documented, delivered, "openapi.json's webhooks against EventType::ALL");
    for event_type in EventType::ALL {
        let name = event_type.delivered();
        let reference = webhooks[name]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .unwrap_or_else(|| panic!("webhook {name}: the body is a $ref to a schema"));
        let schema = &doc["components"]["schemas"][reference.trim_start_matches("#/components/schemas/")];
        assert_eq!(schema["properties"]["type"]["const"], name, "{reference}");
        let reasons: BTreeSet<&str> = schema["properties"]["reason"]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{reference}: reason is an enum"))
            .iter()
            .map(|r| r.as_str().expect("reasons are strings"))
            .collect();
        let emitted: BTreeSet<&str> = SessionEvent::all()
            .into_iter()
            .filter(|e| e.event_type() == event_type)
            .map(|e| e.delivered_reason())
            .collect();
        assert_eq!(reasons, emitted, "{reference}: the reasons a {name} event can carry");
    }
}
