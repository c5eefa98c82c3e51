// Shared by the browser tests: pass/fail bookkeeping, the closing "N passed, M failed" line,
// polling with a deadline (no fixed sleeps to wait for things), and starting and stopping a
// `touchpoint serve` on a free port.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

let passed = 0;
let failed = 0;

export function check(name, ok, detail = '') {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'PASS' : 'FAIL'}  ${name}${!ok && detail ? `  -- ${detail}` : ''}`);
  return ok;
}

export function finish(code) {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(code ?? (failed ? 1 : 0));
}

export function fatal(msg) {
  console.error(`error: ${msg}`);
  failed++;
  finish(2);
}

// What every browser test needs: the touchpoint binary (`binary`, resolved; `usage` when missing),
// playwright-core in ROOT/web/node_modules and Chromium at `chromiumPath`. Exits with a message
// saying how to get what is missing; returns playwright's `chromium`.
export function requireBrowserTest({ root, binary, usage, chromiumPath }) {
  if (!binary) fatal(usage);
  if (!fs.existsSync(binary)) fatal(`touchpoint binary not found at ${binary} (build it first)`);
  let chromium;
  try {
    ({ chromium } = createRequire(path.join(root, 'web', 'package.json'))('playwright-core'));
  } catch (e) {
    fatal(`playwright-core is not installed in web/node_modules: run scripts/bootstrap.sh ` +
          `(or: cd web && npm ci)\n  (${e.message.split('\n')[0]})`);
  }
  if (!fs.existsSync(chromiumPath)) fatal(`${chromiumPath} not found: apt-get install -y chromium (or set CHROMIUM)`);
  return chromium;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls fn() until it returns a truthy value or the deadline passes (then returns the last value).
export async function waitFor(fn, { timeoutMs = 15000, everyMs = 50 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last || Date.now() > deadline) return last;
    await sleep(everyMs);
  }
}

// Starts `BINARY serve` on DIR/data and a free port, its output in LOGPATH. Resolves to
// { proc, base } once it listens, or { proc, error } when it died or wrote no port file in time.
// `args`: more `serve` flags.
export async function startTouchpoint({ binary, dir, admin, logPath, timeoutMs = 20000, args = [] }) {
  const dataDir = `${dir}/data`;
  const portFile = `${dir}/port`;
  fs.mkdirSync(dataDir, { recursive: true });
  fs.rmSync(portFile, { force: true });  // (a restart on the same directory)
  const log = fs.openSync(logPath, 'w');
  const proc = spawn(binary, ['serve', '--data', dataDir, '--listen', '127.0.0.1:0',
    '--port-file', portFile, '--admin-token', admin, ...args], { stdio: ['ignore', log, log] });
  fs.closeSync(log);
  let exited = null;
  proc.on('exit', (code, sig) => { exited = `exited (${sig || code})`; });
  proc.on('error', (e) => { exited = `failed to start: ${e.message}`; });
  const port = await waitFor(() => {
    if (exited) return 'dead';
    try {
      const p = parseInt(fs.readFileSync(portFile, 'utf8'), 10);
      return p > 0 ? p : null;
    } catch {
      return null;
    }
  }, { timeoutMs });
  if (!port || port === 'dead') {
    const why = exited || `did not write its port file in ${timeoutMs / 1000} s`;
    return { proc, error: `touchpoint ${why} (see ${logPath})` };
  }
  return { proc, base: `http://127.0.0.1:${port}` };
}

// SIGTERM, then SIGKILL after 5 s; resolves once it has exited.
// Waits until the server has loaded its stored events (/healthz says "ok", not "loading"):
// pages opened before would show the progress bar, and Chromium logs each 503 as a console error.
export async function waitLoaded(base, timeoutMs = 60000) {
  return waitFor(async () => {
    try {
      return (await (await fetch(`${base}/healthz`)).json()).status === 'ok';
    } catch {
      return false;
    }
  }, { timeoutMs });
}

export async function stopTouchpoint(proc) {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const gone = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
  await gone;
  clearTimeout(t);
}

// What a browser test needs before it starts: the touchpoint binary named on the command line,
// playwright-core from web/node_modules and Debian's chromium (CHROMIUM overrides its path).
// Ends the run with a clear message when one is missing.
export function preconditions(root, usage) {
  const binary = process.argv.slice(2).find((a) => !a.startsWith('--'));
  const bin = binary && path.resolve(binary);
  const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
  const chromium = requireBrowserTest({ root, binary: bin, usage: `usage: ${usage}`, chromiumPath: executablePath });
  return { bin, chromium, executablePath };
}
