//! The Workers KV namespace `SESSIONS`: the edge's fast copy of every live session,
//! keyed by token hash. The account's Durable Object is the only writer; the edge only
//! reads (one `get` per validation).

use crate::core::account::AccountId;
use crate::core::record::SessionRecord;
use crate::core::rotation_retry::RotatedAway;
use crate::core::token::{SessionId, TokenHash};
use crate::core::UnixSeconds;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use worker::Env;

pub const SESSIONS_BINDING: &str = "SESSIONS";

#[wasm_bindgen]
extern "C" {
    /// The KV binding itself. workers-rs's `KvStore` reads five methods off the binding
    /// when it is built, and its builders convert options and results with
    /// serde-wasm-bindgen (and format numbers with `f64`'s `Display`): about 20 KB of
    /// the module for six calls (docs/performance.md, "Size"). Options go in as JS
    /// objects; results with structure come out through `JSON.stringify`.
    type KvNamespace;

    /// `get(key, type)`: `"text"` for the hot path's read, `"arrayBuffer"`.
    #[wasm_bindgen(method, catch, js_name = get)]
    fn get_text(this: &KvNamespace, key: &str, value_type: &str) -> Result<js_sys::Promise, JsValue>;

    #[wasm_bindgen(method, catch, js_name = getWithMetadata)]
    fn get_with_metadata(this: &KvNamespace, key: &str, value_type: &str) -> Result<js_sys::Promise, JsValue>;

    #[wasm_bindgen(method, catch, js_name = list)]
    fn list(this: &KvNamespace, options: &js_sys::Object) -> Result<js_sys::Promise, JsValue>;

    #[wasm_bindgen(method, catch, js_name = delete)]
    fn delete(this: &KvNamespace, key: &str) -> Result<js_sys::Promise, JsValue>;

    /// `put(key, value, { expirationTtl, metadata })`.
    #[wasm_bindgen(method, catch, js_name = put)]
    fn put_text(
        this: &KvNamespace,
        key: &str,
        value: &str,
        options: &js_sys::Object,
    ) -> Result<js_sys::Promise, JsValue>;
}

/// The options of a `put`: a time to live, and the key's metadata as JSON.
fn put_options(ttl_secs: u64, metadata_json: Option<&str>) -> Result<js_sys::Object, JsValue> {
    let options = js_sys::Object::new();
    set_option(&options, "expirationTtl", &JsValue::from_f64(ttl_secs as f64))?;
    if let Some(json) = metadata_json {
        set_option(&options, "metadata", &js_sys::JSON::parse(json)?)?;
    }
    Ok(options)
}

/// Sets `name` on a JS options object.
fn set_option(options: &js_sys::Object, name: &str, value: &JsValue) -> Result<(), JsValue> {
    js_sys::Reflect::set(options, &JsValue::from_str(name), value).map(|_| ())
}

/// A page of `list`, as `JSON.stringify` writes it.
#[derive(Deserialize)]
struct ListPage {
    keys: Vec<ListedKey>,
    list_complete: bool,
    #[serde(default)]
    cursor: Option<String>,
}

#[derive(Deserialize)]
struct ListedKey {
    #[serde(default)]
    metadata: Option<serde_json::Value>,
}

/// A platform error's own words, for the log.
fn js_error(e: JsValue) -> StoreError {
    StoreError::Kv(e.as_string().unwrap_or_else(|| format!("{e:?}")))
}

pub struct SessionStore {
    namespace: KvNamespace,
}

/// Stored beside each record so a KV `list` can describe sessions without a `get` per
/// key (the admin listing across accounts). Holds no secret. A storage format
/// (docs/storage.md), never sent to clients as is: `views::FleetSession` is.
#[derive(Serialize, Deserialize)]
pub struct KeyMetadata {
    pub account_id: String,
    pub session_id: String,
    pub expires_at: UnixSeconds,
    pub absolute_expires_at: UnixSeconds,
    /// Who acts as the user, on an impersonation session: what the admin's listing by
    /// actor across accounts filters on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
}

