//! Replays every fuzz seed and every saved crash (fuzz/seeds/<target>/*,
//! fuzz/regressions/<target>/*) through the same checks the fuzz targets run, on the
//! host, with plain `cargo test`. A crash the fuzzer finds is copied into
//! fuzz/regressions/<target>/ and stays a test from then on.

#[allow(dead_code)]
mod checks {
    include!("../fuzz/checks.rs");
}

use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut replayed = 0;
    for dir in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.file_name().is_some_and(|n| n == ".keep") {
                continue;
            }
            check(&std::fs::read(&path).unwrap());
            replayed += 1;
        }
    }
    replayed
}

#[test]
fn token_parse_inputs() {
    assert!(replay("token_parse", checks::check_token_parse) > 0);
}

#[test]
fn cookie_header_inputs() {
    assert!(replay("cookie_header", checks::check_cookie_header) > 0);
}

#[test]
fn record_decode_inputs() {
    assert!(replay("record_decode", checks::check_record_decode) > 0);
}

#[test]
fn account_id_inputs() {
    assert!(replay("account_id", checks::check_account_id) > 0);
}

#[test]
fn dbsc_proof_inputs() {
    assert!(replay("dbsc_proof", checks::check_dbsc_proof) > 0);
}

#[test]
fn structured_field_inputs() {
    assert!(replay("structured_field", checks::check_structured_field) > 0);
}

#[test]
fn bound_cookie_inputs() {
    assert!(replay("bound_cookie", checks::check_bound_cookie) > 0);
}
