#!/usr/bin/env bash
# `npm run profile`: builds the worker with wasm function names kept (worker-build
# --profiling, into build/profiling) and profiles GET /v1/session inside workerd
# (bench/profile.mjs). Tune with PROFILE_REQUESTS.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bash scripts/setup.sh
log "building the worker with wasm names kept (worker-build --profiling)"
worker-build --profiling --out-dir build/profiling
log "profile (node bench/profile.mjs)"
PROFILE_SCRIPT="$REPO_ROOT/build/profiling/index.js" node bench/profile.mjs
