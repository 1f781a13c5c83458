//! Fuzz target: see `check_dbsc_proof` in fuzz/checks.rs for what it asserts.
#![no_main]
include!("../checks.rs");

libfuzzer_sys::fuzz_target!(|data: &[u8]| check_dbsc_proof(data));
