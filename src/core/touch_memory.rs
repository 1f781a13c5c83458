//! Touches already sent from this isolate, so a stale KV copy does not send a burst.
//!
//! After a touch, a distant location can keep serving the pre-touch copy for ~60 s.
//! Every validation there finds a touch due again and would ask the account's Durable
//! Object to extend the session (which declines, but the request is paid for). An
//! isolate remembers, per token hash, when it last sent a touch, and sends at most one
//! per touch interval. Bounded: past its capacity it forgets everything and starts over,
//! which only costs a few redundant touches.

use crate::core::token::TokenHash;
use crate::core::UnixSeconds;
use std::collections::HashMap;

pub struct TouchMemory {
    sent: HashMap<TokenHash, UnixSeconds>,
    capacity: usize,
}

impl TouchMemory {
    pub fn new(capacity: usize) -> Self {
        TouchMemory { sent: HashMap::new(), capacity }
    }

    /// Whether a touch due for `hash` at `now` should be sent, remembering it if so. A
    /// touch sent less than `interval` seconds ago suppresses it.
    pub fn should_send(&mut self, hash: &TokenHash, now: UnixSeconds, interval: i64) -> bool {
        if interval <= 0 {
            return true; // touching on every use was asked for
        }
        if self.sent.get(hash).is_some_and(|&at| now - at < interval) {
            return false;
        }
        if self.sent.len() >= self.capacity {
            self.sent.clear();
        }
        self.sent.insert(hash.clone(), now);
        true
    }

    /// Forgets that a touch was sent for `hash`: the caller could not send the one
    /// `should_send` allowed, and the next use must be allowed to ask again.
    pub fn forget(&mut self, hash: &TokenHash) {
        self.sent.remove(hash);
    }

    pub fn len(&self) -> usize {
        self.sent.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sent.is_empty()
    }
}
