// Browser end-to-end test of the tp.js pixel against a real `touchpoint serve`, in Debian's
// headless Chromium driven by playwright-core (installed in web/node_modules).
//
//   node tests/browser/run.mjs PATH/TO/touchpoint        (make browser-test)
//
// A shop on http://localhost:A installs the snippet pointing at Touchpoint on http://127.0.0.1:B
// (another site). The browser lands with ?ttclid=abc, follows a link to the checkout (no ttclid:
// the cookie must carry it), identifies and pays; a third page without navigator.sendBeacon
// exercises the <img> fallback. The stored events are read back through the admin export.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { check, fatal, finish, requireBrowserTest, sleep, startTouchpoint, stopTouchpoint, waitFor } from './harness.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'browser');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ADMIN = 'browser-test-admin-' + crypto.randomBytes(8).toString('hex');
const sha256 = (s) => crypto.createHash('sha256').update(s).digest('hex');

// --- Preconditions ------------------------------------------------------------------------------

const binary = process.argv[2] && path.resolve(process.argv[2]);
const chromium = requireBrowserTest({ root: ROOT, binary, chromiumPath: CHROMIUM,
  usage: 'usage: node tests/browser/run.mjs PATH/TO/touchpoint' });
fs.mkdirSync(ARTIFACTS, { recursive: true });

// --- Test pages ---------------------------------------------------------------------------------

// The install snippet from docs/pixel.md, plus the page's own calls.
function page(title, tpSrc, pixelId, body, { before = '', calls = '' } = {}) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title><link rel="icon" href="data:,">
<script>${before}</script>
<script>
  window.tp = window.tp || function () { (tp.q = tp.q || []).push(arguments); };
  (function () {
    var s = document.createElement('script'); s.async = true; s.src = ${JSON.stringify(tpSrc)};
    document.head.appendChild(s);
  })();
  tp('init', ${JSON.stringify(pixelId)});
  tp('page');
  ${calls}
</script>
</head><body style="font:16px sans-serif;margin:2em">${body}</body></html>`;
}

function shopPages(tpSrc, pixelId) {
  return {
    '/blank': '<!doctype html><html><head><link rel="icon" href="data:,"></head><body></body></html>',
    '/landing': page('Shop — landing', tpSrc, pixelId,
      '<h1>Red sneakers</h1><p>$42</p><a id="checkout" href="/checkout">Go to checkout</a>',
      { calls: "tp('identify', { email: 'Jane@Example.com' });" }),
    // No ttclid in this URL: the click id can only come from the _tp_clid cookie. The click
    // identifies and tracks in the same tick, so the track must wait for the hashing.
    '/checkout': page('Shop — checkout', tpSrc, pixelId,
      `<h1>Checkout</h1><button id="pay">Pay $42</button><p id="done" hidden>Thank you!</p>
<script>
  document.getElementById('pay').addEventListener('click', function () {
    tp('identify', { email: ' Jane@Example.com ', phone_number: '0044 (20) 7946-0958',
                     external_id: ' cust-7 ' });
    tp('track', 'CompletePayment',
       { value: 42, currency: 'USD', contents: [{ content_id: 'sku1' }], order_id: 'o-1' },
       { event_id: 'order-1' });
    document.getElementById('done').hidden = false;
  });
