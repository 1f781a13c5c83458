//! Signed session assertions at the edge: the key set (`GET /v1/jwks.json`) and the JWTs
//! the gatekeeper forwards and `GET /v1/session/token` returns. The core decides what
//! they say (`core::assertion`); WebCrypto signs.
//!
//! Both the imported key and recent assertions are kept per isolate. Importing a key
//! costs more than a signature, and a gated page load makes many requests for one
//! session: an assertion is reused while more than half its lifetime remains, keyed by
//! everything it says except its times (kind, session, facts, claims, issuer, audience,
//! key).

use crate::core::assertion::{compact, signing_input, Addressing, AssertionKind};
use crate::core::config::Config;
use crate::core::jwk::SigningJwk;
use crate::core::jwk::{kid_from_digest, KeyType};
use crate::core::record::SessionRecord;
use crate::core::vars::ConfigError;
use crate::core::UnixSeconds;
use crate::edge::error::ApiError;
use crate::edge::webcrypto::{private_jwk_key, public_jwk_key, sha256, Curve, SigningKey};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// The keys as this isolate uses them.
pub struct KeySet {
    signer: Option<Signer>,
    /// `{"keys": [...]}`: the current key first, then the next, then the previous one.
    pub jwks_json: String,
}

struct Signer {
    key: SigningKey,
    key_type: KeyType,
    kid: String,
    issuer: String,
}

/// Most assertions remembered per isolate; past it the memory starts over.
const ISSUED_CAPACITY: usize = 1024;

struct Issued {
    jwt: String,
    iat: UnixSeconds,
    exp: UnixSeconds,
}

thread_local! {
    static KEYS: RefCell<Option<Rc<KeySet>>> = const { RefCell::new(None) };
    static ISSUED: RefCell<HashMap<[u8; 32], Issued>> = RefCell::new(HashMap::new());
}

/// The key set, imported once per isolate (vars are fixed for a deployment).
pub async fn key_set(config: &Config) -> Result<Rc<KeySet>, ApiError> {
    if let Some(keys) = KEYS.with(|k| k.borrow().clone()) {
        return Ok(keys);
    }
    let settings = &config.assertions;
    let mut published = Vec::new();
    let mut signer = None;
    let (current, issuer) = settings.signer().unzip();
    for (jwk, current) in [(current, true), (settings.next.as_ref(), false), (settings.previous.as_ref(), false)] {
        let Some(jwk) = jwk else { continue };
        let digest =
            sha256(jwk.thumbprint_input().as_bytes()).await.map_err(|e| ApiError::internal("jwk thumbprint", e))?;
        let kid = kid_from_digest(&digest);
        if published.iter().any(|p: &serde_json::Value| p["kid"] == kid.as_str()) {
            continue; // the same key twice (a rotation step half done): publish it once
        }
        published.push(jwk.public_jwk(&kid));
        if current {
            let key = import_signing_key(jwk).await?;
            signer = Some(Signer { key, key_type: jwk.key_type, kid, issuer: issuer.unwrap_or_default().to_owned() });
        }
    }
    let jwks_json = serde_json::json!({ "keys": published }).to_string();
    let keys = Rc::new(KeySet { signer, jwks_json });
    KEYS.with(|k| *k.borrow_mut() = Some(keys.clone()));
    Ok(keys)
}

/// Imports `SIGNING_KEY` and proves its halves belong together: a probe signed with the
/// private part must verify with the public part the key set publishes. A key that fails
/// would sign assertions no verifier accepts, so it is refused as configuration.
async fn import_signing_key(jwk: &SigningJwk) -> Result<SigningKey, ApiError> {
    // WebCrypto's messages may describe the key material: never logged or echoed.
    let refused = |reason: &str| ApiError::from(ConfigError::new("SIGNING_KEY", reason));
    let curve = match jwk.key_type {
        KeyType::Ed25519 => Curve::Ed25519,
        KeyType::P256 => Curve::P256,
    };
    let private = jwk.private_json().unwrap_or_default();
    let key = private_jwk_key(private, curve).await.map_err(|_| refused("could not be imported as a signing key"))?;
    let public = public_jwk_key(&jwk.thumbprint_input(), curve)
        .await
        .map_err(|_| refused("has a public part (x, y) that is not a valid public key"))?;
    let probe = b"edge-sessions: does SIGNING_KEY's public part match its private part?";
    let signature = key.sign(probe).await.map_err(|_| refused("could not sign"))?;
    if !public.verify(&signature, probe).await.unwrap_or(false) {
        return Err(refused("has a public part (x, y) that does not match its private part (d)"));
    }
    Ok(key)
}

/// An assertion of `kind` for `record` and `audience`, signed as `ISSUER`, or `None` when
/// no `SIGNING_KEY` is configured.
pub async fn assertion_for(
    config: &Config,
    record: &SessionRecord,
    kind: AssertionKind,
    audience: &str,
    now: UnixSeconds,
) -> Result<Option<(String, UnixSeconds)>, ApiError> {
    let keys = key_set(config).await?;
    let Some(signer) = &keys.signer else { return Ok(None) };
    let to = Addressing { kind, issuer: &signer.issuer, audience };
    let mut id = blake3::Hasher::new();
    let parts =
        [to.kind.typ(), record.session_id.as_str(), record.account_id.as_str(), to.issuer, to.audience, &signer.kid];
    for part in parts {
        id.update(part.as_bytes()).update(&[0]);
    }
    id.update(&record.authenticated_at.to_le_bytes()).update(&[record.aal]);
    id.update(record.amr.join(",").as_bytes()).update(&[0]);
    id.update(serde_json::to_string(&record.claims).unwrap_or_default().as_bytes());
    if let Some(imp) = &record.impersonation {
        id.update(&[0]).update(imp.actor.as_bytes());
    }
    let id = *id.finalize().as_bytes();
    let reused = ISSUED.with(|issued| {
        issued.borrow().get(&id).filter(|a| (a.exp - now) * 2 > a.exp - a.iat).map(|a| (a.jwt.clone(), a.exp))
    });
    if reused.is_some() {
        return Ok(reused);
    }
    let (input, exp) = signing_input(signer.key_type, &signer.kid, to, record, now, config.assertions.ttl_secs);
    let signature =
        signer.key.sign(input.as_bytes()).await.map_err(|e| ApiError::internal("signing an assertion", e))?;
    let jwt = compact(&input, &signature);
    ISSUED.with(|issued| {
        let mut issued = issued.borrow_mut();
        if issued.len() >= ISSUED_CAPACITY {
            issued.clear();
        }
        issued.insert(id, Issued { jwt: jwt.clone(), iat: now, exp });
    });
    Ok(Some((jwt, exp)))
}
