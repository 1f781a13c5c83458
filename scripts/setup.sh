#!/usr/bin/env bash
# Installs whatever is missing for building and testing, at the pinned versions, and
# skips whatever is already there. Safe to run any number of times.
#
#   clippy, rustfmt        rustup components
#   wasm32 target          rustup
#   worker-build           version of the `worker` crate in Cargo.lock (they release together)
#   wasm-bindgen CLI       version of the `wasm-bindgen` crate in Cargo.lock (must match exactly)
#   wrangler, miniflare,
#   esbuild, binaryen ...  package-lock.json (npm ci)
#
# `setup.sh test` also installs what only the test suite needs:
#   nightly toolchain      rustup (cargo fuzz needs it)
#   cargo-fuzz             CARGO_FUZZ_VERSION below
#   chromium               Debian's package (the browser tests drive it with playwright-core)
#   openssl                Debian's package (the DBSC browser test makes a localhost certificate)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CARGO_FUZZ_VERSION=0.13.1

# clippy and rustfmt: the test command checks formatting and lints.
for component in clippy rustfmt; do
  if ! rustup component list --installed | grep -q "^$component"; then
    log "adding the $component component"
    rustup component add "$component"
  fi
done

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# Cargo.lock must exist before versions can be read from it (it is committed; this
# only matters if someone deleted it).
[ -f Cargo.lock ] || cargo generate-lockfile

install_cargo_tool() { # crate binary version
  local crate="$1" bin="$2" version="$3"
  if [ -x "$HOME/.cargo/bin/$bin" ] && "$HOME/.cargo/bin/$bin" --version 2>/dev/null | grep -Eq "(^| )${version//./\\.}$"; then
    return
  fi
  log "installing $crate $version (a few minutes, once)"
  cargo install "$crate" --version "=$version" --locked --force
}

install_cargo_tool worker-build worker-build "$(locked_crate_version worker)"
install_cargo_tool wasm-bindgen-cli wasm-bindgen "$(locked_crate_version wasm-bindgen)"

# npm ci only when node_modules does not match package-lock.json.
if ! cmp -s package-lock.json node_modules/.package-lock.json.ci-stamp 2>/dev/null; then
  log "installing npm packages from package-lock.json"
  npm ci --no-audit --no-fund
  cp package-lock.json node_modules/.package-lock.json.ci-stamp
fi

if [ "${1:-}" = "test" ]; then
  if ! rustup toolchain list | grep -q '^nightly'; then
    log "installing the nightly toolchain (for cargo fuzz)"
    rustup toolchain install nightly --profile minimal
  fi
  install_cargo_tool cargo-fuzz cargo-fuzz "$CARGO_FUZZ_VERSION"
  missing_debs=()
  [ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || missing_debs+=(chromium)
  command -v openssl >/dev/null || missing_debs+=(openssl)
  if [ "${#missing_debs[@]}" -gt 0 ]; then
    log "installing Debian's ${missing_debs[*]} (for the browser tests)"
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing_debs[@]}"
  fi
fi
