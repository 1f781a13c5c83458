//! The handlers, one module per audience: the session holder (`session`, `account`), the
//! origin's servers (`admin`), and everything outside `/v1/` in gatekeeper mode
//! (`gatekeeper`). Routes share code through `auth`, `views`, `request` and `response`,
//! never by importing each other.

pub mod account;
pub mod admin;
pub mod device_binding;
pub mod gatekeeper;
pub mod impersonation;
pub mod public;
pub mod readiness;
pub mod session;
