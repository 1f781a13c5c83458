//! Theft signals at the edge: the isolate's memory of what the account's Durable Object
//! decided about a session's drift (`core::drift_memory`), so a drifted session used in
//! a loop asks it once per isolate, session and change; and its memory of what each
//! client's signals digested to (`core::client_memory`), so a client using its session
//! again within a minute is not asked for `request.cf` again.

use crate::core::client_memory::{ClientKey, ClientMemory};
use crate::core::drift::{Baseline, BaselineDigest, DriftVerdict};
use crate::core::drift_memory::DriftMemory;
use crate::core::token::TokenHash;
use crate::core::UnixSeconds;
use std::cell::RefCell;

/// Most (session, change) verdicts an isolate remembers.
const DRIFT_MEMORY_CAPACITY: usize = 4096;

/// Most clients an isolate remembers, and for how long: a minute keeps a page's burst
/// of requests, and everything a busy client sends, to one `request.cf` read per minute,
/// and bounds how long a second program behind the same address and user agent could
/// pass for the first (`core::client_memory`).
const CLIENT_MEMORY_CAPACITY: usize = 4096;
const CLIENT_MEMORY_MAX_AGE_SECS: i64 = 60;

thread_local! {
    static DRIFT_VERDICTS: RefCell<DriftMemory> = RefCell::new(DriftMemory::new(DRIFT_MEMORY_CAPACITY));
    static CLIENT_DIGESTS: RefCell<ClientMemory> =
        RefCell::new(ClientMemory::new(CLIENT_MEMORY_CAPACITY, CLIENT_MEMORY_MAX_AGE_SECS));
}

/// The session's expected digest, if this client's signals were read and digested to it
/// within the last minute: then the request matches without reading `request.cf`.
pub fn remembered_match(
    client: Option<&ClientKey>,
    expected: Option<&BaselineDigest>,
    now: UnixSeconds,
) -> Option<BaselineDigest> {
    let (client, expected) = (client?, expected?);
    CLIENT_DIGESTS.with(|m| m.borrow().matches(client, expected, now)).then(|| expected.clone())
}

/// The digest of this client's signals, read just now (`None`: they carried nothing to
/// compare), remembered for the client's next requests.
pub fn digest_read(client: Option<ClientKey>, observed: &Baseline, now: UnixSeconds) -> Option<BaselineDigest> {
    let digest = (!observed.is_empty()).then(|| observed.digest())?;
    if let Some(client) = client {
        CLIENT_DIGESTS.with(|m| m.borrow_mut().remember(client, digest.clone(), now));
    }
    Some(digest)
}

/// What this isolate was already told about these signals for this session.
pub fn remembered(hash: &TokenHash, observed: &BaselineDigest) -> Option<DriftVerdict> {
    DRIFT_VERDICTS.with(|m| m.borrow().verdict(hash, observed))
}

pub fn remember(hash: &TokenHash, observed: &BaselineDigest, verdict: DriftVerdict) {
    DRIFT_VERDICTS.with(|m| m.borrow_mut().remember(hash, observed, verdict));
}
