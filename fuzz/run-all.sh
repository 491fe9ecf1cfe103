#!/usr/bin/env bash
# Builds every fuzz target, replays the committed seeds and crash regressions through each, then
# fuzzes each target for a short bounded time. Any crash, panic, sanitizer report or slow unit
# (over FUZZ_TIMEOUT seconds) fails the script.
#
#   fuzz/run-all.sh                      # 15 s per target (CI)
#   FUZZ_SECONDS=300 fuzz/run-all.sh     # longer
#   fuzz/run-all.sh zmtp ingest          # some targets only
#
# New corpus entries go to fuzz/corpus/<target> (ignored by git), never into fuzz/seeds; a crash
# leaves its input in fuzz/artifacts/<target>/ — fix it, then keep it in fuzz/regressions/<target>/.
set -euo pipefail
cd "$(dirname "$0")"

seconds="${FUZZ_SECONDS:-15}"
timeout="${FUZZ_TIMEOUT:-30}"
# cargo-fuzz passes nightly-only flags (-Zsanitizer); this lets the stable toolchain take them.
export RUSTC_BOOTSTRAP=1

if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo fuzz list)
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# Runs one target's libFuzzer binary quietly; on failure shows its end (the crash, the input).
run() {
  local target="$1"
  shift
  mkdir -p "artifacts/$target"
  if ! "target/x86_64-unknown-linux-gnu/release/$target" -artifact_prefix="artifacts/$target/" \
    "$@" >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    echo "fuzz target $target failed; the input is in fuzz/artifacts/$target/" >&2
    exit 1
  fi
}

cargo fuzz build
for target in "${targets[@]}"; do
  inputs=()
  for dir in "seeds/$target" "regressions/$target"; do
    [ -d "$dir" ] && mapfile -t -O "${#inputs[@]}" inputs < <(find "$dir" -type f | sort)
  done
  # Files (not folders) as arguments: libFuzzer runs each once and stops at the first failure.
  run "$target" -timeout="$timeout" "${inputs[@]}"
  echo "$target: ${#inputs[@]} seeds and regressions replayed"
  mkdir -p "corpus/$target"
  run "$target" "corpus/$target" "seeds/$target" \
    -max_total_time="$seconds" -timeout="$timeout" -print_final_stats=1
  echo "$target: fuzzed ${seconds} s, $(grep -o 'number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$') runs, corpus $(find "corpus/$target" -type f | wc -l) inputs"
done
echo "fuzzing: all ${#targets[@]} targets passed"
