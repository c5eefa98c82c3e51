/* Touchpoint pixel. See docs/pixel.md. No dependencies; the only global is `tp`. */
(function (w, d) {
  'use strict';
  if (w.tp && w.tp.loaded) return;
  const HEX64 = /^[0-9a-f]{64}$/i;
  // Events go to where tp.js came from, unless init gives an endpoint.
  const me = d.currentScript || [...d.scripts].find((s) => /\/tp\.js([?#]|$)/.test(s.src));
  const origin = me && me.src ? new URL(me.src, location.href).origin : location.origin;
  const pixels = [];  // {id, endpoint}
  const user = {};    // hashed identify() keys, sent with every later event
  const waiting = []; // calls made while identify() is hashing, replayed in order
  let busy = 0;

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
    if (value) {
      d.cookie = `${name}=${encodeURIComponent(value)}; max-age=${maxAge}; path=/; SameSite=Lax` +
        (location.protocol === 'https:' ? '; Secure' : '');
    }
    const m = d.cookie.match(new RegExp(`(?:^|; )${name}=([^;]*)`));
    return m ? decodeURIComponent(m[1]) : '';
  }

  function keys() {
    let ttp = cookie('_tp');
    if (!/^[A-Za-z0-9]{27}$/.test(ttp)) ttp = random(27);
    cookie('_tp', ttp, 34190000);  // ~13 months, counted from the last visit
    const clid = new URLSearchParams(location.search).get('ttclid');
    return { ttp, ttclid: cookie('_tp_clid', clid, 7 * 86400) || clid || undefined };
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

  function track(event, props, opts) {
    if (!pixels.length || !event) return;
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
    pixels.forEach((p) => send(p, ev));
  }

  function run([cmd, a, b, c]) {
    if (cmd === 'init' && a && !pixels.some((p) => p.id === String(a))) {
      pixels.push({ id: String(a), endpoint: String((b && b.endpoint) || origin).replace(/\/+$/, '') });
      keys();  // set the cookies now, so the click id is kept even if no event follows
    } else if (cmd === 'page') {
      track('PageView', a, b);
    } else if (cmd === 'track') {
      track(a, b, c);
    } else if (cmd === 'identify') {
      busy++;
      identify(a).catch(() => {}).then(() => {
        busy--;
        while (!busy && waiting.length) run(waiting.shift());
      });
    }
  }

  function tp() {
    if (busy) waiting.push(arguments);
    else run(arguments);
  }
  tp.loaded = true;
  const queued = (w.tp && w.tp.q) || [];
  w.tp = tp;
  for (const args of queued) tp(...args);
})(window, document);
