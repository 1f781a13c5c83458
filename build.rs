//! Compresses openapi.json for the worker to embed. The document is 150 KB of indented
//! JSON; without the whitespace between tokens it gzips to 14 KB instead of 16, and the
//! wasm carries those 14 KB. The router inflates it with the platform's
//! DecompressionStream when someone asks (docs/performance.md).

use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::Write;
use std::path::PathBuf;

fn main() {
    println!("cargo::rerun-if-changed=openapi.json");
    let json = std::fs::read("openapi.json").expect("openapi.json at the repository root");
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(&without_whitespace(&json)).expect("gzip in memory");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR is set by cargo")).join("openapi.json.gz");
    std::fs::write(out, encoder.finish().expect("gzip in memory")).expect("write to OUT_DIR");
}

/// The same JSON with the whitespace between its tokens left out: the same document,
/// keys in the same order, every string as written.
fn without_whitespace(json: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for &byte in json {
        if in_string {
            out.push(byte);
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
        } else if !matches!(byte, b' ' | b'\n' | b'\r' | b'\t') {
            in_string = byte == b'"';
            out.push(byte);
        }
    }
    out
}
