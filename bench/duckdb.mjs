// DuckDB peer of the report benchmark (bench/report_bench.sh): loads the CSV files that
// report_bench wrote into an in-memory DuckDB (bench/sql/duckdb_load.sql), then runs
// bench/sql/duckdb_a.sql and duckdb_b.sql once to warm up and RUNS more times, timing each run
// (query + reading every result row into JS; wall and process CPU time). Writes the first timed run's answer as
// DIR/duckdb_{a,b}.tsv and prints one JSON line per phase.
//
// Usage: node bench/duckdb.mjs DIR [RUNS]      (needs `npm ci` in bench/ for @duckdb/node-api)
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';

const here = dirname(fileURLToPath(import.meta.url));
const [dir, runsArg] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node bench/duckdb.mjs DIR [RUNS]');
  process.exit(2);
}
const runs = Math.max(1, Number(runsArg ?? 7));
const sql = (name) => readFileSync(join(here, 'sql', name), 'utf8');
const now = () => Number(process.hrtime.bigint()) / 1e9;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};

const instance = await DuckDBInstance.create(':memory:');
const con = await instance.connect();
const settings = (await con.runAndReadAll(
  "SELECT version(), current_setting('threads'), current_setting('memory_limit')")).getRows()[0];

let t0 = now();
await con.run(sql('duckdb_load.sql').replaceAll('{dir}', dir));
const loadSeconds = now() - t0;
const size = (await con.runAndReadAll(
  'SELECT (SELECT count(*) FROM ad_events) + (SELECT count(*) FROM site_events)')).getRows()[0][0];
const memory = (await con.runAndReadAll(
  'SELECT sum(memory_usage_bytes) FROM duckdb_memory()')).getRows()[0][0];
console.log(JSON.stringify({
  bench: 'report', engine: 'duckdb', phase: 'load', version: settings[0], threads: Number(settings[1]),
  load_s: +loadSeconds.toFixed(3), events: Number(size), memory_bytes: Number(memory),
}));

for (const q of ['a', 'b']) {
  const text = sql(`duckdb_${q}.sql`);
  await con.runAndReadAll(text);  // warm-up
  const seconds = [];
  const cpuSeconds = [];  // user + system CPU of the whole process (DuckDB's threads included)
  let answer = null;
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    t0 = now();
    const rows = (await con.runAndReadAll(text)).getRows();
    seconds.push(now() - t0);
    const c = process.cpuUsage(c0);
    cpuSeconds.push((c.user + c.system) / 1e6);
    answer ??= rows;
  }
  writeFileSync(join(dir, `duckdb_${q}.tsv`),
                answer.map((r) => r.map((v) => String(v)).join('\t')).join('\n') + '\n');
  console.log(JSON.stringify({
    bench: 'report', engine: 'duckdb', query: q, median_s: +median(seconds).toFixed(6),
    min_s: +Math.min(...seconds).toFixed(6), cpu_median_s: +median(cpuSeconds).toFixed(6),
    runs_s: seconds.map((s) => +s.toFixed(6)), cpu_runs_s: cpuSeconds.map((s) => +s.toFixed(6)),
    rows: answer.length,
  }));
}
