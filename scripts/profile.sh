#!/usr/bin/env bash
# `npm run profile`: builds the worker with its wasm function names kept (worker-build
# keeps them; scripts/build.sh strips them from the deployed build) into
# build/profiling, and profiles GET /v1/session inside workerd (bench/profile.mjs).
# Tune with PROFILE_REQUESTS.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bash scripts/setup.sh
log "building the worker with wasm names kept (worker-build --release --out-dir build/profiling)"
worker-build --release --out-dir build/profiling
log "profile (node bench/profile.mjs)"
PROFILE_SCRIPT="$REPO_ROOT/build/profiling/index.js" node bench/profile.mjs
