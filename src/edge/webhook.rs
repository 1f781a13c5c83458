//! The `EVENTS` queue's consumer: delivers each lifecycle event to `WEBHOOK_URL`, signed
//! by the Standard Webhooks specification (`webhook-id`, `webhook-timestamp`,
//! `webhook-signature: v1,<base64 HMAC-SHA256>`, and a second signature with
//! `WEBHOOK_SECRET_PREVIOUS` while it is set).
//!
//! Only a message that this worker's outbox sealed (`event_seal`) is signed and posted;
//! any other is acknowledged and dropped with a log line, never retried: another
//! producer bound to the queue must not be able to send trusted events, and retrying
//! cannot make a forged or unsealed message genuine.
//!
//! A 2xx answer acknowledges the message. Anything else, or no answer within
//! `WEBHOOK_TIMEOUT_MS`, retries it after an exponentially growing delay; once the
//! queue's `max_retries` are spent, Queues moves it to the dead-letter queue. Messages are
//! delivered one at a time, in the order of the batch.
//!
//! The handler is exported from `edge/mod.rs` by hand rather than through
//! `#[event(queue)]`: the macro's message type does not expose `attempts`, which the
//! backoff needs.

use crate::core::config::Config;
use crate::core::webhook::{signature_header, signed_content, WebhookConfig};
use crate::edge::config::load_config;
use crate::edge::error::log_error;
use crate::edge::event_seal::{self, seal_key};
use crate::edge::fetch::{fetch_with_deadline, FetchFailure};
use crate::edge::platform;
use crate::edge::webcrypto::{hmac_sha256_key, CryptoError, SigningKey};
use js_sys::{Array, Function, Object, Reflect};
use serde::Deserialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use worker::{web_sys, Env, Headers};

/// The fields of an event the consumer needs; the event is sent as it was sealed.
#[derive(Deserialize)]
struct EventHead {
    id: String,
    #[serde(rename = "type")]
    event_type: String,
}

/// One queue message, as the runtime hands it over.
struct QueueMessage(JsValue);

impl QueueMessage {
    fn body(&self) -> Option<String> {
        Reflect::get(&self.0, &"body".into()).ok()?.as_string()
    }

    fn attempts(&self) -> u32 {
        Reflect::get(&self.0, &"attempts".into()).ok().and_then(|v| v.as_f64()).map_or(1, |n| n as u32)
    }

    fn ack(&self) {
        self.call("ack", &JsValue::UNDEFINED);
    }

    fn retry(&self, delay_secs: u32) {
        let options = Object::new();
        let _ = Reflect::set(&options, &"delaySeconds".into(), &JsValue::from(delay_secs));
        self.call("retry", &options.into());
    }

    fn call(&self, method: &str, argument: &JsValue) {
        let function = Reflect::get(&self.0, &method.into()).ok().and_then(|f| f.dyn_into::<Function>().ok());
        if let Some(function) = function {
            let _ = function.call1(&self.0, argument);
        }
    }
}

/// The queue handler's work: every message of `batch` delivered, acked or retried.
pub async fn consume(batch: JsValue, env: Env) -> Result<JsValue, JsValue> {
    let messages: Array = Reflect::get(&batch, &"messages".into())?.dyn_into()?;
    let messages: Vec<QueueMessage> = messages.iter().map(QueueMessage).collect();
    let config = match load_config(&env) {
        Ok(config) => config,
        Err(e) => {
            // Nothing is lost while the operator fixes the setting: every message waits.
            e.log_if_internal();
            log_error("error", "webhook: invalid configuration; retrying later", &"see invalid_config");
            messages.iter().for_each(|m| m.retry(crate::core::webhook::DEFAULT_RETRY_DELAY_SECS));
            return Ok(JsValue::UNDEFINED);
        }
    };
    deliver_all(&config, &messages).await;
    Ok(JsValue::UNDEFINED)
}

