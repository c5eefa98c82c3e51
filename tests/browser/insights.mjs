// Browser test of conversion events and insights in the dashboard, on a simulated world with a
// planted problem ad: tests/browser/problem-ad-world.json, the demo scenario (scenarios/demo.json:
// three campaigns, the second collecting sign-ups, SubmitForm, its catalog optimization_event)
// with two of its effects — ad-01-1-3 with twice its peers' CTR and a broken landing page (money
// lost), and short videos watched through more often than long ones (expected; no money) — at
// 20,000 people, where the problem ad's evidence passes the 5% false discovery rate over 28 days.
// (The `make run` demo world has 10,000 people: over its 28 days the problem ad's adjusted
// p-value is about 0.08, not a finding; the Performance table's CVR flag still marks it.)
//
//   node tests/browser/insights.mjs PATH/TO/touchpoint          (make browser-test)
//
// As a new user (no token saved): enter the admin token, see the Overview's insights panel, open
// Insights and find the problem ad among the top three findings, above the completion finding,
// with its size, interval, sample and advice; follow its link to Performance and find its row
// flagged "CVR below campaign"; find the sign-up campaign judged on sign-ups (its conversions
// are the report's for its own event, far above its purchases) and switch the conversion-event
// picker to purchases; show events side by side; and an empty range says how many comparisons
// were made.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { check, finish, preconditions, startTouchpoint, stopTouchpoint, waitLoaded } from './harness.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'insights');
const ADMIN = 'insights-test-admin-' + crypto.randomBytes(8).toString('hex');
const PROBLEM_AD = 'ad-01-1-3';
const SIGNUP = 'cmp-02';

const { bin: BIN, chromium, executablePath: CHROMIUM } = preconditions(ROOT, 'node tests/browser/insights.mjs PATH/TO/touchpoint');
fs.mkdirSync(ARTIFACTS, { recursive: true });

async function ready(pg, name, after = 0) {
  await pg.waitForFunction(([n, a]) => {
    const el = document.getElementById('page');
    return el && el.dataset.page === n && (el.dataset.state === 'ready' || el.dataset.state === 'error') &&
      Number(el.dataset.render || 0) > a;
  }, [name, after], { timeout: 60000 });
  return pg.evaluate(() => ({ state: document.getElementById('page').dataset.state,
    render: Number(document.getElementById('page').dataset.render),
    error: document.querySelector('#page .error-box')?.textContent || '' }));
}

