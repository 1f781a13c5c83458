//! Fuzz target: see `check_token_parse` in fuzz/checks.rs for what it asserts.
#![no_main]
include!("../checks.rs");

libfuzzer_sys::fuzz_target!(|data: &[u8]| check_token_parse(data));
