// Shared by the browser tests: pass/fail bookkeeping, the closing "N passed, M failed" line, and
// polling with a deadline (no fixed sleeps to wait for things).

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
