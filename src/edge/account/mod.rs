//! Everything about an account's Durable Object: the object's shell (`object`), what
//! each command does (`commands`), what commands leave for later and the alarm
//! (`housekeeping`), its SQLite storage (`index`, `event_outbox`), the messages it takes
//! (`protocol`) and the edge's typed calls to it (`client`).
//!
//! Adding a command: a variant in `protocol.rs`, a method in `commands.rs`, its arm in
//! `object.rs`'s `handle`, and a typed call in `client.rs` (with an end-to-end test
//! through the route that uses it). A rule about whether a session may act goes in
//! `core::session_check`, never in the command.

pub mod client;
mod commands;
mod event_outbox;
mod housekeeping;
mod index;
pub mod object;
pub mod protocol;

pub use housekeeping::EVENTS_BINDING;