</script>`),
    // sendBeacon is gone before tp.js loads: the pixel must fall back to an <img> GET. And
    // document.currentScript reads null, so tp.js must find its endpoint from its <script> tag.
    '/nobeacon': page('Shop — no sendBeacon', tpSrc, pixelId, '<h1>Old browser</h1>', {
      before: 'delete Navigator.prototype.sendBeacon;\n' +
        "Object.defineProperty(Document.prototype, 'currentScript', { get: function () { return null; } });",
      calls: "tp('identify', { email: 'Jane@Example.com' });\n  " +
        "tp('track', 'ViewContent', { value: 5, currency: 'EUR', contents: [{ content_id: 'sku2' }] }," +
        " { event_id: 'img-1' });",
    }),
  };
}

// TikTok's pixel base code as TikTok documents it, with only the script's host changed (its URL
// is https://analytics.tiktok.com/i18n/pixel/events.js), then the page's own ttq calls.
function tiktokPage(title, eventsJs, pixelIds, body, calls = '') {
  const loads = pixelIds.map((id) => `ttq.load(${JSON.stringify(id)});`).join('\n  ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title><link rel="icon" href="data:,">
<script>
!function (w, d, t) {
  w.TiktokAnalyticsObject=t;var ttq=w[t]=w[t]||[];ttq.methods=["page","track","identify","instances","debug","on","off","once","ready","alias","group","enableCookie","disableCookie","holdConsent","revokeConsent","grantConsent"],ttq.setAndDefer=function(t,e){t[e]=function(){t.push([e].concat(Array.prototype.slice.call(arguments,0)))}};for(var i=0;i<ttq.methods.length;i++)ttq.setAndDefer(ttq,ttq.methods[i]);ttq.instance=function(t){for(var e=ttq._i[t]||[],n=0;n<ttq.methods.length;n++)ttq.setAndDefer(e,ttq.methods[n]);return e},ttq.load=function(e,n){var r=${JSON.stringify(eventsJs)},o=n&&n.partner;ttq._i=ttq._i||{},ttq._i[e]=[],ttq._i[e]._u=r,ttq._t=ttq._t||{},ttq._t[e]=+new Date,ttq._o=ttq._o||{},ttq._o[e]=n||{};n=document.createElement("script");n.type="text/javascript",n.async=!0,n.src=r+"?sdkid="+e+"&lib="+t;e=document.getElementsByTagName("script")[0];e.parentNode.insertBefore(n,e)};
  ${loads}
  ttq.page();
  ${calls}
}(window, document, 'ttq');
</script>
</head><body style="font:16px sans-serif;margin:2em">${body}</body></html>`;
}

function tiktokPages(eventsJs, [p1, p2]) {
  return {
    // Queued before the script loads: identify for every pixel, an AddToCart for the second
    // pixel only (ttq.instance), a ViewContent for every pixel.
    '/tt-landing': tiktokPage('TikTok shop — landing', eventsJs, [p1, p2], '<a id="tt-checkout" href="/tt-checkout">Checkout</a>',
      `ttq.identify({ email: 'Jane@Example.com' });
  ttq.instance(${JSON.stringify(p2)}).track('AddToCart', { value: 10, currency: 'USD', contents: [{ content_id: 'sku9' }] }, { event_id: 'tt-atc-1' });
  ttq.track('ViewContent', { content_id: 'sku9' }, { event_id: 'tt-view-1' });`),
    // After the script loaded: ttq is live; the purchase goes to the first pixel only.
    '/tt-checkout': tiktokPage('TikTok shop — checkout', eventsJs, [p1, p2],
      `<button id="tt-pay">Pay</button><p id="tt-done" hidden>Thanks</p>
<script>
  document.getElementById('tt-pay').addEventListener('click', function () {
    ttq.identify({ phone_number: '+44 20 7946 0958' });
    ttq.track('CompletePayment', { value: 99, currency: 'USD', contents: [{ content_id: 'sku9', quantity: 1 }] },
              { event_id: 'tt-order-1', pixel_code: ${JSON.stringify(p1)} });
    document.getElementById('tt-done').hidden = false;
  });
</script>`),
  };
}

function startShop(pages) {
  const server = http.createServer((req, res) => {
    const html = pages[new URL(req.url, 'http://x').pathname];
    res.writeHead(html ? 200 : 404, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(html || 'not found');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, 'localhost', () => resolve(server));
  });
}

// --- Touchpoint ---------------------------------------------------------------------------------