async fn deliver_all(config: &Config, messages: &[QueueMessage]) {
    let Some(webhook) = &config.webhook else {
        // No receiver configured: the events are already in the log; nothing to send.
        messages.iter().for_each(QueueMessage::ack);
        return;
    };
    let keys = match Keys::import(webhook).await {
        Ok(keys) => keys,
        Err(e) => {
            log_error("error", "webhook: importing the secret failed", &e);
            messages.iter().for_each(|m| m.retry(webhook.retry_delay(m.attempts())));
            return;
        }
    };
    for message in messages {
        match deliver(webhook, &keys, message).await {
            Delivery::Done => message.ack(),
            Delivery::Retry(why) => {
                log_error("warn", "webhook: delivery failed, will retry", &why);
                message.retry(webhook.retry_delay(message.attempts()));
            }
        }
    }
}

enum Delivery {
    Done,
    Retry(String),
}

/// The keys one batch is handled with, imported once, one of each per secret
/// (`WEBHOOK_SECRET`, then `WEBHOOK_SECRET_PREVIOUS` while it is set).
struct Keys {
    /// Each signs every webhook request: a receiver verifies with either secret.
    signing: Vec<SigningKey>,
    /// Each opens the queue's messages, so one sealed before a rotation still goes out.
    seals: Vec<SigningKey>,
}

impl Keys {
    async fn import(webhook: &WebhookConfig) -> Result<Keys, CryptoError> {
        let (mut signing, mut seals) = (Vec::new(), Vec::new());
        for secret in webhook.secrets() {
            signing.push(hmac_sha256_key(secret.key_bytes()).await?);
            seals.push(seal_key(secret).await?);
        }
        Ok(Keys { signing, seals })
    }
}

async fn deliver(webhook: &WebhookConfig, keys: &Keys, message: &QueueMessage) -> Delivery {
    let Some(message_body) = message.body() else {
        log_error("error", "webhook: a message without a text body was dropped", &"not an event");
        return Delivery::Done;
    };
    let body = match event_seal::open(&keys.seals, &message_body).await {
        Ok(Some(event)) => event,
        Ok(None) => {
            let why = "forged, from another producer, or queued by a build before the seal";
            log_error("error", "webhook: a message not sealed by this worker's outbox was dropped", &why);
            return Delivery::Done;
        }
        Err(e) => return Delivery::Retry(e.to_string()),
    };
    let Ok(head) = serde_json::from_str::<EventHead>(body) else {
        log_error("error", "webhook: a message that is not an event was dropped", &"not an event");
        return Delivery::Done;
    };
    if !webhook.sends(&head.event_type) {
        return Delivery::Done;
    }
    let timestamp = platform::now();
    let content = signed_content(&head.id, timestamp, body);
    let mut tags = Vec::with_capacity(keys.signing.len());
    for key in &keys.signing {
        match key.sign(content.as_bytes()).await {
            Ok(tag) => tags.push(tag),
            Err(e) => return Delivery::Retry(e.to_string()),
        }
    }
    let headers = Headers::new();
    let _ = headers.set("Content-Type", "application/json");
    let _ = headers.set("webhook-id", &head.id);
    let _ = headers.set("webhook-timestamp", &timestamp.to_string());
    let _ = headers.set("webhook-signature", &signature_header(&tags));
    post(&webhook.url, headers, body.to_owned(), webhook.timeout_ms).await
}

/// One POST, given up after `timeout_ms`.
async fn post(url: &str, headers: Headers, body: String, timeout_ms: u32) -> Delivery {
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers.0);
    init.set_body(&JsValue::from_str(&body));
    match fetch_with_deadline(url, &init, timeout_ms).await {
        Ok(response) if (200..300).contains(&response.status_code()) => Delivery::Done,
        Ok(response) => Delivery::Retry(format!("the receiver answered {}", response.status_code())),
        Err(FetchFailure::Build(e)) => Delivery::Retry(format!("building the request: {e}")),
        Err(FetchFailure::Unreachable(e)) => Delivery::Retry(format!("the receiver could not be reached: {e}")),
        Err(FetchFailure::TimedOut) => Delivery::Retry(format!("no answer within {timeout_ms} ms")),
    }
}
