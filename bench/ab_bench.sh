#!/usr/bin/env bash
# A/B of two touchpoint binaries under one ingest load (docs/benchmarks.md, "Comparing two
# builds"). The machine is shared and its speed drifts by ±10 % within minutes, so one run of
# each says little; this runs them in rounds, in one of two ways:
#   alternate (default): A then B, each alone with the whole load (wrk -t2 -cCONNECTIONS), per
#                        round; shows what the headline benchmark would see;
#   --paired:            A and B at the same time, each with half the load (wrk -t1 -c(N/2)), so
#                        that drift hits both alike; best for CPU per event.
# Per binary and round it prints events/s, server CPU µs per event and events per commit.
#
# Usage: bench/ab_bench.sh [--paired] pixel|events ROUNDS SECONDS BINARY_A BINARY_B [CONNECTIONS=64]
# A "binary" may be a wrapper script that execs touchpoint with extra flags or environment.
# Env: TMPDIR (scratch dirs; not tmpfs for durable numbers).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
usage() { sed -n "11,13p" "$0" | sed 's/^# \{0,1\}//'; exit 2; }

paired=0
if [[ ${1:-} == --paired ]]; then paired=1; shift; fi
[[ $# -ge 5 && $# -le 6 ]] || usage
mode=$1 rounds=$2 secs=$3 bin_a=$4 bin_b=$5 conns=${6:-64}
[[ $mode == pixel || $mode == events ]] || usage
[[ $rounds =~ ^[0-9]+$ && $secs =~ ^[0-9]+$ && $conns =~ ^[0-9]+$ && $conns -ge 2 ]] || usage
for b in "$bin_a" "$bin_b"; do [[ -x $b ]] || { echo "ab_bench: not executable: $b" >&2; exit 2; }; done
command -v wrk >/dev/null || { echo "ab_bench: wrk not found (scripts/bootstrap.sh --bench)" >&2; exit 2; }
export TP_BENCH_LUA_DIR=$here
per_request=1
[[ $mode == events ]] && per_request=50

pids=() dirs=() wrk_pids=()
cleanup() {
  local p
  for p in "${wrk_pids[@]}" "${pids[@]}"; do stop_pid "$p" 5; done
  rm -rf "${dirs[@]}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start TAG BINARY: starts a server with a pixel; sets url_TAG (wrk's arguments) and pid_TAG.
start() {
  local tag=$1 bin=$2 d tp
  d=$(mktemp -d "${TMPDIR:-/tmp}/tp-ab.XXXXXX")
  dirs+=("$d")
  "$bin" serve --data "$d/data" --listen 127.0.0.1:0 --port-file "$d/port" \
    --admin-token ab-token >"$d/out" 2>"$d/log" &
  pids+=($!)
  declare -g "pid_$tag=$!" "dir_$tag=$d"
  for _ in $(seq 100); do [[ -s $d/port ]] && break; sleep 0.1; done
  [[ -s $d/port ]] || { cat "$d/log" >&2; echo "ab_bench: $bin did not start" >&2; exit 2; }
  tp=http://127.0.0.1:$(<"$d/port")
  create_pixel "$tp" ab-token || { echo "ab_bench: cannot create a pixel: $pixel_answer" >&2; exit 2; }
  if [[ $mode == pixel ]]; then
    declare -g "args_$tag=-s $here/pixel.lua $tp/api/v1/pixel.gif?$(pixel_query "$pixel_id")"
  else
    declare -g "args_$tag=-s $here/events_api.lua $tp/open_api/v1.3/event/track/ -- $pixel_id $access_token 50"
  fi
  declare -g "metrics_$tag=$tp/metrics"
}
commits() { curl -sS "$1" | awk '$1 == "touchpoint_commits_total" { print $2 }'; }

# load TAG THREADS CONNS SECONDS: runs wrk in the background into dir_TAG/wrk.
load() {
  local tag=$1 args d
  args=$(eval echo "\$args_$tag") d=$(eval echo "\$dir_$tag")
  # shellcheck disable=SC2086
  wrk -t"$2" -c"$3" -d"$4"s $args >"$d/wrk" 2>&1 &
  wrk_pids+=($!)
}
# report TAG CPU_MS0 COMMITS0: one "events/s, µs/event, events/commit" cell after a load.
report() {
  local tag=$1 pid d n cpu c
  pid=$(eval echo "\$pid_$tag") d=$(eval echo "\$dir_$tag")
  n=$(sed -n 's/^TPBENCH requests=\([0-9]*\).*/\1/p' "$d/wrk")
  cpu=$(($(proc_cpu_ms "$pid") - $2)) c=$(($(commits "$(eval echo "\$metrics_$tag")") - $3))
  awk -v n="$n" -v k="$per_request" -v s="$secs" -v cpu="$cpu" -v c="$c" 'BEGIN {
    e = n * k; printf "%7.0f ev/s %5.1f us/ev %6.1f ev/commit", e / s, cpu * 1e3 / (e ? e : 1), e / (c ? c : 1) }'
}
# run TAGS...: one timed round of the given servers at once; prints their cells.
run() {
  local tag threads=2 c=$conns cpu0=() com0=() line=""
  ((paired)) && threads=1 c=$((conns / 2))
  for tag in "$@"; do
    cpu0+=("$(proc_cpu_ms "$(eval echo "\$pid_$tag")")")
    com0+=("$(commits "$(eval echo "\$metrics_$tag")")")
  done
  wrk_pids=()
  for tag in "$@"; do load "$tag" "$threads" "$c" "$secs"; done
  for p in "${wrk_pids[@]}"; do wait "$p"; done
  wrk_pids=()
  local i=0
  for tag in "$@"; do
    line+=" | ${tag^^} $(report "$tag" "${cpu0[$i]}" "${com0[$i]}")"
    i=$((i + 1))
  done
  echo "$line"
}

echo "ab_bench: $mode, $rounds rounds of ${secs}s, $( ((paired)) && echo "paired (both at once, $((conns / 2)) connections each)" || echo "alternating ($conns connections)"); A=$bin_a B=$bin_b"
start a "$bin_a"
start b "$bin_b"
# Warm-up: both, briefly.
secs_saved=$secs secs=2
paired_saved=$paired paired=1
run a b >/dev/null
secs=$secs_saved paired=$paired_saved
for ((r = 1; r <= rounds; r++)); do
  if ((paired)); then
    echo "round $r:$(run a b)"
  else
    echo "round $r:$(run a)$(run b)"
  fi
done
