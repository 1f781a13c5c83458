#!/usr/bin/env bash
# Sets up whatever is missing, then serves the worker at http://127.0.0.1:8787 with
# `wrangler dev` (local KV namespace SESSIONS, SQLite Durable Object ACCOUNTS).
# Extra arguments go to wrangler and win over the defaults here, e.g.
# `npm run dev -- --port 19500 --var IDLE_TTL_SECS:60`. PORT and INSPECTOR_PORT set
# the defaults (a second `npm run dev` needs its own inspector port). A wrangler.toml
# whose [vars] names a secret (scripts/secrets.mjs) is refused.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bash scripts/setup.sh
# A secret in [vars] would be deployed in plain text, and the worker cannot tell.
node scripts/secrets.mjs check "$@"
if [ ! -f .dev.vars ]; then
  log "creating .dev.vars from .dev.vars.example (local secrets; git-ignored)"
  cp .dev.vars.example .dev.vars
fi
# wrangler runs scripts/build.sh itself ([build] in wrangler.toml): a dev build, which
# leaves out the size passes only a deployment needs, and is skipped when nothing changed.
export BUILD_MODE=dev
wrangler_dev_args "$@"
exec wrangler dev "${DEV_ARGS[@]}"
