//! Everything about an account's Durable Object: the object and its commands
//! (`object`), its SQLite storage (`index`, `event_outbox`), the messages it takes (`protocol`) and the
//! edge's typed calls to it (`client`).

pub mod client;
mod event_outbox;
mod index;
pub mod object;
pub mod protocol;
