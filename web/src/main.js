// Touchpoint dashboard: a shell (navigation, date range and attribution controls, token dialog)
// and one module per page under pages/. Hash routes: #/overview, #/performance, ...
import './styles.css';
import { ApiError, catalog, get, health, token } from './api.js';
import { clear, h, select } from './dom.js';
import { CONVERSION_EVENTS, MODELS } from './metrics.js';
import { addDays, globalState, GLOBAL_KEYS, href, localToday, parseHash, reportQuery, daysBetween } from './state.js';
import overview from './pages/overview.js';
import performance from './pages/performance.js';
import audience from './pages/audience.js';
import creatives from './pages/creatives.js';
import compare from './pages/compare.js';
import funnel from './pages/funnel.js';
import events from './pages/events.js';
import insights from './pages/insights.js';
import lift from './pages/lift.js';

const PAGES = { overview, insights, performance, audience, creatives, compare, funnel, lift, events };
const NAV = ['overview', 'insights', 'performance', 'audience', 'creatives', 'compare', 'funnel', 'lift', 'events'];

let renderCount = 0;
let cleanup = null;
const app = document.getElementById('app');
const navLinks = {};
const pageRoot = h('section', { id: 'page', 'aria-live': 'polite' });
const titleEl = h('h1', { class: 'page-title' });
const controls = h('div', { class: 'controls', id: 'controls' });

function shell() {
  const nav = h('nav', { class: 'nav', 'aria-label': 'Pages' },
    NAV.map((p) => (navLinks[p] = h('a', { href: `#/${p}`, 'data-nav': p }, PAGES[p].title))));
  app.append(
    h('div', { class: 'shell' },
      h('aside', { class: 'side' }, h('div', { class: 'side-inner' },
        h('a', { class: 'brand', href: '#/overview' }, h('span', { class: 'logo', 'aria-hidden': 'true' }), 'Touchpoint'),
        nav,
        h('div', { class: 'side-foot' },
          h('button', { type: 'button', class: 'link', id: 'signout', onclick: signOut }, 'Change admin token')))),
      h('main', { class: 'main' },
        h('header', { class: 'top' }, titleEl, controls),
        pageRoot)));
}

// --- Controls: date range and attribution settings, written to the URL ------------------------

function setParams(changes, { replace = false } = {}) {
  const { page, params } = parseHash();
  for (const [k, v] of Object.entries(changes)) {
    if (v == null || v === '') params.delete(k);
    else params.set(k, v);
  }
  const s = params.toString();
  const url = `#/${page}${s ? '?' + s : ''}`;
  if (replace) history.replaceState(null, '', url);
  else location.hash = url;
}

