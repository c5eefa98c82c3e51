#!/usr/bin/env bash
# Runs every libFuzzer target built in BUILD_DIR for SECONDS each, one after the other, one
# process each (docs/fuzzing.md). Usage: scripts/fuzz.sh BUILD_DIR SECONDS
#
# Each target starts from a copy of fuzz/corpus/<target>/ under BUILD_DIR/fuzz-work/<target>/
# (the checked-in seeds are never written to), with fuzz/<target>.dict when there is one.
# Prints "<target>: N execs, no crash" per clean target, the reproducer path and the end of the
# log for one that crashed, then "N passed, M failed". Exits non-zero when any target failed.
set -uo pipefail

if (($# != 2)); then
  echo "usage: $0 BUILD_DIR SECONDS" >&2
  exit 2
fi
build_dir=$(cd "$1" 2>/dev/null && pwd) || { echo "fuzz: no build dir $1" >&2; exit 2; }
seconds=$2
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || ((seconds < 1)); then
  echo "fuzz: SECONDS must be a positive integer, got '$seconds'" >&2
  exit 2
fi
source_dir=$(cd "$(dirname "$0")/.." && pwd)

targets=()
for bin in "$build_dir"/fuzz/*_fuzz; do
  [[ -f "$bin" && -x "$bin" ]] && targets+=("$(basename "$bin")")
done
if ((${#targets[@]} == 0)); then
  echo "fuzz: no *_fuzz executables in $build_dir/fuzz (run make fuzz-build)" >&2
  exit 2
fi

passed=0
failed=0
for t in "${targets[@]}"; do
  work="$build_dir/fuzz-work/$t"
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/artifacts"
  if [[ -d "$source_dir/fuzz/corpus/$t" ]]; then
    cp -R "$source_dir/fuzz/corpus/$t/." "$work/corpus/"
  fi
  args=(-max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=2048
        -artifact_prefix="$work/artifacts/")
  [[ -f "$source_dir/fuzz/$t.dict" ]] && args+=(-dict="$source_dir/fuzz/$t.dict")
  # FUZZ_EXTRA_ARGS, e.g. "-seed=1 -runs=50000": a fixed seed and run count make a run repeatable
  # (make test uses that, so CI never fails on a finding the developer's run could not see).
  if [[ -n "${FUZZ_EXTRA_ARGS:-}" ]]; then
    read -r -a extra <<<"$FUZZ_EXTRA_ARGS"
    args+=("${extra[@]}")
  fi
  log="$work/fuzz.log"
  # One process (no -jobs/-workers): the machine is shared, and the log stays in one file.
  "$build_dir/fuzz/$t" "${args[@]}" "$work/corpus" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
  crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
  if ((rc == 0)) && [[ -n "$execs" ]]; then
    echo "$t: $execs execs, no crash"
    passed=$((passed + 1))
  else
    echo "$t: FAILED (exit $rc) after ${execs:-?} execs; reproducer: ${crash:-none written}; log: $log"
    # The sanitizer report or failed check, with its stack.
    grep -n -m 1 -E '^(==[0-9]+==ERROR|fuzz check failed|.*runtime error:|==[0-9]+== ERROR)' "$log" \
      | sed 's/^/  /'
    tail -n 40 "$log" | sed 's/^/  | /'
    failed=$((failed + 1))
  fi
done

echo "$passed passed, $failed failed"
((failed == 0))
