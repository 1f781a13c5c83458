#!/usr/bin/env bash
# Sets up whatever is missing, then runs every test:
#   0. formatting (cargo fmt --check, prettier --check) and lints (clippy on the host and
#      on wasm32, where the edge layer lives), warnings denied;
#   1. host tests of the platform-free core (cargo test), property tests included;
#   2. a short fuzz run of every parser (FUZZ_SECONDS per target, default 60);
#   3. the worker built for wasm32 and driven end to end in workerd (node --test).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bash scripts/setup.sh test

log "formatting and lints (cargo fmt --check, prettier --check, cargo clippy)"
cargo fmt --all -- --check
prettier --check --log-level warn .
cargo clippy --all-targets --quiet -- -D warnings
cargo clippy --target wasm32-unknown-unknown --quiet -- -D warnings

log "core tests (cargo test)"
cargo test --quiet

bash scripts/fuzz.sh

bash scripts/build.sh

log "end-to-end tests in workerd (node --test tests/e2e)"
node --test --test-concurrency=1 tests/e2e/
