//! The platform-free session core. Nothing here reads the clock, draws random bytes or
//! touches a Workers API: callers pass `now` (unix seconds) and random bytes in.

pub mod account;
pub mod act;
pub mod admin_key;
pub mod assertion;
pub mod base64;
pub mod bound_cookie;
pub mod claims;
pub mod client_memory;
pub mod config;
pub mod cookie;
pub mod credentials;
pub mod dbsc_proof;
pub mod device_binding;
pub mod device_challenge;
pub mod drift;
pub mod drift_memory;
pub mod error_code;
pub mod event;
pub mod event_seal;
pub mod gate;
pub mod impersonation;
pub mod jwk;
pub mod origin;
pub mod path_patterns;
pub mod pending_ring;
pub mod policy;
pub mod record;
pub mod request_url;
pub mod rotation_retry;
pub mod session_check;
pub mod step_up;
pub mod structured_field;
pub mod timestamp;
pub mod token;
pub mod touch_memory;
pub mod user_agent;
pub mod vars;
pub mod webhook;
pub mod whole_number;

/// Seconds since the unix epoch. Every deadline in the core is one of these.
pub type UnixSeconds = i64;

/// Milliseconds since the unix epoch: only where whole seconds cannot order two events,
/// as a login and a revoke-all in the same second.
pub type UnixMillis = i64;

/// Upper bound on any configured lifetime or age (10 years): keeps every deadline far
/// inside both i64 and JavaScript's safe-integer range. Shared by the lifecycle policy
/// and step-up's `max_age`.
pub const MAX_LIFETIME_SECS: i64 = 10 * 365 * 24 * 3600;
