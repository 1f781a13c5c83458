# Shared by the scripts in this folder: where things are, and how to build.
# Sourced, not run.

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

export PATH="$HOME/.cargo/bin:$REPO_ROOT/node_modules/.bin:$PATH"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# The version of a crate as resolved in Cargo.lock (the single source of truth for
# both the wasm-bindgen CLI and worker-build, which must match their libraries).
locked_crate_version() {
  awk -v name="$1" '
    $0 == "name = \"" name "\"" { found = 1; next }
    found && /^version = / { gsub(/"/, "", $3); print $3; exit }
  ' Cargo.lock
}

# worker-build downloads wasm-bindgen, esbuild and wasm-opt on first use; those
# downloads fail without internet, so point it at the tools setup.sh installed.
export WASM_BINDGEN_BIN="$HOME/.cargo/bin/wasm-bindgen"
# Our esbuild wrapper: it swaps in the lean entry shim (scripts/shim/worker-shim.js).
export ESBUILD_BIN="$REPO_ROOT/scripts/shim/esbuild"
export WASM_OPT_BIN="$REPO_ROOT/node_modules/.bin/wasm-opt"

# The wasm features rustc emits for wasm32 and wasm-bindgen adds (exception handling for
# its catch wrappers): what wasm-opt must accept when it rewrites the module.
WASM_FEATURES="--enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-reference-types --enable-multivalue --enable-mutable-globals --enable-exception-handling"

# --- skipping a build that would change nothing (scripts/build.sh) ---

# What the last build left: its mode, the hash of its inputs, the hash of its outputs.
BUILD_STAMP="$REPO_ROOT/build/.stamp"
BUILD_OUTPUTS=(build/index.js build/index_bg.wasm build/full-path.js)

# One hash of everything a build reads: the crate (sources, manifest, lock file, build
# script, cargo config, the OpenAPI document build.rs embeds), the entry shim and these
# scripts, the npm lock file (esbuild and wasm-opt versions), the Rust toolchain's
# version, and the mode.
build_inputs_hash() {
  local mode="$1"
  {
    echo "mode $mode"
    rustc -V
    find src scripts/shim -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
    local f
    for f in Cargo.toml Cargo.lock build.rs openapi.json .cargo/config.toml package-lock.json \
      scripts/build.sh scripts/lib.sh; do
      [ -f "$f" ] && sha256sum "$f"
    done
  } | sha256sum | cut -d' ' -f1
}

build_outputs_hash() {
  sha256sum "${BUILD_OUTPUTS[@]}" 2>/dev/null | sha256sum | cut -d' ' -f1
}

# Whether build/ holds what a build of this mode would make now: the stamp matches the
# inputs, and the outputs are there and unchanged since.
build_is_fresh() {
  local mode="$1" f
  [ -f "$BUILD_STAMP" ] || return 1
  for f in "${BUILD_OUTPUTS[@]}"; do [ -f "$f" ] || return 1; done
  [ "$(cat "$BUILD_STAMP")" = "$mode $(build_inputs_hash "$mode") $(build_outputs_hash)" ]
}

# Records a build of MODE from inputs that hashed to INPUTS when it started: a source
# edited while it ran then differs from the stamp, and the next build runs again.
record_build() {
  local mode="$1" inputs="$2"
  echo "$mode $inputs $(build_outputs_hash)" > "$BUILD_STAMP"
}

# `wrangler dev`'s arguments for `npm run dev -- ARGS`: this repository's defaults
# (127.0.0.1, PORT or 8787, INSPECTOR_PORT or 9229), each left out when ARGS give that
# flag themselves, then ARGS as given. wrangler refuses a flag given twice ("--port
# expects a single value"), so the user's must replace the default, not follow it.
# Sets the array DEV_ARGS.
wrangler_dev_args() {
  local -a defaults=()
  dev_arg_given --ip "$@" || defaults+=(--ip 127.0.0.1)
  dev_arg_given --port "$@" || defaults+=(--port "${PORT:-8787}")
  dev_arg_given --inspector-port "$@" || dev_arg_given --inspectorPort "$@" \
    || defaults+=(--inspector-port "${INSPECTOR_PORT:-9229}")
  DEV_ARGS=(${defaults[@]+"${defaults[@]}"} "$@")
}

# Whether FLAG is among the arguments, as `FLAG VALUE` or `FLAG=VALUE`.
dev_arg_given() {
  local flag="$1" arg
  shift
  for arg in "$@"; do
    [ "$arg" = "--" ] && return 1
    [ "$arg" = "$flag" ] || [[ "$arg" == "$flag="* ]] && return 0
  done
  return 1
}
