//! The platform's WebCrypto (`crypto.subtle`), for the few primitives this worker needs:
//! HMAC-SHA256 (webhook signatures, queue message seals), signatures with an imported
//! private JWK (session assertions), their verification with the public JWK (the
//! signing key's import check) and SHA-256 digests (key thumbprints). Native code in
//! the runtime: no cryptography is compiled into the wasm or written here.

use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use worker::wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    /// `crypto.subtle`.
    type SubtleCrypto;

    #[wasm_bindgen(method, catch, js_name = importKey)]
    fn import_key(
        this: &SubtleCrypto,
        format: &str,
        key_data: &JsValue,
        algorithm: &JsValue,
        extractable: bool,
        usages: &Array,
    ) -> Result<Promise, JsValue>;

    #[wasm_bindgen(method, catch)]
    fn sign(this: &SubtleCrypto, algorithm: &JsValue, key: &JsValue, data: &Uint8Array) -> Result<Promise, JsValue>;

    #[wasm_bindgen(method, catch)]
    fn verify(
        this: &SubtleCrypto,
        algorithm: &JsValue,
        key: &JsValue,
        signature: &Uint8Array,
        data: &Uint8Array,
    ) -> Result<Promise, JsValue>;

    #[wasm_bindgen(method, catch)]
    fn digest(this: &SubtleCrypto, algorithm: &str, data: &Uint8Array) -> Result<Promise, JsValue>;
}

/// A WebCrypto failure, with the platform's message.
#[derive(Debug)]
pub struct CryptoError(pub String);

impl std::fmt::Display for CryptoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WebCrypto: {}", self.0)
    }
}

impl From<JsValue> for CryptoError {
    fn from(e: JsValue) -> Self {
        let message =
            e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).unwrap_or_else(|| format!("{e:?}"));
        CryptoError(message)
    }
}

fn subtle() -> Result<SubtleCrypto, CryptoError> {
    let crypto = Reflect::get(&js_sys::global(), &"crypto".into())?;
    Ok(Reflect::get(&crypto, &"subtle".into())?.unchecked_into())
}

/// An imported key, ready to sign. Keep it: importing costs more than signing.
#[derive(Clone)]
pub struct SigningKey {
    key: JsValue,
    algorithm: JsValue,
}

/// `{name: "HMAC", hash: "SHA-256"}` over raw key bytes, to sign and to verify.
pub async fn hmac_sha256_key(raw: &[u8]) -> Result<SigningKey, CryptoError> {
    let algorithm = object(&[("name", "HMAC".into()), ("hash", "SHA-256".into())])?;
    let usages = Array::of2(&"sign".into(), &"verify".into());
    let promise = subtle()?.import_key("raw", &Uint8Array::from(raw).into(), &algorithm, false, &usages)?;
    let key = JsFuture::from(promise).await?;
    Ok(SigningKey { key, algorithm: object(&[("name", "HMAC".into())])? })
}

/// Imports a private JWK (Ed25519 or P-256) for signing. `jwk_json` is the key as JSON.
pub async fn private_jwk_key(jwk_json: &str, curve: Curve) -> Result<SigningKey, CryptoError> {
    let (key, algorithm) = import_jwk(jwk_json, curve, "sign").await?;
    Ok(SigningKey { key, algorithm })
}

/// Imports a public JWK (Ed25519 or P-256) for verifying. `jwk_json` is the key as JSON.
pub async fn public_jwk_key(jwk_json: &str, curve: Curve) -> Result<VerifyingKey, CryptoError> {
    let (key, algorithm) = import_jwk(jwk_json, curve, "verify").await?;
    Ok(VerifyingKey { key, algorithm })
}

/// The imported key and the algorithm parameters its `sign` or `verify` takes.
async fn import_jwk(jwk_json: &str, curve: Curve, usage: &str) -> Result<(JsValue, JsValue), CryptoError> {
    let jwk = js_sys::JSON::parse(jwk_json)?;
    let (import_algorithm, use_algorithm) = match curve {
        Curve::Ed25519 => (object(&[("name", "Ed25519".into())])?, object(&[("name", "Ed25519".into())])?),
        Curve::P256 => (
            object(&[("name", "ECDSA".into()), ("namedCurve", "P-256".into())])?,
            object(&[("name", "ECDSA".into()), ("hash", "SHA-256".into())])?,
        ),
    };
    let usages = Array::of1(&usage.into());
    let promise = subtle()?.import_key("jwk", &jwk, &import_algorithm, false, &usages)?;
    let key = JsFuture::from(promise).await?;
    Ok((key, use_algorithm))
}

/// Imports a public RSA JWK for RS256 (RSASSA-PKCS1-v1_5 with SHA-256): a DBSC device key.
pub async fn public_rsa_jwk_key(jwk_json: &str) -> Result<VerifyingKey, CryptoError> {
    let jwk = js_sys::JSON::parse(jwk_json)?;
    let import_algorithm = object(&[("name", "RSASSA-PKCS1-v1_5".into()), ("hash", "SHA-256".into())])?;
    let usages = Array::of1(&"verify".into());
    let promise = subtle()?.import_key("jwk", &jwk, &import_algorithm, false, &usages)?;
    let key = JsFuture::from(promise).await?;
    Ok(VerifyingKey { key, algorithm: object(&[("name", "RSASSA-PKCS1-v1_5".into())])? })
}

/// An imported public key, ready to verify.
#[derive(Clone)]
pub struct VerifyingKey {
    key: JsValue,
    algorithm: JsValue,
}

impl VerifyingKey {
    /// Whether `signature` is this key's over `data`.
    pub async fn verify(&self, signature: &[u8], data: &[u8]) -> Result<bool, CryptoError> {
        let promise =
            subtle()?.verify(&self.algorithm, &self.key, &Uint8Array::from(signature), &Uint8Array::from(data))?;
        Ok(JsFuture::from(promise).await?.as_bool().unwrap_or(false))
    }
}

/// The two signature algorithms a signing key may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Curve {
    /// `EdDSA` in JOSE terms.
    Ed25519,
    /// `ES256`: ECDSA over P-256 with SHA-256; WebCrypto returns the raw r‖s form JWS
    /// uses.
    P256,
}

impl SigningKey {
    pub async fn sign(&self, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let promise = subtle()?.sign(&self.algorithm, &self.key, &Uint8Array::from(data))?;
        let signature = JsFuture::from(promise).await?;
        Ok(Uint8Array::new(&signature).to_vec())
    }

    /// Whether `signature` is this key's over `data`, compared by the platform in
    /// constant time. Only HMAC keys are imported for verifying.
    pub async fn verify(&self, signature: &[u8], data: &[u8]) -> Result<bool, CryptoError> {
        let promise =
            subtle()?.verify(&self.algorithm, &self.key, &Uint8Array::from(signature), &Uint8Array::from(data))?;
        Ok(JsFuture::from(promise).await?.as_bool().unwrap_or(false))
    }
}

pub async fn sha256(data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let promise = subtle()?.digest("SHA-256", &Uint8Array::from(data))?;
    let digest = JsFuture::from(promise).await?;
    Ok(Uint8Array::new(&digest).to_vec())
}

fn object(entries: &[(&str, JsValue)]) -> Result<JsValue, CryptoError> {
    let object = Object::new();
    for (name, value) in entries {
        Reflect::set(&object, &(*name).into(), value)?;
    }
    Ok(object.into())
}
