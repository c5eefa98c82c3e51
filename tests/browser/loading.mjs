// Browser test of the dashboard while `touchpoint serve` is still loading its stored events
// (docs/dashboard.md#while-the-server-loads): a progress bar with the percentage instead of an
// error, then the page itself once loaded, with the events sent meanwhile counted.
//
//   node tests/browser/loading.mjs PATH/TO/touchpoint        (make browser-test)
//
// A first run stores 30 impressions; the second starts on the same data directory with the
// hidden --testing-hold-load-until FILE, which holds the load halfway until FILE exists (the
// test creates it): no timing decides what the test sees.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { check, finish, requireBrowserTest, startTouchpoint, stopTouchpoint, waitFor } from './harness.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'loading');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ADMIN = 'loading-test-admin-' + crypto.randomBytes(8).toString('hex');
const STORED = 30;

const binary = process.argv[2] && path.resolve(process.argv[2]);
const chromium = requireBrowserTest({ root: ROOT, binary, chromiumPath: CHROMIUM,
  usage: 'usage: node tests/browser/loading.mjs PATH/TO/touchpoint' });
fs.mkdirSync(ARTIFACTS, { recursive: true });

const api = (base) => async (method, p, body) => {
  const res = await fetch(base + p, { method, headers: { Authorization: `Bearer ${ADMIN}` },
    body: body == null ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json, text, headers: res.headers };
};

// Impressions of ad a1 yesterday noon (UTC), one per user: inside the overview's default range.
const yesterdayNoon = Math.floor(Date.now() / 1000 / 86400) * 86400 - 12 * 3600;
const impressions = (prefix, n) => Array.from({ length: n }, (_, i) =>
  ({ type: 'impression', ad_id: 'a1', event_time: yesterdayNoon + i, user_key: `${prefix}${i}` }));

let proc = null;
let tmp = null;
async function main() {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-loading-'));
  const dir = path.join(tmp, 'server');
  const release = path.join(tmp, 'release-load');
  let started = await startTouchpoint({ binary, dir, admin: ADMIN, logPath: path.join(ARTIFACTS, 'first-run.log') });
  if (!check('first run starts', !started.error, started.error)) return;
  proc = started.proc;
  const first = await api(started.base)('POST', '/api/v1/ad-events', impressions('stored', STORED));
  if (!check(`first run stores ${STORED} impressions`, first.status === 200 && first.json?.accepted === STORED, first.text)) return;
  await stopTouchpoint(proc);

  started = await startTouchpoint({ binary, dir, admin: ADMIN, logPath: path.join(ARTIFACTS, 'held-run.log'),
    args: ['--testing-hold-load-until', release] });
  if (!check('second run starts with its load held', !started.error, started.error)) return;
  proc = started.proc;
  const base = started.base;
  const call = api(base);
  // The load is held halfway (16 of 30 events read, in chunks of 4) until `release` exists.
  const held = await waitFor(async () => {
    const hz = (await call('GET', '/healthz')).json;
    return hz?.status === 'loading' && hz.loading.events_loaded > 0 ? hz : null;
  });
  if (!check('/healthz says loading, with a percentage', held && held.loading.percent > 0 && held.loading.percent < 100,
    JSON.stringify(held))) return;
  const late = await call('POST', '/api/v1/ad-events', impressions('late', 2));
  check('ingest is accepted while loading', late.status === 200 && late.json?.accepted === 2, late.text);

  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'UTC', locale: 'en-US' });
    await context.addInitScript((t) => localStorage.setItem('touchpoint.adminToken', t), ADMIN);
    const pg = await context.newPage();
    const problems = [];
    pg.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    for (const page of ['performance', 'overview']) {  // the overview last: it stays open
      await pg.goto(`${base}/#/${page}`);
      const shown = await pg.waitForFunction(() => {
        const el = document.getElementById('page');
        const bar = document.getElementById('load-progress');
        return el && el.dataset.state === 'server-loading' && bar
          ? { value: bar.getAttribute('aria-valuenow'), text: document.getElementById('loading-box').textContent,
            errors: document.querySelectorAll('.error-box').length } : null;
      }, null, { timeout: 15000 }).then((h) => h.jsonValue()).catch((e) => ({ failed: e.message }));
      check(`${page}: a progress bar with the load's percentage instead of an error`,
        !shown.failed && Number(shown.value) === held.loading.percent && shown.text.includes(`${held.loading.percent.toFixed(1)}%`) &&
        shown.errors === 0, JSON.stringify(shown));
    }
    await pg.screenshot({ path: path.join(ARTIFACTS, 'loading.png') });

    // Released: the overview, still open, polls /healthz and shows itself once the load is done,
    // counting the events sent meanwhile.
    fs.writeFileSync(release, '');
    const after = await pg.waitForFunction(() => {
      const el = document.getElementById('page');
      const kpi = document.querySelector('#kpis .kpi[data-metric="impressions"]');
      return el && el.dataset.state === 'ready' && kpi ? kpi.dataset.value : null;
    }, null, { timeout: 30000 }).then((h) => h.jsonValue()).catch((e) => `failed: ${e.message}`);
    check('once loaded, the open page shows itself: impressions = stored + sent during the load',
      after === String(STORED + 2), after);
    check('no page errors', problems.length === 0, problems.join('; '));
    await context.close();
  } finally {
    await browser.close().catch(() => {});
  }
}

try {
  await main();
} catch (e) {
  check('test ran to the end', false, e.stack || String(e));
} finally {
  await stopTouchpoint(proc);
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
}
finish();
