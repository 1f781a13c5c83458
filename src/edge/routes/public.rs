//! The public documents: health, the signing key set and the OpenAPI description.
//! Readable by anyone, from any origin, with no session.

use crate::core::config::Config;
use crate::edge::answer::Answer;
use crate::edge::error::ApiError;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use worker::{web_sys, Response, ResponseBody};

#[derive(Serialize)]
struct Health {
    status: &'static str,
    name: &'static str,
    version: &'static str,
}

/// `GET /v1/health`: the worker answers, and which build it is.
pub fn health() -> Response {
    health_answer().into_response()
}

/// The same answer, for the hot path's synchronous entry (`fast_path::plan_request`),
/// which answers it without the full path: a load balancer's probe, and an isolate's first
/// request, cost the least they can.
pub fn health_answer() -> Answer {
    Answer::json(200, &Health { status: "ok", name: env!("CARGO_PKG_NAME"), version: env!("CARGO_PKG_VERSION") })
}

/// The API description: openapi.json at the repository root, gzipped by build.rs.
const OPENAPI_JSON_GZ: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/openapi.json.gz"));

#[wasm_bindgen]
extern "C" {
    /// The platform's gzip decoder: a transform stream, so a readable/writable pair.
    #[wasm_bindgen(extends = web_sys::ReadableWritablePair)]
    type DecompressionStream;
    #[wasm_bindgen(constructor)]
    fn new(format: &str) -> DecompressionStream;
}

/// The document, inflated as it streams out; the runtime then compresses it however
/// the client accepts, as for any other body.
pub fn openapi() -> Response {
    let compressed = web_sys::Response::new_with_opt_u8_array(Some(&mut OPENAPI_JSON_GZ.to_vec()))
        .ok()
        .and_then(|r| r.body())
        .map(|body| body.pipe_through(&DecompressionStream::new("gzip")));
    let Some(body) = compressed else {
        return ApiError::internal("openapi: build the response body", "no body stream").into_response();
    };
    let mut response = Response::from_body(ResponseBody::Stream(body)).expect("a stream body");
    let headers = response.headers_mut();
    let _ = headers.set("Content-Type", "application/json; charset=utf-8");
    let _ = headers.set("Cache-Control", "public, max-age=300");
    let _ = headers.set("Access-Control-Allow-Origin", "*");
    response
}

/// The public signing keys: public, cacheable and readable from any origin, like the
/// OpenAPI document. `{"keys": []}` when no key is configured.
pub async fn jwks(config: &Config) -> Response {
    let keys = match crate::edge::assertion::key_set(config).await {
        Ok(keys) => keys,
        Err(e) => return e.into_response(),
    };
    let headers = worker::Headers::new();
    let _ = headers.set("Content-Type", "application/jwk-set+json");
    let _ = headers.set("Cache-Control", "public, max-age=300");
    let _ = headers.set("Access-Control-Allow-Origin", "*");
    Response::from_bytes(keys.jwks_json.as_bytes().to_vec())
        .unwrap_or_else(|_| Response::empty().expect("empty response"))
        .with_headers(headers)
}
