//! What the account's Durable Object already said about a session's drift, per isolate,
//! so a drifted session used in a loop asks it once per change, not once per request.
//!
//! Keyed by token hash and the observed baseline's digest: a second change (another
//! country) is a new key and is asked about again. After the object decides, KV's copy
//! lags for up to ~60 s; this memory covers that lag. Bounded like `TouchMemory`: past
//! its capacity it forgets everything, which only costs a few repeated questions.

use crate::core::drift::{BaselineDigest, DriftVerdict};
use crate::core::token::TokenHash;
use std::collections::HashMap;

pub struct DriftMemory {
    verdicts: HashMap<(TokenHash, BaselineDigest), DriftVerdict>,
    capacity: usize,
}

impl DriftMemory {
    pub fn new(capacity: usize) -> Self {
        DriftMemory { verdicts: HashMap::new(), capacity }
    }

    /// The verdict already given for this session and these signals, if any.
    pub fn verdict(&self, hash: &TokenHash, observed: &BaselineDigest) -> Option<DriftVerdict> {
        self.verdicts.get(&(hash.clone(), observed.clone())).copied()
    }

    pub fn remember(&mut self, hash: &TokenHash, observed: &BaselineDigest, verdict: DriftVerdict) {
        if self.verdicts.len() >= self.capacity {
            self.verdicts.clear();
        }
        self.verdicts.insert((hash.clone(), observed.clone()), verdict);
    }

    pub fn len(&self) -> usize {
        self.verdicts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.verdicts.is_empty()
    }
}
