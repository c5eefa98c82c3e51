// The URL is the state: #/page?from=2026-01-01&to=2026-01-14&model=linear&... Global keys apply
// to every page (date range, attribution settings and the conversion event: empty = each
// campaign judged on its own event); other keys belong to the page.
export const GLOBAL_KEYS = ['from', 'to', 'model', 'cw', 'vw', 'basis', 'event'];
export const DEFAULT_DAYS = 14;

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const pad = (n) => String(n).padStart(2, '0');

export function localToday() {
  const d = new Date();
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function addDays(day, n) {
  const t = Date.parse(day + 'T00:00:00Z') + n * 86400000;
  return new Date(t).toISOString().slice(0, 10);
}

export function daysBetween(from, to) {
  return Math.round((Date.parse(to + 'T00:00:00Z') - Date.parse(from + 'T00:00:00Z')) / 86400000);
}

// The browser's current UTC offset as the API wants it: "+02:00".
export function tzOffset() {
  const m = -new Date().getTimezoneOffset();
  return `${m < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(m) / 60))}:${pad(Math.abs(m) % 60)}`;
}

export function parseHash(hash = location.hash) {
  const raw = hash.replace(/^#\/?/, '');
  const q = raw.indexOf('?');
  const page = (q < 0 ? raw : raw.slice(0, q)) || 'overview';
  return { page, params: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)) };
}

const valid = (s) => (s && DATE.test(s) && !Number.isNaN(Date.parse(s)) ? s : null);

// Global state with defaults: the last DEFAULT_DAYS days up to today, the ad groups' windows.
export function globalState(params) {
  let to = valid(params.get('to')) || localToday();
  let from = valid(params.get('from')) || addDays(to, -(DEFAULT_DAYS - 1));
  if (from > to) [from, to] = [to, from];
  const model = params.get('model') || 'last_touch';
  const cw = params.get('cw') || '';
  const vw = params.get('vw') ?? '';
  const basis = params.get('basis') === 'real_time' ? 'real_time' : 'touch';
  const event = /^[A-Za-z0-9_ .-]{1,100}$/.test(params.get('event') || '') ? params.get('event') : '';
  return { from, to, model, cw, vw, basis, event, tz: tzOffset() };
}

// The previous period of the same length, just before `from`.
export function previousPeriod(st) {
  const len = daysBetween(st.from, st.to) + 1;
  const to = addDays(st.from, -1);
  return { from: addDays(to, -(len - 1)), to };
}

// The report API's parameters for this state, plus `extra` (which may override from/to).
export function reportQuery(st, extra = {}) {
  const p = new URLSearchParams();
  p.set('from', st.from);
  p.set('to', st.to);
  p.set('tz', st.tz);
  p.set('model', st.model);
  if (st.cw) p.set('click_window', st.cw);
  if (st.vw !== '') p.set('view_window', st.vw);
  p.set('basis', st.basis);
  if (st.event) p.set('event', st.event);
  for (const [k, v] of Object.entries(extra)) {
    if (v == null || v === '') p.delete(k);
    else p.set(k, v);
  }
  return p.toString();
}

// A link to `page` keeping the global keys of `params`, with `extra` page keys.
export function href(page, params, extra = {}) {
  const p = new URLSearchParams();
  for (const k of GLOBAL_KEYS) if (params.get(k) != null) p.set(k, params.get(k));
  for (const [k, v] of Object.entries(extra)) if (v != null && v !== '') p.set(k, v);
  const s = p.toString();
  return `#/${page}${s ? '?' + s : ''}`;
}
