//! The theft signals a request carries (`core::drift::ClientSignals`), read from
//! `request.cf` and two headers on the full path. The hot path's entry shim reads the
//! same fields and passes them as lines (`ClientSignals::from_lines`).

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
}

fn field(object: &JsValue, name: &str) -> Option<JsValue> {
    Reflect::get(object, &JsValue::from_str(name)).ok().filter(|v| !v.is_undefined() && !v.is_null())
}

fn text(object: &JsValue, name: &str) -> Option<String> {
    field(object, name).and_then(|v| v.as_string()).filter(|s| !s.is_empty())
}

impl ClientReading {
    /// Read through `Reflect`, not workers-rs's `Cf`: only these few fields, and
    /// nothing when the runtime gave the request no `cf` (a service-binding call).
    pub fn of(req: &IncomingRequest) -> ClientReading {
        let header = |name: &str| req.header(name).filter(|v| !v.is_empty());
        let mut reading = ClientReading {
            user_agent: header("User-Agent"),
            ch_platform: header("Sec-CH-UA-Platform"),
            ..Default::default()
        };
        let Some(cf) = field(req.inner(), "cf") else { return reading };
        reading.asn = field(&cf, "asn")
            .and_then(|v| v.as_f64())
            .filter(|n| n.fract() == 0.0 && *n >= 0.0 && *n <= f64::from(u32::MAX))
            .map(|n| n as u32);
        reading.country = text(&cf, "country");
        reading.tls_ciphers_sha1 = text(&cf, "tlsClientCiphersSha1");
        reading.tls_extensions_sha1 = text(&cf, "tlsClientExtensionsSha1");
        reading.tls_version = text(&cf, "tlsVersion");
        reading.ja4 = field(&cf, "botManagement").and_then(|bm| text(&bm, "ja4"));
        reading
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
        }
    }
}
