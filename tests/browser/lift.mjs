// Browser test of the Lift page (docs/dashboard.md#lift): a study whose test cell converts three
// times as often as its control cell is called caused, with its interval drawn right of "no
// effect"; the cells table shows the counts sent; the planner sizes the next study.
//
//   node tests/browser/lift.mjs PATH/TO/touchpoint        (make browser-test)
//
// The world, sent through the API: 200 test people (shown a1) of whom 60 buy, 200 control people
// (ghost impressions) of whom 20 buy, every one with an email on the ad event and the purchase.
// Rates 30 % and 10 %: lift +200 %, far beyond chance (z = 5, p < 1e-6).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { check, finish, requireBrowserTest, startTouchpoint, stopTouchpoint, waitLoaded } from './harness.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'lift');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ADMIN = 'lift-test-admin-' + crypto.randomBytes(8).toString('hex');

const binary = process.argv[2] && path.resolve(process.argv[2]);
const chromium = requireBrowserTest({ root: ROOT, binary, chromiumPath: CHROMIUM,
  usage: 'usage: node tests/browser/lift.mjs PATH/TO/touchpoint' });
fs.mkdirSync(ARTIFACTS, { recursive: true });

const api = (base) => async (method, p, body, headers = {}) => {
  const res = await fetch(base + p, { method, headers: { Authorization: `Bearer ${ADMIN}`, ...headers },
    body: body == null ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json, text };
};

let proc = null;
let tmp = null;
async function main() {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-lift-'));
  const started = await startTouchpoint({ binary, dir: path.join(tmp, 'server'), admin: ADMIN,
    logPath: path.join(ARTIFACTS, 'server.log') });
  if (!check('server starts', !started.error, started.error)) return;
  proc = started.proc;
  const base = started.base;
  const call = api(base);
  await waitLoaded(base);
  const pixel = await call('POST', '/api/v1/pixels', { name: 'shop' });
  if (!check('pixel created', pixel.status === 201 || pixel.status === 200, pixel.text)) return;

  const t0 = Math.floor(Date.now() / 1000) - 2 * 86400;
  const ads = [];
  for (let i = 0; i < 200; i++) {
    ads.push({ type: 'impression', ad_id: 'a1', event_time: t0 + i, user_key: `t${i}`, email: `t${i}@x.example`, study_id: 'spring', cell: 'test' });
    ads.push({ type: 'impression', ad_id: 'a1', event_time: t0 + i, user_key: `c${i}`, email: `c${i}@x.example`, study_id: 'spring', cell: 'control', ghost: true });
  }
  const sent = await call('POST', '/api/v1/ad-events', ads);
  if (!check('study ad events accepted', sent.json?.accepted === 400, sent.text)) return;
  const buys = [];
  for (let i = 0; i < 60; i++) buys.push({ event: 'CompletePayment', event_id: `bt${i}`, event_time: t0 + 3600 + i, user: { email: `t${i}@x.example` }, properties: { value: 50, currency: 'USD' } });
  for (let i = 0; i < 20; i++) buys.push({ event: 'CompletePayment', event_id: `bc${i}`, event_time: t0 + 3600 + i, user: { email: `c${i}@x.example` }, properties: { value: 50, currency: 'USD' } });
  const track = await call('POST', '/open_api/v1.3/event/track/',
    { event_source: 'web', event_source_id: pixel.json.pixel_id, data: buys }, { 'Access-Token': pixel.json.access_token });
  if (!check('purchases accepted', track.json?.code === 0, track.text)) return;

  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'UTC', locale: 'en-US' });
    await context.addInitScript((t) => localStorage.setItem('touchpoint.adminToken', t), ADMIN);
    const pg = await context.newPage();
    const problems = [];
    pg.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    await pg.goto(`${base}/#/lift`);
    const seen = await pg.waitForFunction(() => {
      const el = document.getElementById('page');
      if (!el || el.dataset.state !== 'ready') return null;
      const cells = {};
      for (const tr of document.querySelectorAll('#lift-cells tbody tr'))
        cells[tr.dataset.cell] = [...tr.querySelectorAll('td')].map((td) => td.textContent);
      const ci = document.querySelector('#lift-chart .lift-ci');
      const zero = document.querySelector('#lift-chart .lift-zero');
      return { verdict: document.getElementById('lift-verdict')?.textContent || '', cells,
        ciClass: ci?.className || '', ciLeft: ci ? ci.getBoundingClientRect().left : null,
        zeroLeft: zero ? zero.getBoundingClientRect().left : null,
        navActive: document.querySelector('[data-nav="lift"]')?.getAttribute('aria-current') };
    }, null, { timeout: 20000 }).then((h) => h.jsonValue()).catch((e) => ({ failed: e.message }));
    check('the verdict says the ads caused conversions, +200%',
      !seen.failed && seen.verdict.startsWith('The ads caused conversions') && seen.verdict.includes('+200.0%'), JSON.stringify(seen));
    check('cells table: test 200 people, 60 converters, 30.0%; control 200, 20, 10.0%',
      seen.cells?.test?.slice(1, 4).join('|') === '200|60|30.0%' && seen.cells?.control?.slice(1, 4).join('|') === '200|20|10.0%',
      JSON.stringify(seen.cells));
    check('the interval is drawn right of "no effect", marked positive',
      seen.ciClass?.includes('positive') && seen.ciLeft > seen.zeroLeft, JSON.stringify(seen));
    await pg.screenshot({ path: path.join(ARTIFACTS, 'lift.png'), fullPage: true });

    await pg.fill('#plan-baseline', '0.02');
    await pg.fill('#plan-lift', '0.1');
    await pg.fill('#plan-per-day', '10000');
    await pg.click('#lift-plan button[type="submit"]');
    const planned = await pg.waitForFunction(() => document.getElementById('plan-result')?.textContent || null,
      null, { timeout: 10000 }).then((h) => h.jsonValue()).catch((e) => `failed: ${e.message}`);
    // 80,682 per cell for 2 % -> 2.2 % (worked in tests/unit/lift_test.cc); 161,364 / 10,000 a day.
    check('the planner sizes the study: 80,682 per cell, about 17 days',
      planned.startsWith('80,682 people in the test cell and 80,682 in the control cell: about 17 days'), planned);
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
