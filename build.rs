//! Compresses openapi.json for the worker to embed. The document is 65 KB of JSON and
//! 6 KB gzipped; the wasm carries the 6 KB and the router inflates it with the
//! platform's DecompressionStream when someone asks (docs/performance.md).

use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::Write;
use std::path::PathBuf;

fn main() {
    println!("cargo::rerun-if-changed=openapi.json");
    let json = std::fs::read("openapi.json").expect("openapi.json at the repository root");
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(&json).expect("gzip in memory");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR is set by cargo")).join("openapi.json.gz");
    std::fs::write(out, encoder.finish().expect("gzip in memory")).expect("write to OUT_DIR");
}