// show: true (everything), 'dates' (the date range only) or false.
function renderControls(st, params, show) {
  clear(controls);
  controls.hidden = !show;
  if (!show) return;
  const attribution = show !== 'dates';
  const len = daysBetween(st.from, st.to) + 1;
  const today = localToday();
  const preset = params.get('from') || params.get('to')
    ? (st.to === today && [7, 14, 28].includes(len) ? String(len) : 'custom')
    : '14';
  const setRange = (days) => {
    if (days === 'custom') return;
    setParams({ from: addDays(today, -(Number(days) - 1)), to: today });
  };
  controls.append(...[
    h('label', { class: 'ctl' }, h('span', null, 'Dates'),
      select([['7', 'Last 7 days'], ['14', 'Last 14 days'], ['28', 'Last 28 days'], ['custom', 'Custom']],
        preset, setRange, { id: 'range' })),
    h('label', { class: 'ctl' }, h('span', null, 'From'),
      h('input', { type: 'date', id: 'from', value: st.from, max: st.to,
        onchange: (e) => e.target.value && setParams({ from: e.target.value, to: st.to }) })),
    h('label', { class: 'ctl' }, h('span', null, 'To'),
      h('input', { type: 'date', id: 'to', value: st.to, min: st.from,
        onchange: (e) => e.target.value && setParams({ from: st.from, to: e.target.value }) })),
    show !== 'range' && h('label', { class: 'ctl' }, h('span', null, 'Conversion'),
      select(CONVERSION_EVENTS.some(([k]) => k === st.event) ? CONVERSION_EVENTS : [...CONVERSION_EVENTS, [st.event, st.event]],
        st.event, (v) => setParams({ event: v }), { id: 'event', title: "Which event counts as a conversion. Each campaign's own: its optimisation event, else its pixel's conversion events, else purchases." })),
    attribution && h('label', { class: 'ctl' }, h('span', null, 'Model'),
      select(MODELS, st.model, (v) => setParams({ model: v === 'last_touch' ? '' : v }), { id: 'model' })),
    attribution && h('label', { class: 'ctl' }, h('span', null, 'Click window'),
      select([['', 'Ad group'], ['1', '1 day'], ['7', '7 days'], ['14', '14 days'], ['28', '28 days']],
        st.cw, (v) => setParams({ cw: v }), { id: 'cw' })),
    attribution && h('label', { class: 'ctl' }, h('span', null, 'View window'),
      select([['', 'Ad group'], ['0', 'Off'], ['1', '1 day'], ['7', '7 days']],
        st.vw, (v) => setParams({ vw: v }), { id: 'vw' })),
    attribution && h('label', { class: 'ctl' }, h('span', null, 'Count by'),
      select([['touch', 'Ad time'], ['real_time', 'Conversion time']],
        st.basis, (v) => setParams({ basis: v === 'touch' ? '' : v }), { id: 'basis' })),
  ].filter(Boolean));
}

// --- Admin token -------------------------------------------------------------------------------

let dialog = null;
function askToken(message) {
  if (dialog) {
    dialog.querySelector('.dialog-msg').textContent = message || '';
    return;
  }
  const input = h('input', { type: 'password', id: 'token-input', autocomplete: 'off', required: true,
    placeholder: 'admin token', spellcheck: 'false' });
  dialog = h('dialog', { id: 'token-dialog', class: 'dialog' },
    h('form', { method: 'dialog', onsubmit: (e) => {
      e.preventDefault();
      const t = input.value.trim();
      if (!t) return;
      token.set(t);
      dialog.close();
      dialog.remove();
      dialog = null;
      route();
    } },
      h('h2', null, 'Admin token'),
      h('p', null, 'Touchpoint needs the admin token to read reports. It is in ',
        h('code', null, 'touchpoint-data/admin_token'), ' (or the ', h('code', null, '--admin-token'),
        ' you started the server with). It is kept in this browser only.'),
      h('p', { class: 'dialog-msg error-text' }, message || ''),
      input,
      h('div', { class: 'dialog-actions' }, h('button', { type: 'submit', class: 'primary', id: 'token-save' }, 'Continue'))));
  dialog.addEventListener('cancel', (e) => e.preventDefault());
  document.body.append(dialog);
  dialog.showModal();
  input.focus();
}

function signOut() {
  token.clear();
  askToken('');
}

// --- The server is still loading its stored events ---------------------------------------------