async function api(base, method, p, body) {
  const res = await fetch(base + p, {
    method,
    headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
    body: body && JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${p}: HTTP ${res.status}: ${text}`);
  return text;
}

async function exportEvents(base, pixelId) {
  const text = await api(base, 'GET', `/api/v1/export?pixel_id=${encodeURIComponent(pixelId)}`);
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

// --- The test -----------------------------------------------------------------------------------

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-browser-'));
  cleanupTmp = tmp;
  let shop;
  let context;
  try {
    const started = await startTouchpoint({
      binary, dir: tmp, admin: ADMIN, logPath: path.join(ARTIFACTS, 'server.log'),
    });
    tpServer = started.proc;  // module-level: the signal handler kills it too
    if (!check('touchpoint serve starts and writes its port file', !started.error, started.error)) return;
    const base = started.base;
    const { pixel_id: pixelId } = JSON.parse(await api(base, 'POST', '/api/v1/pixels', { name: 'shop' }));
    check('pixel created', /\S/.test(pixelId || ''), `pixel_id ${pixelId}`);

    const tpRes = await fetch(`${base}/tp.js`);
    const tpBody = await tpRes.text();
    check('GET /tp.js serves the pixel', tpRes.ok && /javascript/.test(tpRes.headers.get('content-type') || '') &&
      tpBody.includes("'init'"), `HTTP ${tpRes.status} ${tpRes.headers.get('content-type')}`);

    shop = await startShop(shopPages(`${base}/tp.js`, pixelId));
    const shopBase = `http://localhost:${shop.address().port}`;

    context = await chromium.launchPersistentContext(path.join(tmp, 'chromium-profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 900, height: 600 },
    });
    const problems = [];  // console errors and page errors on the shop pages
    const beacons = [];   // requests to Touchpoint's collection endpoints
    context.on('request', (r) => {
      if (r.url().startsWith(base + '/api/v1/pixel')) beacons.push(r);
    });
    const pg = context.pages()[0] || await context.newPage();
    pg.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
    pg.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));

    // Globals on a page without the pixel, to compare against.
    await pg.goto(`${shopBase}/blank`);
    const baseline = new Set(await pg.evaluate(() => Object.getOwnPropertyNames(window)));

    // 1. Landing from an ad click.
    await pg.goto(`${shopBase}/landing?ttclid=abc`);
    await pg.waitForFunction(() => window.tp && window.tp.loaded, null, { timeout: 10000 });
    const added = (await pg.evaluate(() => Object.getOwnPropertyNames(window))).filter((k) => !baseline.has(k));
    check('tp.js adds no global but `tp`', added.length === 1 && added[0] === 'tp', `added: ${added.join(', ')}`);
    await pg.screenshot({ path: path.join(ARTIFACTS, '1-landing.png') });

    // 2. Checkout on a second page load (no ttclid in the URL), then pay.
    await Promise.all([pg.waitForURL(`${shopBase}/checkout`), pg.click('#checkout')]);
    await pg.waitForFunction(() => window.tp && window.tp.loaded, null, { timeout: 10000 });
    await pg.click('#pay');
    await pg.waitForSelector('#done', { state: 'visible' });
    await pg.screenshot({ path: path.join(ARTIFACTS, '2-checkout-paid.png') });

    const cookies = await context.cookies(shopBase);
    const tpCookie = cookies.find((c) => c.name === '_tp');
    const clidCookie = cookies.find((c) => c.name === '_tp_clid');
    const days = (c) => (c.expires - Date.now() / 1000) / 86400;
    check('_tp cookie: 27 [A-Za-z0-9], ~13 months, SameSite=Lax, path=/',
      tpCookie && /^[A-Za-z0-9]{27}$/.test(tpCookie.value) && days(tpCookie) > 390 && days(tpCookie) < 400 &&
      tpCookie.sameSite === 'Lax' && tpCookie.path === '/', JSON.stringify(tpCookie));
    check('_tp_clid cookie holds the ttclid for 7 days, SameSite=Lax',
      clidCookie && clidCookie.value === 'abc' && days(clidCookie) > 6.9 && days(clidCookie) <= 7 &&
      clidCookie.sameSite === 'Lax', JSON.stringify(clidCookie));

    const events = await waitFor(async () => {
      const evs = await exportEvents(base, pixelId);
      const ok = evs.filter((e) => e.event === 'PageView').length >= 2 &&
        evs.some((e) => e.event === 'CompletePayment');
      return ok ? evs : null;
    }) || await exportEvents(base, pixelId);
    const views = events.filter((e) => e.event === 'PageView');
    const landingView = views.find((e) => /[?&]ttclid=abc/.test(e.page?.url || ''));
    const checkoutView = views.find((e) => (e.page?.url || '') === `${shopBase}/checkout`);
    const pay = events.find((e) => e.event === 'CompletePayment');
    check('PageView stored for the landing page', landingView, `events: ${JSON.stringify(events)}`);
    check('PageView stored for the checkout page', checkoutView, `PageViews: ${JSON.stringify(views)}`);
    check('CompletePayment stored', pay, `events: ${events.map((e) => e.event).join(', ')}`);
    if (landingView && checkoutView && pay) {
      const ttp = landingView.user?.ttp;
      check('user.ttp is 27 chars and equals the _tp cookie', /^[A-Za-z0-9]{27}$/.test(ttp || '') &&
        ttp === tpCookie?.value, `ttp ${ttp}, cookie ${tpCookie?.value}`);
      check('same user.ttp on all events', checkoutView.user?.ttp === ttp && pay.user?.ttp === ttp,
        [landingView, checkoutView, pay].map((e) => e.user?.ttp).join(' / '));
      check('user.ttclid == "abc" on every event (checkout ones from the cookie)',
        [landingView, checkoutView, pay].every((e) => e.user?.ttclid === 'abc'),
        [landingView, checkoutView, pay].map((e) => e.user?.ttclid).join(' / '));
      check('source is "pixel"', [landingView, checkoutView, pay].every((e) => e.source === 'pixel'));
      check('CompletePayment event_id is "order-1"', pay.event_id === 'order-1', pay.event_id);
      check('generated PageView event_ids are distinct', landingView.event_id &&
        checkoutView.event_id && landingView.event_id !== checkoutView.event_id,
        `${landingView.event_id} / ${checkoutView.event_id}`);
      const pr = pay.properties || {};
      check('CompletePayment value 42 USD, contents sku1, order_id o-1', pr.value === 42 &&
        pr.currency === 'USD' && pr.contents?.[0]?.content_id === 'sku1' && pr.order_id === 'o-1',
        JSON.stringify(pr));
      check('CompletePayment user.email == sha256("jane@example.com")',
        JSON.stringify(pay.user?.email) === JSON.stringify([sha256('jane@example.com')]),
        JSON.stringify(pay.user?.email));
      check('phone normalised to E.164 ("+442079460958") and hashed',
        JSON.stringify(pay.user?.phone) === JSON.stringify([sha256('+442079460958')]),
        JSON.stringify(pay.user?.phone));
      check('external_id trimmed and hashed', JSON.stringify(pay.user?.external_id) ===
        JSON.stringify([sha256('cust-7')]), JSON.stringify(pay.user?.external_id));
      check('page.url and page.referrer sent', pay.page?.url === `${shopBase}/checkout` &&
        checkoutView.page?.referrer === `${shopBase}/landing?ttclid=abc`, JSON.stringify(checkoutView.page));
    }
    const posts = beacons.filter((r) => r.method() === 'POST');
    const bodies = posts.map((r) => r.postData() || '').join('\n');
    check('events went by sendBeacon (POST /api/v1/pixel, text/plain), no <img> on these pages',
      posts.length >= 3 && !beacons.some((r) => r.method() === 'GET') &&
      posts.every((r) => /^text\/plain/.test(r.headers()['content-type'] || '')),
      beacons.map((r) => `${r.method()} ${r.url()} ${r.headers()['content-type']}`).join('; '));
    check('no clear email, phone or external id on the wire',
      bodies.length > 0 && !/jane|example\.com|7946|cust-7/i.test(bodies), bodies.slice(0, 500));

    // 3. A browser without navigator.sendBeacon: the <img> fallback.
    await pg.goto(`${shopBase}/nobeacon?ttclid=xyz`);
    const img = await waitFor(async () => {
      const evs = await exportEvents(base, pixelId);
      return evs.find((e) => e.event_id === 'img-1');
    });
    await pg.screenshot({ path: path.join(ARTIFACTS, '3-nobeacon.png') });
    const gifs = beacons.filter((r) => r.method() === 'GET' && r.url().includes('/api/v1/pixel.gif?'));
    check('<img> fallback: GET /api/v1/pixel.gif sent', gifs.length === 2,
      `${gifs.length} GIF requests`);
    check('<img> fallback: ViewContent stored (endpoint found from the <script> tag)', img,
      'event_id img-1 not in the export');
    if (img) {
      check('<img> fallback: ttp, ttclid, email hash, value, currency, content_id carried',
        img.user?.ttp === tpCookie?.value && img.user?.ttclid === 'xyz' &&
        JSON.stringify(img.user?.email) === JSON.stringify([sha256('jane@example.com')]) &&
        img.properties?.value === 5 && img.properties?.currency === 'EUR' &&
        img.properties?.contents?.[0]?.content_id === 'sku2' &&
        img.page?.url === `${shopBase}/nobeacon?ttclid=xyz`, JSON.stringify(img));
    }
    check('<img> fallback: no clear email in the URL', gifs.length > 0 &&
      !gifs.some((r) => /jane|example\.com/i.test(decodeURIComponent(r.url()))));

    // 4. A site running TikTok's pixel base code switches by changing the script's host. Its
    //    pixels keep TikTok's pixel codes and its server keeps its Events API token.
    const P1 = 'CTIKTOKPIXELCODE0001', P2 = 'CTIKTOKPIXELCODE0002';
    const TT_TOKEN = crypto.randomBytes(20).toString('hex');
    await api(base, 'POST', '/api/v1/pixels', { name: 'tiktok shop', pixel_id: P1, access_token: TT_TOKEN });
    await api(base, 'POST', '/api/v1/pixels', { name: 'tiktok shop 2', pixel_id: P2 });
    const ttShop = await startShop(tiktokPages(`${base}/i18n/pixel/events.js`, [P1, P2]));
    try {
      const ttBase = `http://localhost:${ttShop.address().port}`;
      // The browser ran TikTok's own pixel on this site before: its _ttp cookie is kept.
      const priorTtp = '2F7h37YkS1j57AYSKTI7IHhJPYH';
      await context.addCookies([{ name: '_ttp', value: priorTtp, url: ttBase }]);
      const eventsJs = await fetch(`${base}/i18n/pixel/events.js?sdkid=${P1}&lib=ttq`);
      check('GET /i18n/pixel/events.js (TikTok\'s script path) serves the pixel', eventsJs.ok &&
        /javascript/.test(eventsJs.headers.get('content-type') || '') && (await eventsJs.text()) === tpBody);
      await pg.goto(`${ttBase}/tt-landing?ttclid=tt1`);
      await pg.waitForFunction(() => window.ttq && window.ttq.touchpoint, null, { timeout: 10000 });
      check('TikTok base code: no `tp` global is added', await pg.evaluate(() => typeof window.tp === 'undefined'));
      await Promise.all([pg.waitForURL(`${ttBase}/tt-checkout`), pg.click('#tt-checkout')]);
      await pg.waitForFunction(() => window.ttq && window.ttq.touchpoint, null, { timeout: 10000 });
      await pg.click('#tt-pay');
      await pg.waitForSelector('#tt-done', { state: 'visible' });
      const ttCookies = await context.cookies(ttBase);
      const ttp = ttCookies.find((c) => c.name === '_ttp');
      const ttclid = ttCookies.find((c) => c.name === 'ttclid');
      check('TikTok cookies: _ttp kept as TikTok\'s pixel wrote it (~13 months), ttclid cookie for 30 days',
        ttp?.value === priorTtp && days(ttp) > 390 && ttclid?.value === 'tt1' && days(ttclid) > 29.9 && days(ttclid) <= 30,
        JSON.stringify([ttp, ttclid]));
      // The shop's server sends the same purchase, with the token and pixel code it used for TikTok.
      const serverCopy = await fetch(`${base}/open_api/v1.3/event/track/`, {
        method: 'POST', headers: { 'Access-Token': TT_TOKEN, 'Content-Type': 'application/json' },
        body: JSON.stringify({ event_source: 'web', event_source_id: P1, data: [{
          event: 'CompletePayment', event_id: 'tt-order-1', event_time: Math.floor(Date.now() / 1000),
          user: { ttp: priorTtp, ttclid: 'tt1', email: 'jane@example.com' },
          properties: { value: 99, currency: 'USD', contents: [{ content_id: 'sku9', quantity: 1 }] } }] }),
      });
      const serverAnswer = await serverCopy.json();
      check('the server\'s TikTok Events API call works unchanged (its pixel code and token)',
        serverCopy.status === 200 && serverAnswer.code === 0, JSON.stringify(serverAnswer));
      const want1 = (evs) => evs.some((e) => e.event === 'CompletePayment') && evs.filter((e) => e.event === 'PageView').length >= 2;
      const ev1 = await waitFor(async () => { const evs = await exportEvents(base, P1); return want1(evs) ? evs : null; }) || await exportEvents(base, P1);
      const ev2 = await waitFor(async () => { const evs = await exportEvents(base, P2); return evs.some((e) => e.event === 'AddToCart') ? evs : null; }) || await exportEvents(base, P2);
      const names = (evs) => evs.map((e) => e.event).sort().join(',');
      check('pixel 1 got PageView x2, ViewContent and one CompletePayment (pixel and server copies stored once); no AddToCart',
        names(ev1) === 'CompletePayment,PageView,PageView,ViewContent', names(ev1));
      check('pixel 2 (ttq.instance) got PageView x2, ViewContent and AddToCart; not the purchase sent with pixel_code',
        names(ev2) === 'AddToCart,PageView,PageView,ViewContent', names(ev2));
      const ttPay = ev1.find((e) => e.event === 'CompletePayment');
      const ttView = ev1.find((e) => e.event === 'ViewContent');
      const ttLanding = ev1.find((e) => e.event === 'PageView' && /ttclid=tt1/.test(e.page?.url || ''));
      check('ttq events carry _ttp as user.ttp and the ttclid (from the URL, then the cookie)',
        [ttLanding, ttView, ttPay].every((e) => e && e.user?.ttp === priorTtp && e.user?.ttclid === 'tt1'),
        JSON.stringify([ttLanding, ttView, ttPay].map((e) => e && e.user)));
      check('ttq.identify hashes in the browser; queued calls waited for it',
        JSON.stringify(ttView?.user?.email) === JSON.stringify([sha256('jane@example.com')]) &&
        ev2.find((e) => e.event === 'AddToCart')?.user?.email?.[0] === sha256('jane@example.com') &&
        ttPay?.user?.phone?.[0] === sha256('+442079460958'), JSON.stringify([ttView?.user, ttPay?.user]));
      check('the purchase: event_id, value and contents as tracked', ttPay?.event_id === 'tt-order-1' &&
        ttPay?.properties?.value === 99 && ttPay?.properties?.contents?.[0]?.content_id === 'sku9', JSON.stringify(ttPay));
    } finally {
      await new Promise((r) => { ttShop.closeAllConnections?.(); ttShop.close(r); });
    }
    check('no console errors or page errors on the shop pages', problems.length === 0, problems.join(' | '));
  } catch (e) {
    check('test ran to the end', false, e.stack || String(e));
  } finally {
    if (context) await context.close().catch(() => {});
    if (shop) await new Promise((r) => { shop.closeAllConnections?.(); shop.close(r); });
    await stopTouchpoint(tpServer);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

let tpServer;
let cleanupTmp;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (tpServer && tpServer.exitCode === null) tpServer.kill('SIGKILL');
    if (cleanupTmp) fs.rmSync(cleanupTmp, { recursive: true, force: true });
    fatal(`interrupted (${sig})`);
  });
}
await main();
finish();
