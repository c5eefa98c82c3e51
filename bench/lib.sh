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