// A progress bar instead of the page while the server loads the stored events into memory (the
// data endpoints answer 503 with the progress meanwhile). Polls /healthz each second, moves the
// bar, and renders the page again once loaded. `current()` is false once another page took over.
function loadingView(progress, current, onLoaded, cleanups) {
  const fill = h('span', { class: 'progress-fill' });
  const label = h('span', { class: 'progress-label' });
  const detail = h('p', { class: 'muted progress-detail' });
  const bar = h('div', { class: 'progress', id: 'load-progress', role: 'progressbar', 'aria-valuemin': '0',
    'aria-valuemax': '100', 'aria-label': 'Stored events loaded' }, fill);
  const show = (p) => {
    const pct = Math.max(0, Math.min(100, Number(p.percent) || 0));
    bar.setAttribute('aria-valuenow', pct.toFixed(1));
    fill.style.width = pct.toFixed(1) + '%';
    label.textContent = `${pct.toFixed(1)}%`;
    detail.textContent = p.events_total
      ? `${Number(p.events_loaded).toLocaleString('en-US')} of ${Number(p.events_total).toLocaleString('en-US')} stored events read. Events sent meanwhile are collected and will be counted.`
      : 'Events sent meanwhile are collected and will be counted.';
  };
  show(progress);
  let timer = null;
  const poll = async () => {
    if (!current()) return;
    let next = null;
    try {
      const hz = await health();
      if (hz.status !== 'loading') return onLoaded();
      next = hz.loading;
    } catch { /* the server restarting: try again */ }
    if (!current()) return;
    if (next) show(next);
    timer = setTimeout(poll, 1000);
  };
  timer = setTimeout(poll, 1000);
  cleanups.push(() => clearTimeout(timer));
  return h('div', { class: 'loading-box', id: 'loading-box', role: 'status' },
    h('div', { class: 'loading-head' }, h('strong', null, 'Loading stored events'), label),
    bar,
    detail,
    h('p', { class: 'muted' }, 'Touchpoint has just started and is reading its stored events into memory; this page appears as soon as they are in.'));
}

// --- Routing -----------------------------------------------------------------------------------

async function route() {
  const { page: name, params } = parseHash();
  const page = PAGES[name] || PAGES.overview;
  const key = PAGES[name] ? name : 'overview';
  const n = ++renderCount;
  if (cleanup) { try { cleanup(); } catch { /* ignore */ } cleanup = null; }
  for (const [p, a] of Object.entries(navLinks)) {
    a.classList.toggle('active', p === key);
    if (p === key) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
    a.href = href(p, params);
  }
  const st = globalState(params);
  titleEl.textContent = page.title;
  document.title = `${page.title} · Touchpoint`;
  renderControls(st, params, page.controls ?? true);
  pageRoot.dataset.page = key;
  pageRoot.dataset.state = 'loading';
  pageRoot.setAttribute('aria-busy', 'true');
  if (!token.get()) {
    askToken('');
    return;
  }
  const ctx = {
    st, params,
    current: () => n === renderCount,
    report: (extra) => get('/api/v1/report?' + reportQuery(st, extra)),
    insights: (extra) => get('/api/v1/insights?' + reportQuery(st, extra)),
    catalog,
    href: (p, extra) => href(p, params, extra),
    setParams,
    onCleanup: (fn) => cleanups.push(fn),
  };
  const cleanups = [];
  const runCleanups = () => { for (const fn of cleanups) { try { fn(); } catch { /* already gone */ } } };
  let node;
  try {
    node = await page.render(ctx);
  } catch (e) {
    if (n !== renderCount) return runCleanups();
    if (e instanceof ApiError && e.status === 401) {
      askToken('The server did not accept the saved token. Enter the admin token again.');
      node = h('div', { class: 'empty' }, 'Waiting for the admin token.');
      pageRoot.dataset.state = 'error';
    } else if (e instanceof ApiError && e.loading) {
      node = loadingView(e.loading, () => n === renderCount, () => route(), cleanups);
      pageRoot.dataset.state = 'server-loading';
    } else {
      node = h('div', { class: 'error-box', role: 'alert' }, h('strong', null, 'Could not load this page. '),
        e instanceof ApiError ? e.message : String(e && e.message || e));
      pageRoot.dataset.state = 'error';
    }
  }
  if (n !== renderCount) return runCleanups();  // a newer page took over meanwhile
  cleanup = runCleanups;
  clear(pageRoot).append(node);
  if (pageRoot.dataset.state === 'loading') pageRoot.dataset.state = 'ready';
  pageRoot.dataset.render = String(n);
  pageRoot.removeAttribute('aria-busy');
}

window.addEventListener('hashchange', route);
shell();
if (!location.hash) history.replaceState(null, '', '#/overview');
route();

// Exposed for the browser tests and for curious people in the console.
window.touchpoint = { reportQuery: (extra) => reportQuery(globalState(parseHash().params), extra), GLOBAL_KEYS };
