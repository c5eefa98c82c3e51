#!/usr/bin/env bash
# HTTP ingest benchmark (docs/benchmarks.md): in one go, wrk against
#   1. Touchpoint's pixel GET        (GET /api/v1/pixel.gif, one event per request)
#   2. Touchpoint's Events API       (POST /open_api/v1.3/event/track/, 50 events per request)
#   3. nginx serving the same GET    (empty_gif + access log, bench/nginx.conf) as the baseline
# in rounds (pixel, Events API, nginx; again), then prints requests/s and events/s for each run, the
# ratio pixel / nginx per round and its median, whether the bounds hold, and checks through
# /metrics that every accepted event was committed.
#
# Usage: bench/http_bench.sh [--rounds N] [--no-fsync] [--threads N] [--batch N] BINARY [SECONDS=10] [CONNECTIONS=64]
#   --rounds N   rounds of (pixel GET, Events API, nginx), interleaved so that the machine's drift
#                meets all three alike; the verdicts use the medians over the rounds (default 3)
#   --no-fsync   pass --no-fsync to touchpoint (for comparison; the headline numbers are durable)
#   --threads N  pass --threads N to touchpoint (default: the server's default)
#   --batch N    events per Events API request (default 50)
# Env: TMPDIR (where the scratch dir goes; must not be tmpfs for durable numbers),
#      TP_BENCH_KEEP=1 keeps the scratch dir, TP_BENCH_WARMUP=seconds (default 2).
# Exit status: 0 when the run was clean (bounds met or not), 1 when a check failed (errors,
# events not stored), 2 on usage or setup problems. Bounds are reported, not enforced.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
usage() { sed -n '10,19p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
die() { echo "http_bench: $*" >&2; exit 2; }

no_fsync=0
rounds=3
tp_threads=""
batch=50
while [[ $# -gt 0 && $1 == -* ]]; do
  case $1 in
    --rounds) [[ $# -ge 2 ]] || usage; rounds=$2; shift ;;
    --no-fsync) no_fsync=1 ;;
    --threads) [[ $# -ge 2 ]] || usage; tp_threads=$2; shift ;;
    --batch) [[ $# -ge 2 ]] || usage; batch=$2; shift ;;
    -h|--help) usage ;;
    *) echo "http_bench: unknown option $1" >&2; usage ;;
  esac
  shift
done
[[ $# -ge 1 && $# -le 3 ]] || usage
bin=$1
secs=${2:-10}
conns=${3:-64}
warmup=${TP_BENCH_WARMUP:-2}
[[ $secs =~ ^[0-9]+$ && $secs -ge 1 ]] || die "SECONDS must be a positive integer"
[[ $conns =~ ^[0-9]+$ && $conns -ge 2 ]] || die "CONNECTIONS must be an integer >= 2"
[[ $batch =~ ^[0-9]+$ && $batch -ge 1 && $batch -le 1000 ]] || die "--batch must be 1..1000"
[[ $rounds =~ ^[0-9]+$ && $rounds -ge 1 && $rounds -le 20 ]] || die "--rounds must be 1..20"
[[ -x $bin ]] || die "not an executable: $bin"
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
for tool in wrk nginx curl; do
  command -v "$tool" >/dev/null || die "$tool not found (scripts/bootstrap.sh --bench installs it)"
done

# Bounds (the issue): pixel >= NEED x nginx now (GOAL later); Events API >= MIN_EVENTS events/s.
NEED_RATIO=0.5
GOAL_RATIO=1.5
MIN_EVENTS=200000

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tp-http-bench.XXXXXX")
tp_pid=""
nginx_pid=""
wrk_pid=""

cleanup() {
  stop_pid "$wrk_pid"
  stop_pid "$tp_pid"
  stop_pid "$nginx_pid"
  if [[ ${TP_BENCH_KEEP:-0} == 1 ]]; then
    echo "http_bench: scratch dir kept: $tmp" >&2
  else
    rm -rf "$tmp"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fstype=$(stat -f -c %T "$tmp" 2>/dev/null || echo unknown)
if [[ $fstype == tmpfs || $fstype == ramfs ]]; then
  echo "http_bench: WARNING: $tmp is on $fstype: fsync is free there, durable numbers are not" \
       "representative (set TMPDIR to a directory on disk)" >&2
fi

# The machine is shared: measure how busy it is before starting, and say so when it is.
busy=$(cpu_busy_pct)
if ((busy > 15)); then
  echo "http_bench: WARNING: the CPUs were already ${busy}% busy before the run" \
       "($(ps -eo pcpu=,comm= --sort=-pcpu | head -3 | awk '{ printf "%s%s %s%%", sep, $2, $1; sep = ", " }'));" \
       "every run competes with that, absolute numbers will be low" >&2
fi

wait_for_file() {  # wait_for_file FILE SECONDS PID
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    [[ -s $1 ]] && return 0
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# --- Touchpoint ---------------------------------------------------------------------------------
token="bench-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
tp_args=(serve --data "$tmp/data" --listen 127.0.0.1:0 --port-file "$tmp/tp.port"
         --admin-token "$token" --rate-limit-pixel 0 --rate-limit-server 0)  # the unlimited path
[[ -n $tp_threads ]] && tp_args+=(--threads "$tp_threads")
((no_fsync)) && tp_args+=(--no-fsync)
"$bin" "${tp_args[@]}" >"$tmp/touchpoint.out" 2>"$tmp/touchpoint.log" &
tp_pid=$!
if ! wait_for_file "$tmp/tp.port" 15 "$tp_pid"; then
  cat "$tmp/touchpoint.log" >&2
  die "touchpoint did not start"
fi
tp_port=$(<"$tmp/tp.port")
tp="http://127.0.0.1:$tp_port"

create_pixel "$tp" "$token" || die "cannot create a pixel: $pixel_answer"

pixel_query=$(pixel_query "$pixel_id")
pixel_path="/api/v1/pixel.gif?$pixel_query"

# Pre-flight: one request of each kind by hand, so a rejected format shows up as such.
code=$(curl -sS --max-time 10 -o "$tmp/preflight.gif" -w '%{http_code}' "$tp$pixel_path")
[[ $code == 200 ]] || die "pixel GET pre-flight: HTTP $code: $(head -c 300 "$tmp/preflight.gif")"
now=$(date +%s)
{
  printf '{"event_source":"web","event_source_id":"%s","data":[' "$pixel_id"
  printf '{"event":"CompletePayment","event_time":%d,"user":{"ttp":"c1","email":"%s"},' \
    "$now" "$(printf 'bench@shop.example' | sha256sum | cut -d' ' -f1)"
  printf '"properties":{"value":12.5,"currency":"USD","contents":[{"content_id":"sku1",'
  printf '"price":12.5,"quantity":1}]},"page":{"url":"https://shop.example/checkout"}}]}'
} >"$tmp/preflight.json"
resp=$(curl -sS --max-time 10 -X POST "$tp/open_api/v1.3/event/track/" \
  -H "Access-Token: $access_token" -H 'Content-Type: application/json' \
  --data-binary @"$tmp/preflight.json")
[[ $resp == *'"code":0'* ]] || die "Events API pre-flight rejected: $resp"

export TP_BENCH_LUA_DIR=$here

# run_wrk NAME SECONDS URL SCRIPT [SCRIPT ARGS...]: runs wrk, keeps its output in $tmp/NAME.wrk.
run_wrk() {
  local name=$1 d=$2 url=$3 script=$4
  shift 4
  local extra=()
  (($#)) && extra=(-- "$@")
  # In the background + wait, so that a signal to this script is handled at once.
  timeout --kill-after=5 $((d + 30)) \
    wrk -t2 -c"$conns" -d"${d}s" --timeout 10s -s "$script" "$url" "${extra[@]}" \
    >"$tmp/$name.wrk" 2>&1 &
  wrk_pid=$!
  wait "$wrk_pid" || {
    cat "$tmp/$name.wrk" >&2
    die "wrk failed ($name)"
  }
  wrk_pid=""
}
# field NAME KEY: a value from the TPBENCH line of $tmp/NAME.wrk.
field() { sed -n "s/^TPBENCH.* $2=\([0-9]*\).*/\1/p" "$tmp/$1.wrk"; }

# CPU time, in ms: of processes (proc_cpu_ms, bench/lib.sh), and of this script's waited-for
# children (bash `times`: wrk, reaped through `timeout`).
children_cpu_ms() {  # (not in a $(...) subshell: it would see its own children only)
  local t
  times >"$tmp/times"
  t=$(tail -1 "$tmp/times")  # "0m1.234s 0m0.567s": children's user and system time
  awk -v t="$t" 'BEGIN { split(t, a, " "); n = 0
    for (i = 1; i <= 2; i++) { split(a[i], b, "m"); sub("s", "", b[2]); n += b[1] * 60 + b[2] }
    printf "%d", n * 1000 }'
}
# measure NAME SERVER_PIDS...: runs the timed wrk load (run_wrk args after NAME in $wrk_args)
# and keeps server CPU ms in srv_cpu_NAME and wrk CPU ms in wrk_cpu_NAME.
measure() {
  local name=$1 s0 s1 w0 w1
  shift
  local pids=("$@")
  # Each run starts with nothing left to write back from the one before, so that no run pays for
  # another's writeback: a 10 s nginx run leaves ~300 MB of access log in the page cache, which
  # the kernel would write back ~30 s later (vm.dirty_expire_centisecs), in the middle of the
  # next round's Touchpoint runs. Untimed; quick when little is dirty.
  sync
  s0=$(proc_cpu_ms "${pids[@]}")
  children_cpu_ms >"$tmp/cpu0"
  run_wrk "$name" "${wrk_args[@]}"
  s1=$(proc_cpu_ms "${pids[@]}")
  children_cpu_ms >"$tmp/cpu1"
  w0=$(<"$tmp/cpu0") w1=$(<"$tmp/cpu1")
  declare -g "srv_cpu_$name=$((s1 - s0))" "wrk_cpu_$name=$((w1 - w0))"
}

metrics() { curl -sS --max-time 10 "$tp/metrics"; }
# value NAME{LABELS}: a sample from the /metrics text on stdin (0 when absent).
value() { awk -v m="$1" '$1 == m { print $2; found = 1 } END { if (!found) print 0 }'; }
wait_drained() {  # until the commit queue is empty (bounded)
  local i
  for ((i = 0; i < 100; i++)); do
    [[ $(metrics | value touchpoint_commit_queue_events) == 0 ]] && break
    sleep 0.1
  done
  sleep 0.3  # the last group's callbacks (which count "accepted") run after the queue empties
}
# buckets NAME: a histogram's cumulative bucket counts, "le:count" space-separated, in order.
buckets() {
  awk -v p="$1_bucket{le=\"" 'index($1, p) == 1 {
    le = substr($1, length(p) + 1); sub(/"}$/, "", le); printf "%s:%s ", le, $2 }'
}
# snapshot TAG: after draining, keeps accepted/committed events, commits and commit seconds in
# acc_TAG, com_TAG, commits_TAG, csec_TAG; the store's write-latency buckets and the WAL syncs'
# count and seconds in wb_TAG, syncs_TAG, ssec_TAG.
snapshot() {
  local m
  wait_drained
  m=$(metrics) || { tail -20 "$tmp/touchpoint.log" >&2; die "touchpoint's /metrics did not answer"; }
  declare -g "acc_$1=$(value 'touchpoint_events_total{outcome="accepted"}' <<<"$m")"
  declare -g "com_$1=$(value touchpoint_committed_events_total <<<"$m")"
  declare -g "commits_$1=$(value touchpoint_commits_total <<<"$m")"
  declare -g "csec_$1=$(value touchpoint_commit_seconds_sum <<<"$m")"
  declare -g "wb_$1=$(buckets touchpoint_write_seconds <<<"$m")"
  declare -g "syncs_$1=$(value touchpoint_wal_sync_seconds_count <<<"$m")"
  declare -g "ssec_$1=$(value touchpoint_wal_sync_seconds_sum <<<"$m")"
}

# --- nginx, started before the rounds and idle between its runs --------------------------------
nginx_port=$(python3 - <<'EOF' 2>/dev/null || true
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
EOF
)
if [[ -z $nginx_port ]]; then  # no python: pick one from the ephemeral range not in use
  for ((i = 0; i < 50; i++)); do
    p=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then nginx_port=$p; break; fi
  done
fi
[[ -n $nginx_port ]] || die "no free port for nginx"
mkdir -p "$tmp/nginx"
sed -e "s#@DIR@#$tmp/nginx#g" -e "s#@PORT@#$nginx_port#g" "$here/nginx.conf" >"$tmp/nginx/nginx.conf"
nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log" \
  >"$tmp/nginx/stdout.log" 2>&1 &
nginx_pid=$!
ng="http://127.0.0.1:$nginx_port"
for ((i = 0; i < 100; i++)); do
  curl -s -o /dev/null --max-time 1 "$ng$pixel_path" && break
  kill -0 "$nginx_pid" 2>/dev/null || { cat "$tmp/nginx/error.log" >&2; die "nginx did not start"; }
  sleep 0.1
done
code=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "$ng$pixel_path")
[[ $code == 200 ]] || die "nginx pre-flight: HTTP $code"

mode="durable (answers wait for an fdatasync of the WAL after their commit)"
((no_fsync)) && mode="--no-fsync (answers do not wait for an fsync)"
echo "http_bench: $(date -u +%Y-%m-%dT%H:%MZ) $(nproc) CPUs shared by wrk (-t2 -c$conns) and the server;" \
     "$rounds round(s) of pixel GET, Events API, nginx, ${secs}s per run after ${warmup}s warm-up;" \
     "touchpoint $mode; CPUs ${busy}% busy before the run"

# --- The rounds ---------------------------------------------------------------------------------
events_args=("$tp/open_api/v1.3/event/track/" "$here/events_api.lua" "$pixel_id" "$access_token"
             "$batch")
if ((warmup > 0)); then
  run_wrk pixel-warmup "$warmup" "$tp$pixel_path" "$here/pixel.lua"
  run_wrk events-warmup "$warmup" "${events_args[@]}"
  run_wrk nginx-warmup "$warmup" "$ng$pixel_path" "$here/pixel.lua"
fi
# shellcheck disable=SC2046,SC2116
nginx_pids() { echo "$nginx_pid" $(pgrep -P "$nginx_pid"); }
for ((r = 1; r <= rounds; r++)); do
  snapshot "${r}a"
  wrk_args=("$secs" "$tp$pixel_path" "$here/pixel.lua")
  measure "pixel$r" "$tp_pid"
  snapshot "${r}b"
  wrk_args=("$secs" "${events_args[@]}")
  measure "events$r" "$tp_pid"
  snapshot "${r}c"
  wrk_args=("$secs" "$ng$pixel_path" "$here/pixel.lua")
  # shellcheck disable=SC2046
  measure "nginx$r" $(nginx_pids)
done
stop_pid "$nginx_pid"
nginx_pid=""
nginx_logged=$(wc -l <"$tmp/nginx/access.log")

# --- Summary ------------------------------------------------------------------------------------
failed=0
declare -A rps eps
runs=()
for ((r = 1; r <= rounds; r++)); do runs+=("pixel$r" "events$r" "nginx$r"); done
for name in "${runs[@]}"; do
  n=$(field "$name" requests)
  us=$(field "$name" duration_us)
  [[ -n $n && -n $us && $us -gt 0 ]] || { cat "$tmp/$name.wrk" >&2; die "no wrk result for $name"; }
  bad=$(($(field "$name" non2xx) + $(field "$name" connect) + $(field "$name" read) +
         $(field "$name" write) + $(field "$name" timeout)))
  per=1
  [[ $name == events* ]] && per=$batch
  rps[$name]=$(awk -v n="$n" -v us="$us" 'BEGIN { printf "%.0f", n / (us / 1e6) }')
  ok=$(($(field "$name" requests) - $(field "$name" non2xx)))
  eps[$name]=$(awk -v n="$ok" -v us="$us" -v k="$per" 'BEGIN { printf "%.0f", n * k / (us / 1e6) }')
  declare "ok_$name=$ok" "bad_$name=$bad"
  if ((bad > 0)); then
    echo "http_bench: $name: $bad requests failed (non-2xx $(field "$name" non2xx)," \
         "connect $(field "$name" connect), read $(field "$name" read)," \
         "write $(field "$name" write), timeout $(field "$name" timeout))" >&2
    failed=1
  fi
done

ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
verdict() { if ge "$1" "$2"; then echo "yes"; else echo "NO"; fi; }
# median VALUE...: the middle value (the mean of the middle two for an even count).
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
  if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
lat() {  # lat NAME: p50/p99 in ms
  awk -v a="$(field "$1" p50_us)" -v b="$(field "$1" p99_us)" 'BEGIN { printf "%.1f/%.1f", a / 1000, b / 1000 }'
}
per_req() {  # per_req CPU_MS OK_REQUESTS: CPU microseconds per 2xx request
  awk -v c="$1" -v n="$2" 'BEGIN { printf "%.1f", (n > 0 ? c * 1000 / n : 0) }'
}
row() {  # row LABEL NAME
  printf '%-34s %10s %10s %6s %12s %11s %9s\n' "$1" "${rps[$2]}" "${eps[$2]}" "$(eval echo "\$bad_$2")" \
    "$(lat "$2")" "$(per_req "$(eval echo "\$srv_cpu_$2")" "$(eval echo "\$ok_$2")")" \
    "$(per_req "$(eval echo "\$wrk_cpu_$2")" "$(eval echo "\$ok_$2")")"
}
total() {  # total VAR RUN: the sum over the rounds of VAR_RUN1..N (total srv_cpu pixel)
  local r t=0
  for ((r = 1; r <= rounds; r++)); do t=$((t + $(eval echo "\${$1_$2$r}"))); done
  echo "$t"
}
echo
printf '%-34s %10s %10s %6s %12s %11s %9s\n' "run" "requests/s" "events/s" "errors" "p50/p99 ms" \
  "server CPU" "wrk CPU"
printf '%-34s %10s %10s %6s %12s %11s %9s\n' "" "" "" "" "" "us/request" "us/req"
ratios=()
events_rates=()
for ((r = 1; r <= rounds; r++)); do
  tag=""
  ((rounds > 1)) && tag=" #$r"
  row "touchpoint pixel GET$tag" "pixel$r"
  row "touchpoint Events API ($batch/req)$tag" "events$r"
  row "nginx empty_gif + access_log$tag" "nginx$r"
  ratios+=("$(awk -v a="${eps[pixel$r]}" -v b="${eps[nginx$r]}" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')")
  events_rates+=("${eps[events$r]}")
done
ratio=$(median "${ratios[@]}")
events_median=$(median "${events_rates[@]}")
events_median=${events_median%.*}
echo
of_rounds=""
((rounds > 1)) && of_rounds=", the median of ${ratios[*]}"
echo "pixel / nginx 2xx req/s:   $ratio$of_rounds  (need >= $NEED_RATIO: $(verdict "$ratio" "$NEED_RATIO");" \
     "goal >= $GOAL_RATIO: $(verdict "$ratio" "$GOAL_RATIO"))"
of_rounds=""
((rounds > 1)) && of_rounds=", the median of ${events_rates[*]}"
echo "Events API events/s:       $events_median$of_rounds  (need >= $MIN_EVENTS:" \
     "$(verdict "$events_median" "$MIN_EVENTS"))"
cpu_ratio=$(awk -v a="$(per_req "$(total srv_cpu pixel)" "$(total ok pixel)")" \
  -v b="$(per_req "$(total srv_cpu nginx)" "$(total ok nginx)")" \
  'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }')
echo "server CPU per pixel GET:   touchpoint / nginx = ${cpu_ratio}x  (all rounds; less sensitive to" \
     "other load on the machine than the request rates)"
awk -v c="$(total srv_cpu events)" -v w="$(total wrk_cpu events)" -v n="$(total ok events)" \
  -v k="$batch" -v cpus="$(nproc)" \
  'BEGIN { if (n == 0) exit; s = c * 1000 / (n * k); t = (c + w) * 1000 / (n * k)
           printf "%-27s%.2f us server CPU per event (+ wrk: %.2f us): at most %.0f events/s on %d CPUs\n",
             "Events API CPU:", s, t, cpus * 1e6 / t, cpus }'

# --- Did Touchpoint store what it acknowledged? -------------------------------------------------
# wrk stops counting at the deadline while up to CONNECTIONS requests are still in flight; those
# are committed too, so the server may have accepted up to CONNECTIONS requests' worth more.
check_stored() {  # check_stored NAME ACCEPTED_DELTA EVENTS_PER_REQUEST
  local name=$1 got=$2 per=$3 ok
  ok=$(eval echo "\$ok_$name")
  local lo=$((ok * per)) hi=$(((ok + conns) * per))
  if ((got >= lo && got <= hi)); then
    printf '%-27s%s\n' "stored ($name):" "$got events accepted for $ok acknowledged requests x $per: ok"
  else
    printf '%-27s%s\n' "stored ($name):" "$got events accepted, expected $lo..$hi: MISMATCH"
    failed=1
  fi
}
for ((r = 1; r <= rounds; r++)); do
  a="acc_${r}a" b="acc_${r}b" c="acc_${r}c"
  check_stored "pixel$r" $((${!b} - ${!a})) 1
  check_stored "events$r" $((${!c} - ${!b})) "$batch"
done
last_com="com_${rounds}c" last_acc="acc_${rounds}c"
committed=${!last_com}
if ((committed == ${!last_acc})); then
  printf '%-27s%s\n' "committed (all runs):" "$committed events committed = ${!last_acc} accepted: ok"
else
  printf '%-27s%s\n' "committed (all runs):" "$committed events committed != ${!last_acc} accepted: MISMATCH"
  failed=1
fi
# Group commit: how many events shared an fsync, and how long a commit took (all rounds).
commit_stats() {  # commit_stats NAME FROM TO: between snapshots ${r}FROM and ${r}TO of each round
  local r c=0 e=0 sec=0
  for ((r = 1; r <= rounds; r++)); do
    c=$((c + $(eval echo "\$commits_$r$3") - $(eval echo "\$commits_$r$2")))
    e=$((e + $(eval echo "\$com_$r$3") - $(eval echo "\$com_$r$2")))
    sec=$(awk -v t="$sec" -v a="$(eval echo "\$csec_$r$3")" -v b="$(eval echo "\$csec_$r$2")" \
      'BEGIN { print t + a - b }')
  done
  ((c > 0)) || return 0
  printf '%-27s%s\n' "commits ($1):" "$(awk -v c="$c" -v e="$e" -v s="$sec" \
    'BEGIN { printf "%d commits, %.1f events/commit, %.3f ms/commit", c, e / c, s * 1000 / c }')"
}
commit_stats pixel a b
commit_stats events b c
# The store's share of the latency (GET /metrics histograms): from a request's hand-over to the
# store until its answer, as the upper bounds of the buckets holding the median and the 99th
# percentile over all rounds; and the mean fdatasync.
store_latency() {  # store_latency NAME FROM TO
  local r all=""
  for ((r = 1; r <= rounds; r++)); do
    all+="$(eval echo "\$wb_$r$2")|$(eval echo "\$wb_$r$3")|"
    all+="$(eval echo "\$syncs_$r$2") $(eval echo "\$syncs_$r$3") "
    all+="$(eval echo "\$ssec_$r$2") $(eval echo "\$ssec_$r$3")#"
  done
  awk -v all="$all" -v name="$1" 'BEGIN {
    nr = split(all, rounds_, "#")
    for (i = 1; i <= nr; i++) {
      if (rounds_[i] == "") continue
      split(rounds_[i], part, "|")
      nb = split(part[1], from, " "); split(part[2], to, " ")
      for (b = 1; b <= nb; b++) {
        split(from[b], f, ":"); split(to[b], t, ":")
        le[b] = f[1]; d[b] += t[2] - f[2]
      }
      split(part[3], s, " ")
      syncs += s[2] - s[1]; ssec += s[4] - s[3]
    }
    total = d[nb]; if (total <= 0) exit
    for (b = 1; b <= nb; b++) {
      if (p50 == "" && d[b] >= 0.5 * total) p50 = le[b]
      if (p99 == "" && d[b] >= 0.99 * total) p99 = le[b]
    }
    printf "%-27s%d writes: p50 <= %s, p99 <= %s", "store write (" name "):", total, fmt(p50), fmt(p99)
    if (syncs > 0) printf "; %d fdatasyncs, %.3f ms each", syncs, ssec * 1000 / syncs
    printf "\n"
  }
  function fmt(le) { return le == "+Inf" ? "+Inf" : sprintf("%g ms", le * 1000) }'
}
store_latency pixel a b
store_latency events b c
printf '%-27s%s\n' "nginx access log:" "$nginx_logged lines (incl. warm-up)"

# Stop Touchpoint and count the rows it left on disk, when sqlite3 is there.
stop_pid "$tp_pid"
tp_pid=""
if command -v sqlite3 >/dev/null && [[ -f $tmp/data/touchpoint.db ]]; then
  rows=$(sqlite3 "$tmp/data/touchpoint.db" 'SELECT COUNT(*) FROM events' 2>/dev/null || echo "?")
  if [[ $rows == "$committed" ]]; then
    printf '%-27s%s\n' "on disk:" "$rows rows in events after shutdown: ok"
  else
    printf '%-27s%s\n' "on disk:" "$rows rows in events after shutdown, $committed committed: MISMATCH"
    failed=1
  fi
fi
exit $failed
