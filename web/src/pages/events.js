// Events: pixel set-up (the tp.js snippet, an Events API curl example with the pixel's token) and
// the live event debugger over GET /api/v1/debug/events.
import { ApiError, get, request } from '../api.js';
import { card, emptyState } from '../components.js';
import { h, select } from '../dom.js';
import { format } from '../format.js';

const POLL_MS = 2000;
const KEEP = 200;

function snippet(origin, pixelId) {
  return `<script>
  window.tp = window.tp || function () { (tp.q = tp.q || []).push(arguments); };
  (function () {
    var s = document.createElement('script');
    s.async = true;
    s.src = '${origin}/tp.js';
    document.head.appendChild(s);
  })();
  tp('init', '${pixelId}');
  tp('page');
</script>`;
}

// A pixel's access token is shown once: when the pixel is created, or a new token is issued.
// The server keeps only digests, so a token lives here, in this tab's memory, never in storage.
const shownTokens = new Map();

function curlExample(origin, pixel) {
  const body = `{
    "event_source": "web",
    "event_source_id": "${pixel.pixel_id}",
    "data": [{
      "event": "CompletePayment",
      "event_time": '$(date +%s)',
      "event_id": "order-1001",
      "user": {"email": "jane@example.com", "ttclid": "E.C.P.abc"},
      "properties": {"value": 42, "currency": "USD"}
    }]
  }`;
  return `curl -s -X POST '${origin}/open_api/v1.3/event/track/' \\
  -H 'Access-Token: ${shownTokens.get(pixel.pixel_id) || '<ACCESS_TOKEN>'}' \\
  -H 'Content-Type: application/json' \\
  -d '${body}'`;
}

function codeBlock(id, text) {
  const status = h('span', { class: 'muted copy-status', role: 'status' });
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      status.textContent = 'Copied';
    } catch {
      const range = document.createRange();
      range.selectNodeContents(pre);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      status.textContent = 'Selected: press Ctrl+C';
    }
    setTimeout(() => { status.textContent = ''; }, 2500);
  };
  const pre = h('pre', { class: 'code', id }, h('code', null, text));
  return h('div', { class: 'code-wrap' }, pre, h('div', { class: 'code-actions' }, h('button', { type: 'button', class: 'secondary small', onclick: copy }, 'Copy'), status));
}

const time = (ms) => new Date(ms).toLocaleTimeString('en-GB', { hour12: false });

// A short description of an entry: its error, or what the stored event carried.
function details(e) {
  if (e.outcome === 'rejected') {
    return [h('span', { class: 'error-text reason' }, e.error || 'rejected'), e.reason ? h('span', { class: 'tag' }, e.reason) : null,
      e.events > 1 ? h('span', { class: 'muted' }, ` (${e.events} events)`) : null];
  }
  const ev = e.event || {};
  const parts = [];
  if (e.type === 'site') {
    const u = ev.user || {};
    const keys = ['ttclid', 'ttp', 'email', 'phone', 'external_id', 'ip', 'user_agent'].filter((k) => (Array.isArray(u[k]) ? u[k].length : u[k]));
    if (ev.properties && ev.properties.value != null) parts.push(`value ${format('money', ev.properties.value)}${ev.properties.currency ? ' ' + ev.properties.currency : ''}`);
    if (e.event_id) parts.push(`event_id ${e.event_id}`);
    parts.push(keys.length ? `match keys: ${keys.join(', ')}` : 'no match keys');
    if (e.test_event_code) parts.push(`test code ${e.test_event_code}`);
  } else {
    if (ev.ad_id) parts.push(`ad ${ev.ad_id}`);
    if (ev.user_key) parts.push(`user ${ev.user_key}`);
    if (ev.watch_ms != null && e.name === 'video_play') parts.push(`watched ${format('secs', ev.watch_ms)}`);
  }
  if (e.outcome === 'duplicate') parts.push(e.merged ? `merged into #${e.seq}` : `copy of #${e.seq}, dropped`);
  return parts.join(' · ');
}

