#!/usr/bin/env bash
# A short libFuzzer run of every fuzz target (FUZZ_SECONDS each, default 45). New
# corpus entries go to fuzz/target/corpus (git-ignored); fuzz/seeds stays as committed.
# A crash fails the run and leaves its input in fuzz/artifacts/<target>/: copy it into
# fuzz/regressions/<target>/ and `cargo test` replays it from then on.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
seconds="${FUZZ_SECONDS:-45}"
for target in token_parse cookie_header record_decode account_id dbsc_proof structured_field bound_cookie; do
  log "fuzzing $target for ${seconds}s"
  work="fuzz/target/corpus/$target"
  mkdir -p "$work"
  logfile="fuzz/target/$target.log"
  if ! cargo +nightly fuzz run "$target" "$work" "fuzz/seeds/$target" "fuzz/regressions/$target" -- \
      -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 > "$logfile" 2>&1; then
    tail -n 40 "$logfile" >&2
    echo "fuzz target $target failed; its input is in fuzz/artifacts/$target/" >&2
    exit 1
  fi
  grep -E '^stat::(number_of_executed_units|new_units_added|peak_rss_mb)' "$logfile" | sed "s/^/  $target /"
done
