#!/usr/bin/env bash
# Builds the worker to build/index.js + build/index_bg.wasm (what wrangler.toml's
# `main` and the tests load). Run by `wrangler dev` as its [build] command, by
# `wrangler deploy`, and by scripts/test.sh.
#
# BUILD_MODE=release (the default: tests and deployments) is the optimised build:
# worker-build --release, wasm-opt -Oz, and the name section stripped. BUILD_MODE=dev
# (set by scripts/dev.sh) is the same Rust build without the wasm-opt passes, which
# only make the module smaller (about 30 s each start, on 2 cores).
#
# Either mode skips the whole build when its inputs and outputs are what the last build
# of that mode left (build/.stamp): wrangler 4.86 runs this command twice per `wrangler
# dev` start (wrangler issue 7934), and a restart with nothing changed needs no build.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
mode="${BUILD_MODE:-release}"
case "$mode" in
  release | dev) ;;
  *) log "BUILD_MODE must be release or dev, not '$mode'"; exit 2 ;;
esac

if build_is_fresh "$mode"; then
  log "build/ is up to date ($mode build; nothing changed since it was made)"
  exit 0
fi
rm -f "$BUILD_STAMP"
# Hashed before building: what the stamp will say this build was made from.
inputs="$(build_inputs_hash "$mode")"
bash scripts/setup.sh
if [ "$mode" = dev ]; then
  log "building the worker (worker-build --release --no-opt: a dev build, not for deployment)"
  worker-build --release --no-opt
else
  log "building the worker (worker-build --release)"
  worker-build --release
  # worker-build runs wasm-opt with --debuginfo, which keeps the function-name section:
  # 200 KB of the module that only a profile or a symbolicated trace reads. `npm run
  # profile` builds its own copy with names (scripts/profile.sh). A second -Oz on the
  # stripped module finds 1.9 KB gzip more for about 30 s (docs/performance.md, "Size").
  wasm-opt build/index_bg.wasm --strip-debug -Oz -o build/index_bg.wasm $WASM_FEATURES
fi
record_build "$mode" "$inputs"