/// A record that is stored but cannot be read: corrupt, or from a newer build.
#[derive(Debug)]
pub enum StoreError {
    Kv(String),
    Undecodable(crate::core::record::DecodeError),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Kv(e) => write!(f, "KV: {e}"),
            StoreError::Undecodable(e) => write!(f, "{e}"),
        }
    }
}

/// A session key's value as KV returned it: no value, or the record.
pub fn decode_value(bytes: Option<&[u8]>) -> Result<Option<SessionRecord>, StoreError> {
    match bytes {
        None => Ok(None),
        Some(bytes) => SessionRecord::decode(bytes).map(Some).map_err(StoreError::Undecodable),
    }
}

/// The readiness check's read of `key`: `None` when nothing is bound under `SESSIONS`,
/// otherwise whether the read worked (the platform's words when it did not).
pub async fn probe_read(env: &Env, key: &str) -> Option<Result<(), String>> {
    let binding = js_sys::Reflect::get(env, &JsValue::from_str(SESSIONS_BINDING)).ok()?;
    if binding.is_undefined() {
        return None;
    }
    let namespace: KvNamespace = binding.unchecked_into();
    let read = match namespace.get_text(key, "text") {
        Ok(promise) => JsFuture::from(promise).await.map(|_| ()),
        Err(e) => Err(e),
    };
    Some(read.map_err(|e| e.as_string().unwrap_or_else(|| format!("{e:?}"))))
}

impl SessionStore {
    pub fn from_env(env: &Env) -> Result<Self, StoreError> {
        let binding = js_sys::Reflect::get(env, &JsValue::from_str(SESSIONS_BINDING))
            .ok()
            .filter(|b| b.is_object())
            .ok_or_else(|| StoreError::Kv(format!("no KV binding named {SESSIONS_BINDING}")))?;
        Ok(SessionStore { namespace: binding.unchecked_into() })
    }

    /// The one KV read of the hot path.
    pub async fn get(&self, hash: &TokenHash) -> Result<Option<SessionRecord>, StoreError> {
        let promise = self.namespace.get_text(&hash.kv_key(), "text").map_err(js_error)?;
        let value = JsFuture::from(promise).await.map_err(js_error)?;
        decode_value(value.as_string().as_deref().map(str::as_bytes))
    }

    /// Whose session a key holds, for revoking it: from the record, or, when the record
    /// cannot be decoded (another build's format, during a rollout), from the key
    /// metadata, which every build writes in the same shape. One KV read.
    pub async fn owner(&self, hash: &TokenHash) -> Result<Option<(AccountId, SessionId)>, StoreError> {
        let promise = self.namespace.get_with_metadata(&hash.kv_key(), "arrayBuffer").map_err(js_error)?;
        let result = JsFuture::from(promise).await.map_err(js_error)?;
        let value = js_sys::Reflect::get(&result, &JsValue::from_str("value")).map_err(js_error)?;
        if value.is_null() || value.is_undefined() {
            return Ok(None);
        }
        if let Ok(record) = SessionRecord::decode(&js_sys::Uint8Array::new(&value).to_vec()) {
            return Ok(Some((record.account_id, record.session_id)));
        }
        // Metadata that is there but is not a `KeyMetadata` is a failed read, as
        // workers-rs's typed read made it.
        let metadata = js_sys::Reflect::get(&result, &JsValue::from_str("metadata")).map_err(js_error)?;
        if metadata.is_null() || metadata.is_undefined() {
            return Ok(None);
        }
        let json = js_sys::JSON::stringify(&metadata).map_err(js_error)?;
        let metadata: KeyMetadata =
            serde_json::from_str(&String::from(json)).map_err(|e| StoreError::Kv(e.to_string()))?;
        Ok(AccountId::parse(&metadata.account_id).ok().zip(SessionId::parse(&metadata.session_id)))
    }

