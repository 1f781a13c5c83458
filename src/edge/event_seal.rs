//! Sealing the `EVENTS` queue's messages (the format is `core::event_seal`): the account's
//! Durable Object seals each event it sends, and the queue consumer opens a message
//! before it signs anything, so a message this worker's outbox did not write is never
//! delivered.

use crate::core::event_seal::{read_message, sealed_message, SEAL_KEY_LABEL};
use crate::core::webhook::{WebhookConfig, WebhookSecret};
use crate::edge::webcrypto::{hmac_sha256_key, CryptoError, SigningKey};

/// The key that seals and opens messages, derived from a webhook secret.
pub async fn seal_key(secret: &WebhookSecret) -> Result<SigningKey, CryptoError> {
    let secret = hmac_sha256_key(secret.key_bytes()).await?;
    hmac_sha256_key(&secret.sign(SEAL_KEY_LABEL.as_bytes()).await?).await
}

/// The queue messages for these events (as the outbox stores them), sealed with the key
/// from `WEBHOOK_SECRET`. Without a webhook there is no key, and no consumer that would
/// deliver them: they go unsealed.
pub async fn seal_all(webhook: Option<&WebhookConfig>, events: &[String]) -> Result<Vec<String>, String> {
    let key = match webhook {
        Some(webhook) => Some(seal_key(&webhook.secret).await.map_err(|e| e.to_string())?),
        None => None,
    };
    let mut messages = Vec::with_capacity(events.len());
    for event in events {
        let tag = match &key {
            Some(key) => Some(key.sign(event.as_bytes()).await.map_err(|e| e.to_string())?),
            None => None,
        };
        messages.push(sealed_message(event, tag.as_deref()).map_err(|e| e.to_string())?);
    }
    Ok(messages)
}

/// The event in a message `body`, if one of `keys` sealed it. `Ok(None)`: no key did,
/// or the message carries no seal; it did not come from this worker's outbox.
pub async fn open<'a>(keys: &[SigningKey], body: &'a str) -> Result<Option<&'a str>, CryptoError> {
    let Some(message) = read_message(body) else { return Ok(None) };
    let Some(mac) = &message.mac else { return Ok(None) };
    for key in keys {
        if key.verify(mac, message.event.as_bytes()).await? {
            return Ok(Some(message.event));
        }
    }
    Ok(None)
}
