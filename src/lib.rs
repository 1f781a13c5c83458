//! Edge session validator.
//!
//! `core` decides everything about a session and is pure: no clock reads, no RNG, no
//! platform types, so it is tested natively with `cargo test`. `edge` is the thin
//! Cloudflare Worker layer around it (routes, Workers KV, the per-account Durable
//! Object) and only exists on wasm32.

pub mod core;

#[cfg(target_arch = "wasm32")]
mod edge;