function entryRow(e) {
  const json = e.event ? JSON.stringify(e.event, null, 2) : null;
  return h('tr', { class: `dbg ${e.outcome}`, dataset: { id: String(e.id), outcome: e.outcome, name: e.name || '', eventId: e.event_id || '' } },
    h('td', { class: 'nowrap muted' }, time(e.received_at_ms)),
    h('td', null, h('span', { class: `badge ${e.outcome}` }, e.outcome)),
    h('td', { class: 'name' }, e.name || h('span', { class: 'muted' }, '—'), e.index != null && e.index >= 0 ? h('span', { class: 'id' }, `#${e.index}`) : null),
    h('td', { class: 'nowrap' }, h('code', null, e.endpoint)),
    h('td', { class: 'details' }, json
      ? h('details', null, h('summary', null, details(e)), h('pre', { class: 'code small' }, json))
      : details(e)));
}

function debuggerCard(ctx, pixels) {
  const { params } = ctx;
  const pixel = params.get('pixel') || '';
  const type = params.get('type') === 'ad' ? 'ad' : 'site';
  const outcome = ['accepted', 'duplicate', 'rejected'].includes(params.get('outcome')) ? params.get('outcome') : '';
  const body = h('tbody');
  const status = h('span', { class: 'live', id: 'debug-status' }, 'connecting…');
  let lastId = 0;
  let timer = null;
  let stopped = false;
  let paused = false;
  const empty = h('tr', { class: 'empty-row' }, h('td', { colspan: 5, class: 'empty' },
    'No events yet. Send one with the snippet or the curl example above; it shows up here within seconds.'));
  body.append(empty);

  const poll = async () => {
    timer = null;
    if (stopped) return;
    const q = new URLSearchParams({ limit: String(KEEP), type });
    if (pixel && type === 'site') q.set('pixel_id', pixel);
    if (outcome) q.set('outcome', outcome);
    if (lastId) q.set('after', String(lastId));
    try {
      const res = await get('/api/v1/debug/events?' + q);
      if (stopped) return;
      if (res.events.length) {
        empty.remove();
        const rows = res.events.map(entryRow);
        body.prepend(...rows);
        while (body.children.length > KEEP) body.lastChild.remove();
      }
      lastId = Math.max(lastId, res.last_id);
      status.textContent = paused ? 'paused' : `live · updated ${time(Date.now())}`;
      status.className = paused ? 'live paused' : 'live on';
    } catch (e) {
      if (stopped) return;
      status.textContent = e instanceof ApiError && e.status === 404
        ? 'this server has no event debugger (GET /api/v1/debug/events)'
        : `not updating: ${e.message}`;
      status.className = 'live off';
      if (e instanceof ApiError && (e.status === 404 || e.status === 401)) return;
    }
    if (!paused) timer = setTimeout(poll, POLL_MS);
  };
  poll();
  ctx.onCleanup(() => { stopped = true; if (timer) clearTimeout(timer); });

  const pauseBtn = h('button', { type: 'button', class: 'secondary small', id: 'debug-pause', onclick: () => {
    paused = !paused;
    pauseBtn.textContent = paused ? 'Resume' : 'Pause';
    if (!paused && !timer) poll();
    else if (paused && timer) { clearTimeout(timer); timer = null; status.textContent = 'paused'; status.className = 'live paused'; }
  } }, 'Pause');
  const filters = h('div', { class: 'filters' },
    h('label', { class: 'ctl inline' }, h('span', null, 'Events'), select([['site', 'Site & server'], ['ad', 'Ad events']], type, (v) => ctx.setParams({ type: v === 'site' ? '' : v }), { id: 'debug-type' })),
    type === 'site' ? h('label', { class: 'ctl inline' }, h('span', null, 'Pixel'), select([['', 'All pixels'], ...pixels.map((p) => [p.pixel_id, p.name])], pixel, (v) => ctx.setParams({ pixel: v }), { id: 'debug-pixel' })) : null,
    h('label', { class: 'ctl inline' }, h('span', null, 'Outcome'), select([['', 'All'], ['accepted', 'Accepted'], ['duplicate', 'Duplicate'], ['rejected', 'Rejected']], outcome, (v) => ctx.setParams({ outcome: v }), { id: 'debug-outcome' })),
    status, pauseBtn);
  return card('Live event debugger', h('div', null, filters,
    h('div', { class: 'table-wrap' }, h('table', { class: 'data debugger', id: 'debugger' },
      h('thead', null, h('tr', null, ['Received', 'Outcome', 'Event', 'Endpoint', 'Details'].map((t) => h('th', { scope: 'col' }, t)))),
      body))), {
    id: 'debugger-card',
    note: 'The last 200 events each kind of endpoint received, newest first: accepted, duplicates (merged into or dropped in favour of the first copy) and rejected ones with the error the sender got. Emails, phones and external ids are shown hashed, as stored. Kept in memory; a restart empties it.',
  });
}

