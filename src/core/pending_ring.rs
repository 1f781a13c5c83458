//! Requests the hot path has started and not yet finished. Each waits on one KV read in
//! the entry shim between two synchronous calls into wasm (`edge::fast_path`), and its
//! state waits here under a number the shim hands back.
//!
//! Numbers are given out in order and entries finish in any order. One that never
//! finishes (its request was cancelled while KV was being read) is dropped once it is
//! older than the ring's age limit, and no entry is kept past the capacity, so an isolate
//! never grows without bound. A number that is no longer here finds nothing.

use crate::core::UnixSeconds;
use std::collections::VecDeque;

pub struct PendingRing<T> {
    /// The number of `entries[0]`.
    first: u32,
    entries: VecDeque<Option<(UnixSeconds, T)>>,
    capacity: usize,
    max_age_secs: i64,
}

impl<T> PendingRing<T> {
    pub fn new(capacity: usize, max_age_secs: i64) -> Self {
        Self::starting_at(0, capacity, max_age_secs)
    }

    /// Numbering from `first`. The hot path starts each wasm instance's rings at a random
    /// number: after a reset (a trap) a new instance's ring is empty, and a request the old
    /// one started may still come back with its number; from a random start, that number
    /// finds nothing rather than a newer request's state (one chance in about a million
    /// per request in flight across a reset, against a near certainty from zero).
    pub fn starting_at(first: u32, capacity: usize, max_age_secs: i64) -> Self {
        PendingRing { first, entries: VecDeque::new(), capacity, max_age_secs }
    }

    /// Keeps `value` and returns its number, or `None` when the ring is full of entries
    /// younger than the age limit.
    pub fn insert(&mut self, value: T, now: UnixSeconds) -> Option<u32> {
        while let Some(front) = self.entries.front() {
            let stale = front.as_ref().is_none_or(|(at, _)| now.saturating_sub(*at) >= self.max_age_secs);
            if !stale {
                break;
            }
            self.pop_front();
        }
        if self.entries.len() >= self.capacity {
            return None;
        }
        let number = self.first.wrapping_add(self.entries.len() as u32);
        self.entries.push_back(Some((now, value)));
        Some(number)
    }

    /// The value kept under `number`, removed; `None` if it finished or was dropped.
    pub fn take(&mut self, number: u32) -> Option<T> {
        let index = number.wrapping_sub(self.first) as usize;
        let value = self.entries.get_mut(index)?.take().map(|(_, value)| value);
        while matches!(self.entries.front(), Some(None)) {
            self.pop_front();
        }
        value
    }

    /// How many entries are waiting.
    pub fn len(&self) -> usize {
        self.entries.iter().filter(|e| e.is_some()).count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn pop_front(&mut self) {
        self.entries.pop_front();
        self.first = self.first.wrapping_add(1);
    }
}