    pub async fn put(&self, hash: &TokenHash, record: &SessionRecord, ttl_secs: u64) -> Result<(), StoreError> {
        let metadata = KeyMetadata {
            account_id: record.account_id.as_str().to_owned(),
            session_id: record.session_id.as_str().to_owned(),
            expires_at: record.idle_expires_at,
            absolute_expires_at: record.absolute_expires_at,
            actor: record.impersonation.as_ref().map(|imp| imp.actor.clone()),
        };
        // Serialising a struct of strings and integers to a String cannot fail.
        let metadata = serde_json::to_string(&metadata).expect("key metadata serialises");
        self.put_value(&hash.kv_key(), &record.encode(), ttl_secs, Some(&metadata)).await
    }

    /// One KV write, through the binding itself.
    async fn put_value(
        &self,
        key: &str,
        value: &str,
        ttl_secs: u64,
        metadata_json: Option<&str>,
    ) -> Result<(), StoreError> {
        let options = put_options(ttl_secs, metadata_json).map_err(js_error)?;
        let promise = self.namespace.put_text(key, value, &options).map_err(js_error)?;
        JsFuture::from(promise).await.map_err(js_error)?;
        Ok(())
    }

    /// Leaves the marker that lets a rotated-away token retry its rotation
    /// (`core::rotation_retry`). No metadata: nothing lists it.
    pub async fn put_rotation_marker(
        &self,
        old_hash: &TokenHash,
        marker: &RotatedAway,
        ttl_secs: u64,
    ) -> Result<(), StoreError> {
        let value = serde_json::to_string(marker).map_err(|e| StoreError::Kv(e.to_string()))?;
        self.put_value(&RotatedAway::kv_key(old_hash), &value, ttl_secs, None).await
    }

    /// The rotation marker a token left, if any. One that does not decode is no marker.
    pub async fn rotation_marker(&self, hash: &TokenHash) -> Result<Option<RotatedAway>, StoreError> {
        let promise = self.namespace.get_text(&RotatedAway::kv_key(hash), "text").map_err(js_error)?;
        let text = JsFuture::from(promise).await.map_err(js_error)?.as_string();
        Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
    }

    /// One page of live sessions across all accounts, from key metadata (no value reads).
    /// Expired entries KV has not yet collected are skipped, so a page may hold fewer
    /// than `limit` even when more follow.
    pub async fn list_live(
        &self,
        limit: u32,
        cursor: Option<String>,
        now: UnixSeconds,
    ) -> Result<(Vec<KeyMetadata>, Option<String>), StoreError> {
        let options = js_sys::Object::new();
        set_option(&options, "prefix", &JsValue::from_str(crate::core::token::KV_KEY_PREFIX)).map_err(js_error)?;
        set_option(&options, "limit", &JsValue::from(limit)).map_err(js_error)?;
        if let Some(cursor) = cursor {
            set_option(&options, "cursor", &JsValue::from(cursor)).map_err(js_error)?;
        }
        let promise = self.namespace.list(&options).map_err(js_error)?;
        let result = JsFuture::from(promise).await.map_err(js_error)?;
        let json = js_sys::JSON::stringify(&result).map_err(js_error)?;
        let page: ListPage = serde_json::from_str(&String::from(json)).map_err(|e| StoreError::Kv(e.to_string()))?;
        let sessions = page
            .keys
            .into_iter()
            .filter_map(|key| serde_json::from_value::<KeyMetadata>(key.metadata?).ok())
            .filter(|s| s.expires_at > now && s.absolute_expires_at > now)
            .collect();
        let cursor = if page.list_complete { None } else { page.cursor };
        Ok((sessions, cursor))
    }

    pub async fn delete(&self, kv_key: &str) -> Result<(), StoreError> {
        let promise = self.namespace.delete(kv_key).map_err(js_error)?;
        JsFuture::from(promise).await.map_err(js_error)?;
        Ok(())
    }
}
