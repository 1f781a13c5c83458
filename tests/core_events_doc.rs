//! docs/events.md documents every event type and every reason the core can emit, and
//! names no reason the core does not have.

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
