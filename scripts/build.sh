#!/usr/bin/env bash
# Builds the worker to build/index.js + build/index_bg.wasm (what wrangler.toml's
# `main` and the tests load). Run by `wrangler dev` as its [build] command, and by
# scripts/test.sh.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bash scripts/setup.sh
log "building the worker (worker-build --release)"
worker-build --release
