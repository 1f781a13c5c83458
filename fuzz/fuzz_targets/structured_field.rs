//! Fuzz target: see `check_structured_field` in fuzz/checks.rs for what it asserts.
#![no_main]
include!("../checks.rs");

libfuzzer_sys::fuzz_target!(|data: &[u8]| check_structured_field(data));
