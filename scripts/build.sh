#!/usr/bin/env bash
# Builds the worker to build/index.js + build/index_bg.wasm (what wrangler.toml's
# `main` and the tests load). Run by `wrangler dev` as its [build] command, and by
# scripts/test.sh.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bash scripts/setup.sh
log "building the worker (worker-build --release)"
worker-build --release
# worker-build runs wasm-opt with --debuginfo, which keeps the function-name section:
# 150 KB of the module that only a profile or a symbolicated trace reads. `npm run
# profile` builds its own copy with names (scripts/profile.sh).
wasm-opt build/index_bg.wasm --strip-debug -o build/index_bg.wasm $WASM_FEATURES
