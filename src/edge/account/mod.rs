//! Everything about an account's Durable Object: the object and its commands
//! (`object`), its SQLite storage (`index`), the messages it takes (`protocol`) and the
//! edge's typed calls to it (`client`).

pub mod client;
mod index;
pub mod object;
pub mod protocol;
