#!/usr/bin/env bash
# Where a pixel GET or Events API load spends the machine, per thread (docs/benchmarks.md,
# "Where the pixel GET's time goes now"): for Touchpoint's threads and wrk's, over a window in the
# middle of one wrk run,
#   run %        time on a CPU (of one CPU),
#   wait %       time runnable but waiting for a CPU (the scheduler's run queue),
#   wakes/req    times the thread was put on a CPU, per request,
#   wait/wake    mean run-queue wait each time (µs),
#   us/req       CPU time per request,
# from /proc/PID/task/TID/schedstat; then each CPU's split (user, system, softirq, idle, iowait)
# from /proc/stat. A serial stage shows up as a thread that is busy (run + wait) most of the time;
# time lost to scheduling shows up as run-queue waits while CPUs are idle.
#
# Usage: bench/thread_profile.sh [--events] BINARY [SECONDS=8] [CONNECTIONS=64]
#   --events   the Events API load (50 events per request) instead of the pixel GET
# Env: TMPDIR (scratch dir; not tmpfs for durable numbers), TP_SERVE_FLAGS (extra serve flags).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
usage() { sed -n "14,15p" "$0" | sed 's/^# \{0,1\}//'; exit 2; }

mode=pixel
if [[ ${1:-} == --events ]]; then mode=events; shift; fi
[[ $# -ge 1 && $# -le 3 ]] || usage
bin=$1 secs=${2:-8} conns=${3:-64}
[[ -x $bin ]] || { echo "thread_profile: not executable: $bin" >&2; exit 2; }
[[ $secs =~ ^[0-9]+$ && $secs -ge 4 && $conns =~ ^[0-9]+$ && $conns -ge 2 ]] || usage
command -v wrk >/dev/null || { echo "thread_profile: wrk not found (scripts/bootstrap.sh --bench)" >&2; exit 2; }
[[ -r /proc/self/schedstat ]] || { echo "thread_profile: this kernel has no schedstat" >&2; exit 2; }
export TP_BENCH_LUA_DIR=$here

dir=$(mktemp -d "${TMPDIR:-/tmp}/tp-threads.XXXXXX")
pid='' wrk_pid=''
cleanup() {
  stop_pid "$wrk_pid" 5
  stop_pid "$pid" 10
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck disable=SC2086  # TP_SERVE_FLAGS is a list of flags
"$bin" serve --data "$dir/data" --listen 127.0.0.1:0 --port-file "$dir/port" \
  --admin-token profile-token ${TP_SERVE_FLAGS:-} >"$dir/out" 2>"$dir/log" &
pid=$!
for _ in $(seq 100); do [[ -s $dir/port ]] && break; sleep 0.1; done
[[ -s $dir/port ]] || { cat "$dir/log" >&2; echo "thread_profile: $bin did not start" >&2; exit 2; }
tp=http://127.0.0.1:$(<"$dir/port")
create_pixel "$tp" profile-token || { echo "thread_profile: cannot create a pixel: $pixel_answer" >&2; exit 2; }
if [[ $mode == pixel ]]; then
  args=(-s "$here/pixel.lua" "$tp/api/v1/pixel.gif?$(pixel_query "$pixel_id")")
else
  args=(-s "$here/events_api.lua" "$tp/open_api/v1.3/event/track/" -- "$pixel_id" "$access_token" 50)
fi
echo "thread_profile: $mode load, wrk -t2 -c$conns for ${secs}s against $bin" >&2
wrk -t2 -c"$conns" -d"${secs}s" "${args[@]}" >"$dir/wrk.out" 2>&1 &
wrk_pid=$!

# The window: from 1 s in to 1 s before the end, away from the ramp-up and the tail.
window=$((secs - 2))
sleep 1
# name run_ns wait_ns slices, summed per thread name over Touchpoint's threads and wrk's.
snap() {
  local p t
  for p in "$pid" "$wrk_pid"; do
    for t in /proc/"$p"/task/*; do
      [[ -r $t/schedstat ]] || continue
      printf '%s %s\n' "$(tr ' ' '_' <"$t/comm")" "$(<"$t/schedstat")"
    done
  done | awk '{r[$1]+=$2; w[$1]+=$3; n[$1]+=$4} END {for (k in r) print k, r[k], w[k], n[k]}' | sort
}
snap >"$dir/a"
grep -E '^cpu[0-9]' /proc/stat >"$dir/cpu.a"
sleep "$window"
snap >"$dir/b"
grep -E '^cpu[0-9]' /proc/stat >"$dir/cpu.b"
wait "$wrk_pid" || true
wrk_pid=''

requests=$(sed -n 's/.*TPBENCH requests=\([0-9]*\).*/\1/p' "$dir/wrk.out")
[[ -n $requests && $requests -gt 0 ]] || { cat "$dir/wrk.out" >&2; echo "thread_profile: wrk reported no requests" >&2; exit 1; }
rate=$((requests / secs))
win_requests=$((rate * window))  # requests in the window, at the run's mean rate
echo "$mode: $rate requests/s over the run; per thread over ${window}s in its middle:"
printf '%-16s %7s %7s %9s %10s %8s\n' thread "run %" "wait %" wakes/req "wait/wake" us/req
join "$dir/a" "$dir/b" | awk -v w="$window" -v n="$win_requests" '
  { run = $5 - $2; wait = $6 - $3; slices = $7 - $4
    if (run == 0 && wait == 0) next
    printf "%-16s %7.1f %7.1f %9.3f %10.1f %8.2f\n", $1, run / (w * 1e7), wait / (w * 1e7),
           slices / n, (slices > 0 ? wait / slices / 1000 : 0), run / n / 1000 }'
echo "CPUs over the same window (% of each CPU):"
paste "$dir/cpu.a" "$dir/cpu.b" | awk '{
  total = 0; for (i = 2; i <= 11; i++) total += $(i + 11) - $i
  printf "  %s  user %3.0f  system %3.0f  softirq %3.0f  idle %3.0f  iowait %3.0f  steal %3.0f\n", $1,
         100 * ($13 - $2 + $14 - $3) / total, 100 * ($15 - $4) / total, 100 * ($19 - $8) / total,
         100 * ($16 - $5) / total, 100 * ($17 - $6) / total, 100 * ($20 - $9) / total }'
