#!/usr/bin/env bash
# Report benchmark (docs/benchmarks.md): Touchpoint's column engine against ClickHouse 18.16,
# DuckDB and SQLite on the same 10 M events, in one go:
#   1. report_bench generates the events, writes them as CSV, loads them into a query::Dataset and
#      times (a) the delivery + conversion report by campaign x ad x age x gender and (b) last-touch
#      attribution of all conversions to ads (warm, median of RUNS), then (b) under the data-driven
#      models markov and shapley (Touchpoint only; printed as ratios to last touch's (b))
#   2. a private clickhouse-server (temp dir, free loopback ports) loads the CSV into MergeTree and
#      runs bench/sql/clickhouse_{a,b}.sql; it is stopped before the next engine starts
#   3. DuckDB (npm @duckdb/node-api, bench/duckdb.mjs) loads them in memory, runs duckdb_{a,b}.sql
#   4. SQLite (sqlite3 CLI) loads them into a database file, runs sqlite_{a,b}.sql
# then checks that every engine's answers equal ours row by row, and prints the times, our ratio
# against each engine and against the fastest of the three, our memory per event, and the bounds.
#
# Usage: bench/report_bench.sh [--runs N] [--sqlite-runs N] [--users N] [--skip ENGINE] [BINARY]
#   BINARY          report_bench (default build-release/bench/report_bench)
#   --runs N        timed warm runs per query, after one warm-up (default 7); median reported
#   --sqlite-runs N the same for SQLite, whose runs take tens of seconds (default 3)
#   --users N       people (default 1000000, about 10 events each)
#   --skip ENGINE   clickhouse, duckdb or sqlite (repeatable)
# Env: TMPDIR (scratch dir: about 2 GB of CSV and databases), TP_BENCH_KEEP=1 keeps it.
# Exit status: 0 when every engine's answers matched ours (bounds met or not), 1 when an answer
# differed or an engine failed, 2 on usage or setup problems. Bounds are reported, not enforced.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
root=$(cd "$here/.." && pwd)
usage() { sed -n '14,22p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
die() { echo "report_bench: $*" >&2; exit 2; }
say() { echo "report_bench: $*" >&2; }

runs=7
sqlite_runs=3
users=1000000
declare -A skip=()
while [[ $# -gt 0 && $1 == -* ]]; do
  case $1 in
    --runs) [[ $# -ge 2 ]] || usage; runs=$2; shift ;;
    --sqlite-runs) [[ $# -ge 2 ]] || usage; sqlite_runs=$2; shift ;;
    --users) [[ $# -ge 2 ]] || usage; users=$2; shift ;;
    --skip) [[ $# -ge 2 ]] || usage; skip[$2]=1; shift ;;
    -h|--help) usage ;;
    *) echo "report_bench: unknown option $1" >&2; usage ;;
  esac
  shift
done
[[ $# -le 1 ]] || usage
bin=${1:-$root/build-release/bench/report_bench}
[[ $runs =~ ^[0-9]+$ && $runs -ge 1 ]] || die "--runs must be a positive integer"
[[ $sqlite_runs =~ ^[0-9]+$ && $sqlite_runs -ge 1 ]] || die "--sqlite-runs must be a positive integer"
[[ $users =~ ^[0-9]+$ && $users -ge 1000 ]] || die "--users must be an integer >= 1000"
for e in "${!skip[@]}"; do
  [[ $e == clickhouse || $e == duckdb || $e == sqlite ]] || die "--skip: unknown engine $e"
done
[[ -x $bin ]] || die "not an executable: $bin (build it: cmake --build build-release --target report_bench)"
engines=()
for e in clickhouse duckdb sqlite; do [[ -n ${skip[$e]:-} ]] || engines+=("$e"); done
command -v curl >/dev/null || die "curl not found"
command -v node >/dev/null || die "node not found (scripts/bootstrap.sh installs it)"
if [[ -z ${skip[clickhouse]:-} ]]; then
  command -v clickhouse-server >/dev/null ||
    die "clickhouse-server not found (scripts/bootstrap.sh --bench installs it)"
fi
if [[ -z ${skip[sqlite]:-} ]]; then
  command -v sqlite3 >/dev/null || die "sqlite3 not found (scripts/bootstrap.sh --bench installs it)"
fi
if [[ -z ${skip[duckdb]:-} && ! -d $here/node_modules/@duckdb/node-api ]]; then
  die "@duckdb/node-api not installed: run (cd bench && npm ci)"
fi

# Bounds (the issue): >= NEED x the fastest of the three on both queries, <= MAX_BYTES per event;
# the goal: >= GOAL x ClickHouse on both, < GOAL_BYTES per event.
NEED=3
MAX_BYTES=64
GOAL=20
GOAL_BYTES=32

work=$(mktemp -d "${TMPDIR:-/tmp}/tp-report-bench.XXXXXX")
ch_pid=""
cleanup() {
  stop_pid "$ch_pid" 30
  if [[ ${TP_BENCH_KEEP:-0} == 1 ]]; then
    say "scratch dir kept: $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The machine is shared: measure how busy it is before starting, and say so when it is.
busy=$(cpu_busy_pct)
if ((busy > 15)); then
  say "WARNING: the CPUs were already ${busy}% busy before the run" \
      "($(ps -eo pcpu=,comm= --sort=-pcpu | head -3 | awk '{ printf "%s%s %s%%", sep, $2, $1; sep = ", " }'));" \
      "every engine competes with that, absolute numbers will be high"
fi

# json FILE SELECTOR KEY: the number KEY in the first line of FILE that contains SELECTOR.
json() { grep -F -- "$2" "$1" | head -1 | sed -n "s/.*\"$3\":\([-0-9.e]*\).*/\1/p"; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
failed=0

# --- 1. Touchpoint --------------------------------------------------------------------------
say "touchpoint: generating $users people's events, loading, timing (a) and (b)"
"$bin" --users "$users" --runs "$runs" --out "$work" | tee "$work/touchpoint.jsonl" ||
  die "report_bench failed"
events=$(json "$work/touchpoint.jsonl" '"phase":"generate"' events)
tp_a=$(json "$work/touchpoint.jsonl" '"query":"a"' median_s)
tp_b=$(json "$work/touchpoint.jsonl" '"query":"b"' median_s)
# (b) under the data-driven models, as a ratio to last touch's (b) in the same run (issue 22).
tp_markov=$(json "$work/touchpoint.jsonl" '"model":"markov"' ratio)
tp_shapley=$(json "$work/touchpoint.jsonl" '"model":"shapley"' ratio)
tp_cpu_a=$(json "$work/touchpoint.jsonl" '"query":"a"' cpu_median_s)
tp_cpu_b=$(json "$work/touchpoint.jsonl" '"query":"b"' cpu_median_s)
tp_threads=$(json "$work/touchpoint.jsonl" '"query":"a"' threads)
tp_load=$(json "$work/touchpoint.jsonl" '"phase":"load"' load_s)
tp_index=$(json "$work/touchpoint.jsonl" '"phase":"load"' index_build_s)
tp_bytes=$(json "$work/touchpoint.jsonl" '"phase":"load"' bytes_per_event)
tp_rss_bytes=$(json "$work/touchpoint.jsonl" '"phase":"load"' rss_bytes_per_event)
[[ -n $tp_a && -n $tp_b && -n $tp_bytes ]] || die "report_bench printed no timings"

declare -A time_a=() time_b=() cpu_a=() cpu_b=() load_s=() store_note=()

# --- 2. ClickHouse --------------------------------------------------------------------------
free_ports() {  # free_ports N: N loopback ports nobody listens on (the kernel picks them)
  node -e '
    const net = require("net"); const n = Number(process.argv[1]); const ports = [];
    const servers = [];
    (function next() {
      if (ports.length === n) { servers.forEach((s) => s.close()); console.log(ports.join(" ")); return; }
      const s = net.createServer(); servers.push(s);
      s.listen(0, "127.0.0.1", () => { ports.push(s.address().port); next(); });
    })();' "$1"
}
clk_tck=$(getconf CLK_TCK)
proc_cpu() {  # proc_cpu PID: user + system CPU seconds of the process, all threads
  awk -v hz="$clk_tck" '{ sub(/^.*\) /, ""); printf "%.2f\n", ($12 + $13) / hz }' "/proc/$1/stat"
}
ch_query() {  # ch_query SQL-or-@file [curl args...]: one statement; the answer on stdout
  local body=$1; shift
  curl -sS --fail-with-body --data-binary "$body" "$@" "$ch_url"
}
if [[ -z ${skip[clickhouse]:-} ]]; then
  say "clickhouse: starting a private server"
  ch=$work/clickhouse
  mkdir -p "$ch/data" "$ch/tmp" "$ch/user_files" "$ch/format_schemas"
  read -r ch_http ch_tcp < <(free_ports 2)
  cat >"$ch/config.xml" <<EOF
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$ch/server.log</log><errorlog>$ch/server.err.log</errorlog></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$ch_http</http_port>
  <tcp_port>$ch_tcp</tcp_port>
  <path>$ch/data/</path>
  <tmp_path>$ch/tmp/</tmp_path>
  <user_files_path>$ch/user_files/</user_files_path>
  <format_schema_path>$ch/format_schemas/</format_schema_path>
  <users_config>$ch/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>1073741824</mark_cache_size>
  <max_concurrent_queries>10</max_concurrent_queries>
</yandex>
EOF
  cat >"$ch/users.xml" <<'EOF'
<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>10000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks>
    <profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
EOF
  ch_url="http://127.0.0.1:$ch_http/"
  clickhouse-server --config-file="$ch/config.xml" >"$ch/stdout.log" 2>&1 &
  ch_pid=$!
  for ((i = 0; i < 600; i++)); do
    curl -sf -o /dev/null "${ch_url}?query=SELECT%201" 2>/dev/null && break
    kill -0 "$ch_pid" 2>/dev/null || { cat "$ch/stdout.log" "$ch/server.err.log" >&2 2>/dev/null; die "clickhouse-server exited"; }
    sleep 0.1
  done
  ch_version=$(ch_query "SELECT version()") || die "clickhouse-server did not start within 60 s"
  # The schema, one statement per request (comments stripped; statements end with ';').
  sed 's/--.*$//' "$here/sql/clickhouse_schema.sql" |
    awk -v dir="$ch" 'BEGIN { RS = ";" } NF { n++; print > (dir "/schema" n ".sql") }'
  for f in "$ch"/schema*.sql; do ch_query "@$f" >/dev/null || die "clickhouse: schema failed ($f)"; done
  say "clickhouse $ch_version: loading"
  t0=$(date +%s.%N)
  for table in ads spend site_events ad_events; do  # streamed (-T), not read into memory
    curl -sS --fail-with-body -X POST -T "$work/$table.csv" \
      "${ch_url}?query=INSERT%20INTO%20$table%20FORMAT%20CSVWithNames" >/dev/null ||
      die "clickhouse: loading $table failed"
  done
  for table in ads spend site_events ad_events; do ch_query "OPTIMIZE TABLE $table FINAL" >/dev/null; done
  load_s[clickhouse]=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
  n=$(ch_query "SELECT (SELECT count() FROM ad_events) + (SELECT count() FROM site_events)")
  [[ $n == "$events" ]] || die "clickhouse: loaded $n events, expected $events"
  ch_bytes=$(ch_query "SELECT sum(bytes) FROM system.parts WHERE active AND database = 'default'")
  # Wall time of each request as curl sees it: the query plus sending its answer (a few
  # thousand rows) over loopback HTTP. CPU: the server process's, in clock ticks (10 ms).
  for q in a b; do
    say "clickhouse: timing ($q)"
    sql=$(sed 's/--.*$//' "$here/sql/clickhouse_$q.sql")
    ch_query "$sql" >/dev/null  # warm-up
    : >"$work/clickhouse_$q.times"
    : >"$work/clickhouse_$q.cpu"
    for ((i = 0; i < runs; i++)); do
      out=/dev/null
      ((i == 0)) && out=$work/clickhouse_$q.tsv
      c0=$(proc_cpu "$ch_pid")
      ch_query "$sql" -o "$out" -w '%{time_total}\n' >>"$work/clickhouse_$q.times"
      awk -v a="$c0" -v b="$(proc_cpu "$ch_pid")" 'BEGIN { printf "%.2f\n", b - a }' >>"$work/clickhouse_$q.cpu"
    done
  done
  time_a[clickhouse]=$(median <"$work/clickhouse_a.times")
  time_b[clickhouse]=$(median <"$work/clickhouse_b.times")
  cpu_a[clickhouse]=$(median <"$work/clickhouse_a.cpu")
  cpu_b[clickhouse]=$(median <"$work/clickhouse_b.cpu")
  ch_rss=$(awk '/^VmRSS:/ { print $2 * 1024 }' "/proc/$ch_pid/status")
  store_note[clickhouse]="MergeTree parts $(awk -v b="$ch_bytes" -v n="$events" 'BEGIN { printf "%.1f", b / n }') B/event compressed on disk; server RSS $(awk -v b="$ch_rss" -v n="$events" 'BEGIN { printf "%.1f", b / n }') B/event after the queries"
  echo "{\"bench\":\"report\",\"engine\":\"clickhouse\",\"version\":\"$ch_version\",\"load_s\":${load_s[clickhouse]},\"a_median_s\":${time_a[clickhouse]},\"b_median_s\":${time_b[clickhouse]},\"a_cpu_median_s\":${cpu_a[clickhouse]},\"b_cpu_median_s\":${cpu_b[clickhouse]},\"parts_bytes\":$ch_bytes,\"rss_bytes\":$ch_rss}"
  stop_pid "$ch_pid" 30
  ch_pid=""
fi

# --- 3. DuckDB ------------------------------------------------------------------------------
if [[ -z ${skip[duckdb]:-} ]]; then
  say "duckdb: loading and timing"
  node "$here/duckdb.mjs" "$work" "$runs" | tee "$work/duckdb.jsonl" || die "duckdb.mjs failed"
  load_s[duckdb]=$(json "$work/duckdb.jsonl" '"phase":"load"' load_s)
  time_a[duckdb]=$(json "$work/duckdb.jsonl" '"query":"a"' median_s)
  time_b[duckdb]=$(json "$work/duckdb.jsonl" '"query":"b"' median_s)
  cpu_a[duckdb]=$(json "$work/duckdb.jsonl" '"query":"a"' cpu_median_s)
  cpu_b[duckdb]=$(json "$work/duckdb.jsonl" '"query":"b"' cpu_median_s)
  n=$(json "$work/duckdb.jsonl" '"phase":"load"' events)
  [[ $n == "$events" ]] || die "duckdb: loaded $n events, expected $events"
  duck_bytes=$(json "$work/duckdb.jsonl" '"phase":"load"' memory_bytes)
  store_note[duckdb]="in-memory database $(awk -v b="$duck_bytes" -v n="$events" 'BEGIN { printf "%.1f", b / n }') B/event (duckdb_memory())"
fi

# --- 4. SQLite ------------------------------------------------------------------------------
if [[ -z ${skip[sqlite]:-} ]]; then
  say "sqlite: loading (CSV import + indexes)"
  db=$work/sqlite.db
  t0=$(date +%s.%N)
  sed "s|{dir}|$work|g" "$here/sql/sqlite_load.sql" | sqlite3 -bail "$db" >/dev/null ||
    die "sqlite: loading failed"
  load_s[sqlite]=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
  n=$(sqlite3 "$db" "SELECT (SELECT count(*) FROM ad_events) + (SELECT count(*) FROM site_events)")
  [[ $n == "$events" ]] || die "sqlite: loaded $n events, expected $events"
  # One sqlite3 process per query: a warm-up, then the timed runs (the first one's answer kept).
  # The page cache is big enough to hold the whole database, so warm runs read no file.
  for q in a b; do
    say "sqlite: timing ($q), $sqlite_runs runs"
    {
      echo "PRAGMA cache_size = -8000000;"
      echo "PRAGMA mmap_size = 8000000000;"
      echo "PRAGMA temp_store = MEMORY;"
      echo ".mode tabs"
      echo ".output /dev/null"
      cat "$here/sql/sqlite_$q.sql"
      echo ".timer on"
      for ((i = 0; i < sqlite_runs; i++)); do
        if ((i == 0)); then echo ".output $work/sqlite_$q.tsv"; else echo ".output /dev/null"; fi
        cat "$here/sql/sqlite_$q.sql"
      done
    } | sqlite3 -bail "$db" >"$work/sqlite_$q.timer" || die "sqlite: query ($q) failed"
    sed -n 's/^Run Time: real \([0-9.]*\).*/\1/p' "$work/sqlite_$q.timer" >"$work/sqlite_$q.times"
    awk '/^Run Time:/ { printf "%.6f\n", $6 + $8 }' "$work/sqlite_$q.timer" >"$work/sqlite_$q.cpu"
    [[ $(wc -l <"$work/sqlite_$q.times") -eq $sqlite_runs ]] || die "sqlite: no timings for ($q)"
  done
  time_a[sqlite]=$(median <"$work/sqlite_a.times")
  time_b[sqlite]=$(median <"$work/sqlite_b.times")
  cpu_a[sqlite]=$(median <"$work/sqlite_a.cpu")
  cpu_b[sqlite]=$(median <"$work/sqlite_b.cpu")
  store_note[sqlite]="database file $(stat -c %s "$db" | awk -v n="$events" '{ printf "%.1f", $1 / n }') B/event (with indexes)"
  echo "{\"bench\":\"report\",\"engine\":\"sqlite\",\"version\":\"$(sqlite3 --version | cut -d' ' -f1)\",\"load_s\":${load_s[sqlite]},\"a_median_s\":${time_a[sqlite]},\"b_median_s\":${time_b[sqlite]},\"a_cpu_median_s\":${cpu_a[sqlite]},\"b_cpu_median_s\":${cpu_b[sqlite]}}"
fi

# --- Same answers? --------------------------------------------------------------------------
# Row by row against ours, keyed by the dimensions: counts and cents must be equal; spend, a sum
# of floating-point shares, may differ by 2 cents (summation order).
compare() {  # compare OURS THEIRS KEYS SPEND_COLUMN: prints the number of differing rows
  awk -v keys="$3" -v tol_col="$4" '
    BEGIN { FS = "\t"; bad = 0; shown = 0 }
    FNR == NR { k = $1; for (i = 2; i <= keys; i++) k = k "\t" $i; ref[k] = $0; next }
    {
      k = $1; for (i = 2; i <= keys; i++) k = k "\t" $i
      if (!(k in ref)) { bad++; if (shown++ < 3) print "  extra row: " $0 > "/dev/stderr"; next }
      if (k in seen) { bad++; if (shown++ < 3) print "  repeated row: " $0 > "/dev/stderr"; next }
      seen[k] = 1
      if (NF != split(ref[k], r, "\t")) { bad++; if (shown++ < 3) print "  columns differ: " $0 > "/dev/stderr"; next }
      for (i = keys + 1; i <= NF; i++) {
        d = $i - r[i]; if (d < 0) d = -d
        if (d > (i == tol_col ? 2 : 0)) {
          bad++
          if (shown++ < 3) print "  differs: ours " ref[k] "\n           theirs " $0 > "/dev/stderr"
          break
        }
      }
    }
    END {
      for (k in ref) if (!(k in seen)) { bad++; if (shown++ < 3) print "  missing row: " ref[k] > "/dev/stderr" }
      print bad
    }' "$1" "$2"
}
declare -A same=()
rows_a=$(wc -l <"$work/touchpoint_a.tsv")
rows_b=$(wc -l <"$work/touchpoint_b.tsv")
for e in "${engines[@]}"; do
  say "$e: comparing answers with ours"
  da=$(compare "$work/touchpoint_a.tsv" "$work/${e}_a.tsv" 4 13)
  db_=$(compare "$work/touchpoint_b.tsv" "$work/${e}_b.tsv" 1 0)
  if [[ $da == 0 && $db_ == 0 ]]; then
    same[$e]="same"
  else
    same[$e]="DIFFER (a: $da, b: $db_ rows)"
    failed=1
  fi
done

# --- Table ----------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.1f", a / b; else printf "-" }'; }
fmt() { awk -v x="$1" 'BEGIN { printf "%.3f", x }'; }
echo
echo "Report benchmark: $events events ($users people); median of $runs warm runs" \
     "(SQLite: $sqlite_runs); CPUs ${busy}% busy before the run"
echo "wall = elapsed seconds (the bound); cpu = CPU seconds of the engine's process, all threads;" \
     "x = its time / ours"
fmtrow='%-11s %8s %8s %8s %8s %8s %8s %8s %8s %8s  %s\n'
printf "$fmtrow" engine "(a) wall" "(b) wall" "(a) cpu" "(b) cpu" "load s" "x(a)" "x(b)" "cpu x(a)" "cpu x(b)" answers
printf "$fmtrow" "touchpoint" "$(fmt "$tp_a")" "$(fmt "$tp_b")" "$(fmt "$tp_cpu_a")" "$(fmt "$tp_cpu_b")" \
  "$(fmt "$(awk -v a="$tp_load" -v b="$tp_index" 'BEGIN { print a + b }')")" "" "" "" "" \
  "$tp_threads threads; load $(fmt "$tp_load") s + index build $(fmt "$tp_index") s"
fast_a="" fast_b="" fast_a_e="" fast_b_e=""
for e in "${engines[@]}"; do
  printf "$fmtrow" "$e" "$(fmt "${time_a[$e]}")" "$(fmt "${time_b[$e]}")" "$(fmt "${cpu_a[$e]}")" \
    "$(fmt "${cpu_b[$e]}")" "$(fmt "${load_s[$e]}")" "$(ratio "${time_a[$e]}" "$tp_a")x" \
    "$(ratio "${time_b[$e]}" "$tp_b")x" "$(ratio "${cpu_a[$e]}" "$tp_cpu_a")x" \
    "$(ratio "${cpu_b[$e]}" "$tp_cpu_b")x" "${same[$e]}"
  if [[ -z $fast_a ]] || awk -v x="${time_a[$e]}" -v y="$fast_a" 'BEGIN { exit !(x < y) }'; then
    fast_a=${time_a[$e]} fast_a_e=$e
  fi
  if [[ -z $fast_b ]] || awk -v x="${time_b[$e]}" -v y="$fast_b" 'BEGIN { exit !(x < y) }'; then
    fast_b=${time_b[$e]} fast_b_e=$e
  fi
done
echo
check() {  # check COND-AWK-EXPR: PASS or FAIL
  if awk "BEGIN { exit !($1) }"; then echo PASS; else echo FAIL; fi
}
echo "answers: (a) $rows_a rows, (b) $rows_b ads with conversions; every engine's checked row by row"
echo "our memory: $tp_bytes B/event (Dataset::Stats().memory_bytes), RSS growth $tp_rss_bytes B/event"
for e in "${engines[@]}"; do echo "  $e: ${store_note[$e]}"; done
if [[ -n $fast_a ]]; then
  ra=$(ratio "$fast_a" "$tp_a") rb=$(ratio "$fast_b" "$tp_b")
  echo "fastest of the three: (a) $fast_a_e $(fmt "$fast_a") s -> ours ${ra}x;" \
       "(b) $fast_b_e $(fmt "$fast_b") s -> ours ${rb}x"
  echo "bound: (a) >= ${NEED}x the fastest            $(check "$fast_a >= $NEED * $tp_a")"
  echo "bound: (b) >= ${NEED}x the fastest            $(check "$fast_b >= $NEED * $tp_b")"
fi
echo "bound: <= $MAX_BYTES B/event                    $(check "$tp_bytes <= $MAX_BYTES")"
if [[ -n $tp_markov && -n $tp_shapley ]]; then
  echo "bound: (b) by ad under markov <= 3x last touch   $(check "$tp_markov <= 3") (${tp_markov}x)"
  echo "bound: (b) by ad under shapley <= 3x last touch  $(check "$tp_shapley <= 3") (${tp_shapley}x)"
fi
if [[ -n ${time_a[clickhouse]:-} ]]; then
  ca=$(ratio "${time_a[clickhouse]}" "$tp_a") cb=$(ratio "${time_b[clickhouse]}" "$tp_b")
  echo "goal:  >= ${GOAL}x ClickHouse on (a) and (b)  $(check "${time_a[clickhouse]} >= $GOAL * $tp_a && ${time_b[clickhouse]} >= $GOAL * $tp_b") ((a) ${ca}x, (b) ${cb}x)"
fi
echo "goal:  < $GOAL_BYTES B/event                     $(check "$tp_bytes < $GOAL_BYTES")"
exit $failed
