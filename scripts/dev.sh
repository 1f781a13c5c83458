#!/usr/bin/env bash
# Sets up whatever is missing, then serves the worker at http://127.0.0.1:8787 with
# `wrangler dev` (local KV namespace SESSIONS, SQLite Durable Object ACCOUNTS).
# Extra arguments go to wrangler, e.g. `npm run dev -- --var IDLE_TTL_SECS:60`.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bash scripts/setup.sh
if [ ! -f .dev.vars ]; then
  log "creating .dev.vars from .dev.vars.example (local secrets; git-ignored)"
  cp .dev.vars.example .dev.vars
fi
# wrangler runs scripts/build.sh itself ([build] in wrangler.toml).
exec wrangler dev --ip 127.0.0.1 --port "${PORT:-8787}" --inspector-port "${INSPECTOR_PORT:-9229}" "$@"
