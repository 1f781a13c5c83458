//! The theft signals a request carries (`core::drift::ClientSignals`), read from
//! `request.cf` and three headers on the full path. The hot path's entry shim reads the
//! same fields and passes them as lines (`ClientSignals::from_lines`). The headers come
//! first: a client whose signals this isolate read a moment ago is not asked for
//! `request.cf` again (`core::client_memory`).

use crate::core::client_memory::ClientKey;
use crate::core::drift::ClientSignals;
use crate::edge::request::IncomingRequest;
use js_sys::Reflect;
use wasm_bindgen::JsValue;

/// The signals, owned: `ClientSignals` borrows from this.
#[derive(Default)]
pub struct ClientReading {
    asn: Option<u32>,
    country: Option<String>,
    tls_ciphers_sha1: Option<String>,
    tls_extensions_sha1: Option<String>,
    tls_version: Option<String>,
    ja4: Option<String>,
    user_agent: Option<String>,
    ch_platform: Option<String>,
    address: Option<String>,
}

fn field(object: &JsValue, name: &str) -> Option<JsValue> {
    Reflect::get(object, &JsValue::from_str(name)).ok().filter(|v| !v.is_undefined() && !v.is_null())
}

fn text(object: &JsValue, name: &str) -> Option<String> {
    field(object, name).and_then(|v| v.as_string()).filter(|s| !s.is_empty())
}

impl ClientReading {
    /// The headers' part: what names the client (`ClientKey`) and what the baseline
    /// takes from the user agent.
    pub fn headers_of(req: &IncomingRequest) -> ClientReading {
        let header = |name: &str| req.header(name).filter(|v| !v.is_empty());
        ClientReading {
            user_agent: header("User-Agent"),
            ch_platform: header("Sec-CH-UA-Platform"),
            address: header("CF-Connecting-IP"),
            ..Default::default()
        }
    }

    pub fn client_key(&self) -> Option<ClientKey> {
        ClientKey::of(self.address.as_deref(), self.user_agent.as_deref(), self.ch_platform.as_deref())
    }

    /// Adds `request.cf`'s part, read through `Reflect`, not workers-rs's `Cf`: only these
    /// few fields, and nothing when the runtime gave the request no `cf` (a
    /// service-binding call).
    pub fn with_cf(mut self, req: &IncomingRequest) -> ClientReading {
        let Some(cf) = field(req.inner(), "cf") else { return self };
        self.asn = field(&cf, "asn")
            .and_then(|v| v.as_f64())
            .filter(|n| n.fract() == 0.0 && *n >= 0.0 && *n <= f64::from(u32::MAX))
            .map(|n| n as u32);
        self.country = text(&cf, "country");
        self.tls_ciphers_sha1 = text(&cf, "tlsClientCiphersSha1");
        self.tls_extensions_sha1 = text(&cf, "tlsClientExtensionsSha1");
        self.tls_version = text(&cf, "tlsVersion");
        self.ja4 = field(&cf, "botManagement").and_then(|bm| text(&bm, "ja4"));
        self
    }

    pub fn signals(&self) -> ClientSignals<'_> {
        ClientSignals {
            asn: self.asn,
            country: self.country.as_deref(),
            tls_ciphers_sha1: self.tls_ciphers_sha1.as_deref(),
            tls_extensions_sha1: self.tls_extensions_sha1.as_deref(),
            tls_version: self.tls_version.as_deref(),
            ja4: self.ja4.as_deref(),
            user_agent: self.user_agent.as_deref(),
            ch_platform: self.ch_platform.as_deref(),
            address: self.address.as_deref(),
        }
    }
}
