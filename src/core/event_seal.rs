//! The seal on each `EVENTS` queue message, so the consumer signs and posts only what
//! this worker's outbox wrote. Any Worker bound to the queue as a producer can send to
//! it, and a message's own fields prove nothing.
//!
//! A message is `{"event":<the delivered event>,"mac":"<base64>"}`. `event` holds the
//! exact bytes the webhook will carry, and `mac` is HMAC-SHA256 over those bytes, keyed
//! with HMAC-SHA256(`WEBHOOK_SECRET`'s key bytes, [`SEAL_KEY_LABEL`]): a key of its own,
//! so no webhook signature is a seal and no seal is a webhook signature. The HMACs are
//! the platform's (WebCrypto); this module only frames and reads the message.

use crate::core::base64::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// What the seal key is derived with. Changing it unseals every message in the queue.
pub const SEAL_KEY_LABEL: &str = "edge-sessions outbox v1";

#[derive(Serialize, Deserialize)]
struct Wire<'a> {
    #[serde(borrow)]
    event: &'a RawValue,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mac: Option<String>,
}

/// The queue message for `event_json` (an event as the outbox stores it), with the HMAC
/// tag over it. `None`: sent unsealed, when no webhook is configured to derive a key from
/// (a consumer without one delivers nothing).
pub fn sealed_message(event_json: &str, mac: Option<&[u8]>) -> Result<String, serde_json::Error> {
    let event: &RawValue = serde_json::from_str(event_json)?;
    serde_json::to_string(&Wire { event, mac: mac.map(|tag| STANDARD.encode(tag)) })
}

/// A queue message read back, not yet checked.
#[derive(Debug, PartialEq, Eq)]
pub struct QueueMessage<'a> {
    /// The event's bytes, exactly as sealed.
    pub event: &'a str,
    /// The tag to check them against; `None` when the message carries none (or one
    /// that is not base64).
    pub mac: Option<Vec<u8>>,
}

/// Reads a message body in the sealed shape; `None` for anything else (a bare event, as
/// builds before the seal queued, or any other text).
pub fn read_message(body: &str) -> Option<QueueMessage<'_>> {
    let wire: Wire<'_> = serde_json::from_str(body).ok()?;
    let mac = wire.mac.and_then(|m| STANDARD.decode(m).ok());
    Some(QueueMessage { event: wire.event.get(), mac })
}