// The pixel's tokens (prefixes only) and a button that issues one more, shown once.
function tokenPanel(pixel, onIssued) {
  const shown = shownTokens.has(pixel.pixel_id);
  const valid = (pixel.tokens || []).map((t) => `${t.prefix}…${t.expires_at_ms ? ` (until ${new Date(t.expires_at_ms).toLocaleString()})` : ''}`);
  const note = h('p', { class: 'muted', id: 'token-note' }, shown
    ? 'The token below is shown this once: copy it now and keep it on your server.'
    : `The access token is shown only when it is made (kept: ${valid.join(', ') || 'none'}). Use the one you saved, or issue a new one: the others keep working.`);
  const msg = h('span', { class: 'error-text', role: 'status' });
  const issue = async () => {
    try {
      const t = await request('POST', `/api/v1/pixels/${encodeURIComponent(pixel.pixel_id)}/tokens`, { keep_existing: true });
      shownTokens.set(pixel.pixel_id, t.access_token);
      note.textContent = 'The new token is in the example below, shown this once: copy it now and keep it on your server. The pixel\'s other tokens keep working.';
      onIssued();
    } catch (err) {
      msg.textContent = err.message;
    }
  };
  return h('div', null, note, h('button', { type: 'button', class: 'secondary small', id: 'new-token', onclick: issue }, 'Issue a new access token'), msg);
}

export default {
  title: 'Events',
  controls: false,
  async render(ctx) {
    const { params } = ctx;
    const { pixels } = await get('/api/v1/pixels');
    const origin = location.origin;
    const chosen = pixels.find((p) => p.pixel_id === params.get('setup')) || pixels[pixels.length - 1];
    const nameInput = h('input', { id: 'new-pixel-name', placeholder: 'Pixel name, e.g. my shop', maxlength: 200, required: true });
    const createMsg = h('span', { class: 'error-text', role: 'status' });
    const create = h('form', { class: 'inline-form', onsubmit: async (e) => {
      e.preventDefault();
      const name = nameInput.value.trim();
      if (!name) return;
      try {
        const p = await request('POST', '/api/v1/pixels', { name });
        shownTokens.set(p.pixel_id, p.access_token);
        ctx.setParams({ setup: p.pixel_id });
      } catch (err) {
        createMsg.textContent = err.message;
      }
    } }, nameInput, h('button', { type: 'submit', class: 'secondary' }, 'Create pixel'), createMsg);

    let setup;
    const curlBox = h('div', null, chosen ? codeBlock('curl', curlExample(origin, chosen)) : null);
    if (!chosen) {
      setup = card('Set up a pixel', h('div', null, emptyState('No pixel yet', 'Create a pixel to get its snippet and its Events API token.'), create), { id: 'setup' });
    } else {
      setup = card('Set up a pixel', h('div', null,
        h('div', { class: 'filters' },
          h('label', { class: 'ctl inline' }, h('span', null, 'Pixel'), select(pixels.map((p) => [p.pixel_id, `${p.name} (${p.pixel_id})`]), chosen.pixel_id, (v) => ctx.setParams({ setup: v }), { id: 'setup-pixel' })),
          create),
        h('div', { class: 'grid-2 tight' },
          h('div', null,
            h('h3', null, '1. Website: the tp.js snippet'),
            h('p', { class: 'muted' }, 'Put this in the <head> of every page. It records page views and keeps the ad click id (ttclid) in a first-party cookie. Track conversions with ', h('code', null, "tp('track', 'CompletePayment', {value: 42, currency: 'USD'}, {event_id: 'order-1001'})"), '.'),
            codeBlock('snippet', snippet(origin, chosen.pixel_id))),
          h('div', null,
            h('h3', null, '2. Server: the Events API'),
            h('p', { class: 'muted' }, 'Send the same conversion from your server with the same event_id: Touchpoint stores it once. Clear emails and phones are hashed on arrival. The access token belongs to this pixel: keep it on the server.'),
            tokenPanel(chosen, () => curlBox.replaceChildren(codeBlock('curl', curlExample(origin, chosen)))),
            curlBox))), { id: 'setup' });
    }
    return h('div', { class: 'page-events' }, setup, debuggerCard(ctx, pixels));
  },
};
