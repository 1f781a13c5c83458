//! What each client's theft signals digested to, per isolate, so that a client using its
//! session again within a minute is compared without building `request.cf` again.
//!
//! Reading `request.cf` makes the runtime build an object of some forty fields on every
//! request; on the hot path that was the largest single cost of the theft signals, about
//! a tenth of a validation's CPU (docs/performance.md). A client is known here by what the
//! request says without it: the connecting address (`CF-Connecting-IP`, which Cloudflare
//! sets and a client cannot), the `User-Agent` and `Sec-CH-UA-Platform`.
//!
//! What that costs the signals: the ASN and the country are the address's, so they cannot
//! differ between two requests from one address; the TLS fingerprint can. A second program
//! behind the victim's own address (the same NAT), sending the victim's exact `User-Agent`,
//! within a minute of the victim's last request to the same isolate, is taken for the
//! victim. Everywhere else (another address, another user agent, another isolate, a minute
//! later) `request.cf` is read and compared as before. docs/theft-signals.md says so.
//!
//! Only a digest that matches what the session expects is ever taken from here: anything
//! else reads `request.cf`, so a drift is always classified from the real signals. Bounded
//! like `TouchMemory`: past its capacity it forgets everything, which only costs reads.

use crate::core::drift::BaselineDigest;
use crate::core::UnixSeconds;
use std::collections::HashMap;

/// A client as the request's headers name it: 128 bits of blake3 over the
/// address, user agent and platform (the map never holds the values themselves).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClientKey([u8; 16]);

impl ClientKey {
    /// `None` without an address: then nothing ties the ASN and country to the key, and
    /// every request reads `request.cf`.
    pub fn of(address: Option<&str>, user_agent: Option<&str>, platform: Option<&str>) -> Option<ClientKey> {
        let address = address.filter(|a| !a.is_empty())?;
        let mut hasher = blake3::Hasher::new();
        for part in [Some(address), user_agent, platform] {
            // Length-prefixed: ("a", "bc") and ("ab", "c") are different clients.
            let part = part.unwrap_or("");
            hasher.update(&(part.len() as u64).to_le_bytes());
            hasher.update(part.as_bytes());
        }
        let mut key = [0u8; 16];
        key.copy_from_slice(&hasher.finalize().as_bytes()[..16]);
        Some(ClientKey(key))
    }
}

pub struct ClientMemory {
    digests: HashMap<ClientKey, (BaselineDigest, UnixSeconds)>,
    capacity: usize,
    max_age_secs: i64,
}

impl ClientMemory {
    pub fn new(capacity: usize, max_age_secs: i64) -> Self {
        ClientMemory { digests: HashMap::new(), capacity, max_age_secs }
    }

    /// Whether this client's signals digested to `expected` less than the memory's age
    /// ago. Never true for a digest the session does not expect.
    pub fn matches(&self, client: &ClientKey, expected: &BaselineDigest, now: UnixSeconds) -> bool {
        self.digests
            .get(client)
            .is_some_and(|(digest, at)| digest == expected && now - at < self.max_age_secs && now >= *at)
    }

    /// What this client's signals, read from `request.cf` just now, digested to.
    pub fn remember(&mut self, client: ClientKey, digest: BaselineDigest, now: UnixSeconds) {
        if self.digests.len() >= self.capacity && !self.digests.contains_key(&client) {
            self.digests.clear();
        }
        self.digests.insert(client, (digest, now));
    }

    pub fn len(&self) -> usize {
        self.digests.len()
    }

    pub fn is_empty(&self) -> bool {
        self.digests.is_empty()
    }
}
