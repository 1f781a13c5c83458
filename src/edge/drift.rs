//! Theft signals at the edge: the isolate's memory of what the account's Durable Object
//! decided about a session's drift (`core::drift_memory`), so a drifted session used in
//! a loop asks it once per isolate, session and change.

use crate::core::drift::{BaselineDigest, DriftVerdict};
use crate::core::drift_memory::DriftMemory;
use crate::core::token::TokenHash;
use std::cell::RefCell;

/// Most (session, change) verdicts an isolate remembers.
const DRIFT_MEMORY_CAPACITY: usize = 4096;

thread_local! {
    static DRIFT_VERDICTS: RefCell<DriftMemory> = RefCell::new(DriftMemory::new(DRIFT_MEMORY_CAPACITY));
}

/// What this isolate was already told about these signals for this session.
pub fn remembered(hash: &TokenHash, observed: &BaselineDigest) -> Option<DriftVerdict> {
    DRIFT_VERDICTS.with(|m| m.borrow().verdict(hash, observed))
}

pub fn remember(hash: &TokenHash, observed: &BaselineDigest, verdict: DriftVerdict) {
    DRIFT_VERDICTS.with(|m| m.borrow_mut().remember(hash, observed, verdict));
}