let server = null;
let tmp = null;
async function main() {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-insights-'));
  const sim = spawnSync(BIN, ['simulate', '--scenario', path.join(ROOT, 'tests', 'browser', 'problem-ad-world.json'),
    '--to-data', path.join(tmp, 'data'), '--end', 'today', '--quiet'],
    { encoding: 'utf8', timeout: 300000 });
  if (!check('the problem-ad world is simulated', sim.status === 0, (sim.stderr || sim.error?.message || '').slice(0, 300))) return;
  const started = await startTouchpoint({ binary: BIN, dir: tmp, admin: ADMIN, logPath: path.join(ARTIFACTS, 'server.log'), timeoutMs: 60000 });
  server = started.proc;
  if (!check('touchpoint serve starts on it', !started.error, started.error)) return;
  const base = started.base;
  if (!check('it loads its stored events', await waitLoaded(base), 'still loading after 60 s')) return;
  const api = async (p) => {
    const res = await fetch(base + p, { headers: { Authorization: `Bearer ${ADMIN}` } });
    return res.json();
  };

  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'UTC', locale: 'en-US' });
    const pg = await context.newPage();
    const problems = [];
    pg.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
    pg.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));

    // A new user: no token saved yet.
    await pg.goto(`${base}/`);
    await pg.waitForSelector('#token-input', { timeout: 20000 });
    await pg.fill('#token-input', ADMIN);
    await pg.click('#token-save');
    let s = await ready(pg, 'overview');
    check('overview loads once the admin token is entered', s.state === 'ready', s.error);
    await pg.waitForSelector('#overview-insights', { timeout: 20000 });
    const overviewAds = await pg.$$eval('#overview-findings li.finding', (li) => li.map((x) => x.dataset.ad));
    check('overview: the insights panel lists the top findings, the problem ad among them', overviewAds.includes(PROBLEM_AD), JSON.stringify(overviewAds));
    await pg.screenshot({ path: path.join(ARTIFACTS, 'overview.png'), fullPage: true });

    // Insights, from the navigation.
    await pg.click('a[data-nav="insights"]');
    s = await ready(pg, 'insights', s.render);
    check('insights page renders', s.state === 'ready', s.error);
    const findings = await pg.$$eval('#findings li.finding', (li) => li.map((x) => ({
      rank: Number(x.dataset.rank), kind: x.dataset.kind, ad: x.dataset.ad, money: Number(x.dataset.money), text: x.textContent })));
    await pg.screenshot({ path: path.join(ARTIFACTS, 'insights.png'), fullPage: true });
    const top3 = findings.slice(0, 3);
    const problem = findings.find((f) => f.ad === PROBLEM_AD && f.kind === 'clicks_without_conversions');
    check('insights: the problem ad is among the top three findings', top3.some((f) => f === problem),
      findings.map((f) => `${f.rank}. ${f.kind} ${f.ad} ${f.money}`).join('; '));
    check('insights: findings are ranked by money at stake', findings.every((f, i) => i === 0 || findings[i - 1].money >= f.money));
    const completion = findings.find((f) => /watched to the end/.test(f.text));
    check('insights: the money-losing ad ranks above "short videos are watched to the end"',
      !completion || (problem && problem.rank < completion.rank), completion ? `${completion.rank} vs ${problem?.rank}` : '');
    check('insights: the finding shows its size, interval, sample and what to do',
      problem && /Size:/.test(problem.text) && /Interval:\s*95%/.test(problem.text) && /Sample:.*clicks/.test(problem.text) &&
      /What to do:.*landing page/.test(problem.text), problem?.text.slice(0, 400));
    // Without a chosen range, insights cover the last 28 days (tables: 14).
    const range = await pg.$eval('#insights-summary', (el) => ({ from: el.dataset.from, to: el.dataset.to }));
    const days = (Date.parse(range.to) - Date.parse(range.from)) / 86400000 + 1;
    check('insights: a new user sees the last 28 days', days === 28, JSON.stringify(range));
    const fromApi = await api(`/api/v1/insights?${await pg.evaluate((r) => window.touchpoint.reportQuery(r), range)}`);
    check('insights: the page shows the API\'s findings in its order',
      fromApi.findings.map((f) => `${f.kind}/${f.entity.ad || ''}`).join() === findings.map((f) => `${f.kind}/${f.ad}`).join());

    // Its link: Performance, the ad's ad group, the ad's row highlighted and flagged.
    await pg.click(`#findings li.finding[data-ad="${PROBLEM_AD}"][data-kind="clicks_without_conversions"] a.finding-link`);
    s = await ready(pg, 'performance', s.render);
    const row = await pg.$eval(`#perf-table tbody tr[data-id="${PROBLEM_AD}"]`, (tr) => ({
      cls: tr.className, flag: !!tr.querySelector('[data-flag="cvr-low"]'), text: tr.textContent })).catch(() => null);
    check('insights -> performance: the problem ad\'s row is shown and highlighted', row && /highlight/.test(row.cls), JSON.stringify(row));
    check('performance: the problem ad is flagged "CVR below campaign"', row && row.flag && /flagged/.test(row.cls), JSON.stringify(row));
    const flaggedOthers = await pg.$$eval('#perf-table tbody tr.flagged', (t) => t.map((x) => x.dataset.id));
    check('performance: in its ad group only the problem ad is flagged', flaggedOthers.join() === PROBLEM_AD, flaggedOthers.join());
    await pg.screenshot({ path: path.join(ARTIFACTS, 'performance-flagged.png'), fullPage: true });

    // The sign-up campaign, judged on sign-ups by default.
    await pg.goto(`${base}/#/performance`);
    s = await ready(pg, 'performance', s.render);
    const q = await pg.evaluate(() => window.touchpoint.reportQuery({ dimensions: 'campaign', metrics: 'conversions' }));
    const own = (await api(`/api/v1/report?${q}`)).rows.find((r) => r.dimensions.campaign === SIGNUP)?.metrics.conversions;
    const signups = (await api(`/api/v1/report?${q}&event=SubmitForm`)).rows.find((r) => r.dimensions.campaign === SIGNUP)?.metrics.conversions;
    const purchases = (await api(`/api/v1/report?${q}&event=CompletePayment`)).rows.find((r) => r.dimensions.campaign === SIGNUP)?.metrics.conversions ?? 0;
    const shown = async () => Number(await pg.$eval(`#perf-table tbody tr[data-id="${SIGNUP}"] td[data-metric="conversions"]`, (td) => td.dataset.value));
    const signupShown = await shown();
    check('performance: the sign-up campaign is judged on sign-ups (its conversions are its own event\'s, far above its purchases)',
      signupShown === own && own >= signups && signups > 0 && own > 3 * purchases, `shown ${signupShown}, own ${own}, sign-ups ${signups}, purchases ${purchases}`);
    await pg.selectOption('#event', 'CompletePayment');
    s = await ready(pg, 'performance', s.render);
    const asPurchases = await shown();
    check('performance: the picker judges every campaign on purchases instead', asPurchases === purchases && asPurchases < signupShown,
      `${asPurchases} vs ${purchases}`);
    // Events side by side.
    await pg.goto(`${base}/#/performance?cols=CompletePayment,SubmitForm`);
    s = await ready(pg, 'performance', s.render);
    const sideBySide = await pg.$eval(`#perf-table tbody tr[data-id="${SIGNUP}"]`, (tr) => ({
      cp: Number(tr.querySelector('td[data-metric="conversions:CompletePayment"]')?.dataset.value),
      sf: Number(tr.querySelector('td[data-metric="conversions:SubmitForm"]')?.dataset.value) }));
    check('performance: purchases and sign-ups side by side as columns', sideBySide.cp === purchases && sideBySide.sf === signups,
      `${JSON.stringify(sideBySide)} vs ${purchases}, ${signups}`);
    await pg.screenshot({ path: path.join(ARTIFACTS, 'performance-side-by-side.png'), fullPage: true });

    // Funnels take the picker too.
    await pg.goto(`${base}/#/funnel?by=campaign`);
    s = await ready(pg, 'funnel', s.render);
    check('funnel: renders with the conversion step and the picker', s.state === 'ready' && (await pg.$('#event')) !== null &&
      /Conversion/.test(await pg.textContent('#funnel-chart')), s.error);

    // No findings: how many comparisons.
    await pg.goto(`${base}/#/insights?from=2020-01-01&to=2020-01-07`);
    s = await ready(pg, 'insights', s.render);
    const none = await pg.textContent('#no-findings').catch(() => '');
    check('insights: "No findings" says how many comparisons were made', /No findings/.test(none) && /\d+ comparisons were made/.test(none), none);
    check('no console errors or page errors', problems.length === 0, JSON.stringify(problems));
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
  await stopTouchpoint(server);
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
}
finish();
