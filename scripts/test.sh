#!/usr/bin/env bash
# Sets up whatever is missing, then runs every test:
#   1. host tests of the platform-free core (cargo test);
#   2. the worker built for wasm32 and driven end to end in workerd (node --test).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bash scripts/setup.sh

log "core tests (cargo test)"
cargo test --quiet

bash scripts/build.sh

log "end-to-end tests in workerd (node --test tests/e2e)"
node --test --test-concurrency=1 tests/e2e/
