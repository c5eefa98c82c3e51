# Helpers shared by the benchmark scripts (sourced, not run).

# stop_pid PID [SECONDS=10]: TERM, wait up to SECONDS, then KILL; reaps it.
stop_pid() {
  local pid=$1 ticks=$((${2:-10} * 10)) i
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < ticks; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
}

# cpu_busy_pct: how busy all CPUs were over one second, in percent (the machines are shared).
cpu_busy_pct() {
  local a b
  read -r _ a1 a2 a3 a4 a5 a6 a7 a8 _ </proc/stat
  sleep 1
  read -r _ b1 b2 b3 b4 b5 b6 b7 b8 _ </proc/stat
  a=$((a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8)) b=$((b1 + b2 + b3 + b4 + b5 + b6 + b7 + b8))
  local idle=$(((b4 + b5) - (a4 + a5))) total=$((b - a))
  echo $((total > 0 ? 100 * (total - idle) / total : 0))
}

# create_pixel URL ADMIN_TOKEN: creates a pixel on the server at URL; sets pixel_id and
# access_token (both empty when it failed, with the server's answer in pixel_answer).
create_pixel() {
  pixel_answer=$(curl -sS --max-time 10 -X POST "$1/api/v1/pixels" -H "Authorization: Bearer $2" \
    -H 'Content-Type: application/json' -d '{"name":"bench"}')
  pixel_id=$(sed -n 's/.*"pixel_id":"\([^"]*\)".*/\1/p' <<<"$pixel_answer")
  access_token=$(sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p' <<<"$pixel_answer")
  [[ -n $pixel_id && -n $access_token ]]
}

# pixel_query PIXEL_ID: the query string of the pixel GET the benchmarks send.
pixel_query() {
  echo "pixel_id=$1&event=PageView&ttp=bench.cookie.1a2b3c&url=https%3A%2F%2Fshop.example%2F"
}

# proc_cpu_ms PID...: CPU time (user + system, all threads) of these processes, in ms, from /proc.
proc_cpu_ms() {
  local pid sum=0 rest tck
  tck=$(getconf CLK_TCK 2>/dev/null || echo 100)
  for pid in "$@"; do
    [[ -r /proc/$pid/stat ]] || continue
    rest=$(<"/proc/$pid/stat")
    rest=${rest##*) }  # past "pid (comm) "
    read -r -a f <<<"$rest"
    sum=$((sum + f[11] + f[12]))  # utime, stime: fields 14 and 15 of stat
  done
  echo $((sum * 1000 / tck))
}
