#!/usr/bin/env bash
# npm run simulate [-- flags]: builds the worker (release) and runs the fleet simulation
# (scripts/simulate.mjs, docs/fleet-simulation.md) on it. Exits 1 on any violation.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bash scripts/build.sh
log "fleet simulation (node scripts/simulate.mjs)"
node scripts/simulate.mjs "$@"
