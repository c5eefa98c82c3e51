/* Touchpoint pixel. See docs/pixel.md. No dependencies. Two faces:
 *  - tp('init', ID) ... : Touchpoint's own snippet; the only global it adds is `tp`.
 *  - TikTok's base code (window.ttq, ttq.load(ID), ttq.page(), ttq.track(...)) with only the
 *    script's host changed: the ttq queue is played back and `ttq` keeps working, with TikTok's
 *    cookies (_ttp, ttclid), so server events that forward them match. It adds no global. */
(function (w, d) {
  'use strict';
  const HEX64 = /^[0-9a-f]{64}$/i;
  const ttqName = w.TiktokAnalyticsObject;
  const ttqQueue = ttqName && w[ttqName];
  const ttqMode = Boolean(ttqQueue && !ttqQueue.touchpoint && (Array.isArray(ttqQueue) || ttqQueue._i));
  if (ttqName && ttqQueue && ttqQueue.touchpoint) return;  // loaded again by a later ttq.load()
  if (!ttqMode && w.tp && w.tp.loaded) return;
  // Events go to where this script came from, unless told otherwise.
  const me = d.currentScript ||
    [...d.scripts].find((s) => /\/(tp\.js|i18n\/pixel\/events\.js)([?#]|$)/.test(s.src));
  const origin = me && me.src ? new URL(me.src, location.href).origin : location.origin;
  // Cookies: TikTok's names when playing TikTok's base code, so `_ttp` and `ttclid` are the
  // values a server forwarding them to the Events API sends; Touchpoint's own otherwise.
  const COOKIES = ttqMode
    ? { id: '_ttp', clid: 'ttclid', clidAge: 30 * 86400 }
    : { id: '_tp', clid: '_tp_clid', clidAge: 7 * 86400 };
  const pixels = [];   // {id, endpoint}
  const user = {};     // hashed identify() keys, sent with every later event
  const waiting = [];  // calls made while identify() is hashing, replayed in order
  let busy = 0;
  let cookies = true;  // ttq.disableCookie() turns them off
  let consent = 'granted';  // ttq.holdConsent(): 'held' (events kept); revokeConsent(): 'revoked'
  const held = [];

  function random(n) {
    const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
    let out = '';
    while (out.length < n) {
      for (const b of crypto.getRandomValues(new Uint8Array(n))) {
        if (b < 248 && out.length < n) out += abc[b % 62];  // 248 = 4*62: no modulo bias
      }
    }
    return out;
  }

  function cookie(name, value, maxAge) {
    if (value && cookies) {
      d.cookie = `${name}=${encodeURIComponent(value)}; max-age=${maxAge}; path=/; SameSite=Lax` +
        (location.protocol === 'https:' ? '; Secure' : '');
    }
    const m = d.cookie.match(new RegExp(`(?:^|; )${name}=([^;]*)`));
    return m ? decodeURIComponent(m[1]) : '';
  }

  function keys() {
    let ttp = cookie(COOKIES.id);
    // Ours are 27 [A-Za-z0-9]; TikTok's pixel may have written another form: kept as it is.
    if (!(ttqMode ? /^[A-Za-z0-9._-]{8,128}$/ : /^[A-Za-z0-9]{27}$/).test(ttp)) ttp = random(27);
    cookie(COOKIES.id, ttp, 34190000);  // ~13 months, counted from the last visit
    const clid = new URLSearchParams(location.search).get('ttclid');
    return { ttp, ttclid: cookie(COOKIES.clid, clid, COOKIES.clidAge) || clid || undefined };
  }

  async function sha256(v) {
    if (HEX64.test(v)) return v.toLowerCase();
    const buf = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(v));
    return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
  }

  // Normalised as the server does, hashed here: clear values never leave the browser.
  async function identify(o) {
    o = o || {};
    if (!(w.crypto && crypto.subtle)) return;  // not a secure context: drop, never send clear
    const email = String(o.email || o.sha256_email || '').trim().toLowerCase();
    let phone = String(o.phone_number || o.sha256_phone_number || o.phone || '').trim();
    if (!HEX64.test(phone)) {  // E.164 with '+': digits only, no leading 00
      const digits = phone.replace(/\D/g, '').replace(/^00/, '');
      phone = digits && '+' + digits;
    }
    const ext = String(o.external_id || '').trim();
    if (email) user.email = await sha256(email);
    if (phone) user.phone = await sha256(phone);
    if (ext) user.external_id = await sha256(ext);
  }

  function send(p, ev) {
    const body = JSON.stringify(Object.assign({ pixel_id: p.id }, ev));
    if (navigator.sendBeacon && navigator.sendBeacon(p.endpoint + '/api/v1/pixel', body)) return;
    // No beacon (or it was refused): the same event as an <img> GET.
    const q = new URLSearchParams({ pixel_id: p.id, event: ev.event, event_id: ev.event_id,
      url: ev.page.url, referrer: ev.page.referrer });
    const pr = ev.properties;
    const all = Object.assign({ value: pr.value, currency: pr.currency, order_id: pr.order_id }, ev.user);
    for (const k in all) if (all[k] != null && all[k] !== '') q.append(k, all[k]);
    for (const c of [pr, ...(pr.contents || [])]) if (c && c.content_id) q.append('content_id', c.content_id);
    new Image().src = p.endpoint + '/api/v1/pixel.gif?' + q;
  }

  // `only`: one pixel's id (ttq.instance(id), or the pixel_code option), else every pixel.
  function track(event, props, opts, only) {
    only = only || (opts && opts.pixel_code);
    const targets = pixels.filter((p) => !only || p.id === String(only));
    if (!targets.length || !event || consent === 'revoked') return;
    const str = (c) => (c && typeof c.content_id === 'number' ? Object.assign({}, c, { content_id: String(c.content_id) }) : c);
    const properties = str(Object.assign({}, props));
    if (Array.isArray(properties.contents)) properties.contents = properties.contents.map(str);
    const ev = {
      event: String(event),
      event_id: String((opts && opts.event_id) || Date.now().toString(36) + '.' + random(10)),
      user: Object.assign(keys(), user),
      properties,
      page: { url: location.href, referrer: d.referrer },
    };
    for (const p of targets) {
      if (consent === 'held') held.push([p, ev]);
      else send(p, ev);
    }
  }

  function addPixel(id, endpoint) {
    if (!id || pixels.some((p) => p.id === String(id))) return;
    pixels.push({ id: String(id), endpoint: String(endpoint || origin).replace(/\/+$/, '') });
    keys();  // set the cookies now, so the click id is kept even if no event follows
  }

  // One call: [command, ...args], for every pixel or only the pixel `only`.
  function run(args, only) {
    const [cmd, a, b, c] = args;
    if (cmd === 'init') {
      addPixel(a, b && b.endpoint);
    } else if (cmd === 'page') {
      track('PageView', a, b, only);
    } else if (cmd === 'track') {
      track(a, b, c, only);
    } else if (cmd === 'identify') {
      busy++;
      identify(a).catch(() => {}).then(() => {
        busy--;
        while (!busy && waiting.length) run(...waiting.shift());
      });
    } else if (cmd === 'holdConsent') {
      if (consent !== 'revoked') consent = 'held';
    } else if (cmd === 'grantConsent') {
      consent = 'granted';
      while (held.length) send(...held.shift());
    } else if (cmd === 'revokeConsent') {
      consent = 'revoked';
      held.length = 0;
    } else if (cmd === 'disableCookie') {
      cookies = false;
    } else if (cmd === 'enableCookie') {
      cookies = true;
    }
  }

  function call(args, only) {
    if (busy) waiting.push([args, only]);
    else run(args, only);
  }

  if (!ttqMode) {
    function tp() { call([...arguments]); }
    tp.loaded = true;
    const queued = (w.tp && w.tp.q) || [];
    w.tp = tp;
    for (const args of queued) tp(...args);
    return;
  }

  // TikTok's base code: `ttq` is an array of queued calls ([method, ...args]); ttq._i maps each
  // loaded pixel to its own queue (ttq.instance(id) calls), with the script URL it asked for in
  // _u: events for that pixel go to that URL's origin.
  const METHODS = ['page', 'track', 'identify', 'instances', 'debug', 'on', 'off', 'once', 'ready',
    'alias', 'group', 'enableCookie', 'disableCookie', 'holdConsent', 'revokeConsent', 'grantConsent'];
  const instances = ttqQueue._i || {};
  for (const id of Object.keys(instances)) {
    const u = instances[id] && instances[id]._u;
    addPixel(id, u ? new URL(u, location.href).origin : origin);
  }
  const live = {
    touchpoint: true,
    methods: METHODS,
    load(id, opts) { addPixel(id, opts && opts.endpoint); },
    instance(id) { return face(String(id)); },
    instances() { return pixels.map((p) => face(p.id)); },
    ready(fn) { if (typeof fn === 'function') fn(); },
  };
  // The calls of ttq (every pixel) or of ttq.instance(id) (that pixel only).
  function face(only) {
    const f = only ? { pixel_code: only } : live;
    for (const m of METHODS) {
      if (m === 'instances' || m === 'ready') continue;
      f[m] = function () { call([m, ...arguments], only); return f; };
    }
    return f;
  }
  face(undefined);
  const global = Array.isArray(ttqQueue) ? ttqQueue.slice() : [];
  w[ttqName] = live;
  for (const args of global) {
    if (Array.isArray(args) && args[0] === 'ready') live.ready(args[1]);
    else if (Array.isArray(args)) call(args);
  }
  for (const id of Object.keys(instances)) {
    for (const args of instances[id] || []) if (Array.isArray(args)) call(args, id);
  }
})(window, document);
