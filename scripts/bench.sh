#!/usr/bin/env bash
# Builds the worker (release) and runs the validation benchmark. Prints a table and
# writes bench/results/latest.json. Tune with BENCH_SESSIONS, BENCH_SECONDS,
# BENCH_CONCURRENCY (comma-separated).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bash scripts/build.sh
log "benchmark (node bench/run.mjs)"
node bench/run.mjs
