#!/usr/bin/env bash
# Storage benchmark (docs/benchmarks.md): disk bytes per event, the store's open time and the
# time to scan every event (what a start does to load the query side), sealed segments against
# today's JSON rows in the log, on the same events in the same run:
#   1. report_bench's world (--events, default 10 M: report_bench --users events/10 --store)
#   2. a `touchpoint simulate` world (--sim-events, default 2 M: the demo scenario with
#      sim-events/58 users, written with --to-data)
# For each, storage_bench seals the store's tail, measures it, copies the same events into a
# log that never seals (the storage before segments) and measures that.
#
# Usage: bench/storage_bench.sh [--events N] [--sim-events N] [--skip report|simulate] [BUILD]
#   BUILD           a build directory with bench/report_bench, bench/storage_bench and
#                   src/touchpoint (default build-release)
#   --events N      events of report_bench's world (default 10000000; 100000000 for the 100 M
#                   run, which needs ~40 GB of scratch for the JSON baseline)
#   --sim-events N  events of the simulated world (default 2000000)
# Env: TMPDIR (scratch), TP_BENCH_KEEP=1 keeps it.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
usage() { sed -n '11,17p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
die() { echo "storage_bench: $*" >&2; exit 2; }

events=10000000
sim_events=2000000
declare -A skip=()
while [[ $# -gt 0 && $1 == -* ]]; do
  case $1 in
    --events) [[ $# -ge 2 ]] || usage; events=$2; shift ;;
    --sim-events) [[ $# -ge 2 ]] || usage; sim_events=$2; shift ;;
    --skip) [[ $# -ge 2 ]] || usage; skip[$2]=1; shift ;;
    -h|--help) usage ;;
    *) echo "storage_bench: unknown option $1" >&2; usage ;;
  esac
  shift
done
[[ $# -le 1 ]] || usage
build=${1:-$root/build-release}
[[ $events =~ ^[0-9]+$ && $events -ge 10000 ]] || die "--events must be an integer >= 10000"
[[ $sim_events =~ ^[0-9]+$ && $sim_events -ge 10000 ]] || die "--sim-events must be >= 10000"
for bin in bench/report_bench bench/storage_bench src/touchpoint; do
  [[ -x $build/$bin ]] || die "not built: $build/$bin"
done

scratch=$(mktemp -d "${TMPDIR:-/tmp}/tp_storage_bench.XXXXXX")
cleanup() { [[ -n ${TP_BENCH_KEEP:-} ]] && echo "storage_bench: kept $scratch" >&2 || rm -rf "$scratch"; }
trap cleanup EXIT

echo "storage_bench: $(nproc) CPUs, scratch $scratch" >&2
if [[ -z ${skip[report]:-} ]]; then
  echo "storage_bench: report_bench's world, $events events: writing the store" >&2
  "$build/bench/report_bench" --users $((events / 10)) --no-csv --store "$scratch/report" \
    --out "$scratch" >"$scratch/report_bench.log" 2>&1 || { cat "$scratch/report_bench.log" >&2; exit 1; }
  "$build/bench/storage_bench" --data "$scratch/report" --baseline "$scratch/report_json" \
    --label report_bench
  rm -rf "$scratch/report" "$scratch/report_json"
fi
if [[ -z ${skip[simulate]:-} ]]; then
  users=$((sim_events / 58))
  echo "storage_bench: touchpoint simulate, demo scenario, $users users: writing the store" >&2
  "$build/src/touchpoint" simulate --users "$users" --to-data "$scratch/sim" --quiet \
    >"$scratch/simulate.log" 2>&1 || { cat "$scratch/simulate.log" >&2; exit 1; }
  "$build/bench/storage_bench" --data "$scratch/sim" --baseline "$scratch/sim_json" \
    --label simulate
fi
