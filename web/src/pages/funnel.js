// Funnel: impression -> video view -> click -> landing -> add to cart -> checkout -> purchase,
// for all ads or broken down by ad or audience segment (GET /api/v1/funnel, docs/api.md).
// The endpoint is probed once per visit of the dashboard; without it the page says so.
import { ApiError, get } from '../api.js';
import { card, emptyState, unknownLabel } from '../components.js';
import { h, select } from '../dom.js';
import { DASH, format } from '../format.js';
import { eventLabel } from '../metrics.js';

// The last step is the conversion: each person's campaign's own event, or the picked one.
const CONVERSION = 'conversion';
const STEP_SETS = {
  video: ['impression', 'video_view_2s', 'click', 'PageView', 'AddToCart', 'InitiateCheckout', CONVERSION],
  click: ['impression', 'click', 'PageView', 'AddToCart', 'InitiateCheckout', CONVERSION],
};
const LABELS = { impression: 'Impression', video_play: 'Video play', video_view_2s: 'Video view (2 s)', video_view_6s: 'Video view (6 s)',
  click: 'Click', PageView: 'Landing', AddToCart: 'Add to cart', InitiateCheckout: 'Checkout', [CONVERSION]: 'Conversion' };
const stepLabel = (s) => LABELS[s] || s.replace(/\|/g, ' or ');
const BREAKDOWNS = [['', 'All ads'], ['campaign', 'By campaign'], ['adgroup', 'By ad group'], ['ad', 'By ad'], ['format', 'By format'],
  ['age', 'By age'], ['gender', 'By gender'], ['placement', 'By placement'], ['os', 'By OS']];

let available = null;  // null: not probed yet; false: this server has no funnel API

function secs(ms) {
  if (ms == null) return '';
  if (ms < 60000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3600000) return `${Math.round(ms / 60000)} min`;
  if (ms < 86400000) return `${(ms / 3600000).toFixed(1)} h`;
  const d = ms / 86400000;
  return Number.isInteger(d) ? `${d} day${d === 1 ? '' : 's'}` : `${d.toFixed(1)} days`;
}

function funnelChart(labels, steps) {
  const max = Math.max(1, steps[0]?.count || 0);
  return h('ol', { class: 'funnel', id: 'funnel-chart' }, steps.map((s, i) => h('li', { dataset: { step: labels[i], value: String(s.count) } },
    h('span', { class: 'funnel-label' }, stepLabel(labels[i])),
    h('span', { class: 'funnel-bar' }, h('span', { class: 'bar-fill', style: { width: ((100 * s.count) / max).toFixed(1) + '%' } })),
    h('span', { class: 'funnel-count' }, format('int', s.count)),
    h('span', { class: 'funnel-rate muted' }, i === 0 ? 'entered' : `${s.step_conversion == null ? DASH : format('pct', 100 * s.step_conversion)} of previous${s.median_ms_from_previous != null ? ` · median ${secs(s.median_ms_from_previous)}` : ''}`))));
}

function unavailable() {
  return h('div', { class: 'page-funnel' }, h('div', { class: 'card', id: 'funnel-unavailable' },
    emptyState('Funnel reports are not available on this server yet',
      'This Touchpoint does not serve GET /api/v1/funnel. On a version that does, this page shows impression → video view → click → landing → add to cart → checkout → conversion for all ads, or by ad or audience segment.'),
    h('ol', { class: 'funnel ghost', 'aria-hidden': 'true' }, STEP_SETS.video.map((s, i) => h('li', null,
      h('span', { class: 'funnel-label' }, stepLabel(s)),
      h('span', { class: 'funnel-bar' }, h('span', { class: 'bar-fill', style: { width: `${100 - i * 13}%` } })))))));
}

export default {
  title: 'Funnel',
  controls: 'dates',
  async render(ctx) {
    const { st, params } = ctx;
    if (available === false) return unavailable();
    const set = params.get('steps') === 'click' ? 'click' : 'video';
    const breakdown = BREAKDOWNS.some(([k]) => k && k === params.get('by')) ? params.get('by') : '';
    const q = new URLSearchParams({ from: st.from, to: st.to, tz: st.tz, steps: STEP_SETS[set].join(',') });
    if (st.event) q.set('event', st.event);
    if (breakdown) q.set('breakdown', breakdown);
    let res;
    try {
      [res] = await Promise.all([get('/api/v1/funnel?' + q), breakdown ? ctx.catalog() : null]);
      available = true;
    } catch (e) {
      if (available === null && e instanceof ApiError && e.status === 404 && /no route/.test(e.message)) {
        available = false;
        return unavailable();
      }
      throw e;
    }
    const cat = breakdown ? await ctx.catalog() : null;
    const names = cat && { campaign: cat.campaigns, adgroup: cat.adgroups, ad: cat.ads }[breakdown];
    const nameOf = (v) => (names?.get(v)?.name || unknownLabel(v));
    const group = params.get('group');
    const shown = breakdown && group != null ? res.groups.find((g) => g.value === group) : null;
    const labels = res.steps;
    const pickers = h('div', { class: 'chart-pick' },
      h('label', { class: 'ctl inline' }, h('span', null, 'Steps'), select([['video', 'With video view'], ['click', 'Without video view']], set, (v) => ctx.setParams({ steps: v === 'video' ? '' : v }), { id: 'funnel-steps' })),
      h('label', { class: 'ctl inline' }, h('span', null, 'Show'), select(BREAKDOWNS, breakdown, (v) => ctx.setParams({ by: v, group: '' }), { id: 'funnel-by' })));
    const chartCard = card(shown ? `Funnel: ${nameOf(shown.value)}` : 'Funnel, all ads', funnelChart(labels, (shown || res.total).steps), {
      id: 'funnel', actions: pickers,
      note: `People (identity clusters) whose first step is in the range and who took each later step in order within ${secs(res.window_ms)}${res.same_ad ? ', ad steps on the same ad' : ''}. Conversion = ${st.event ? eventLabel(st.event) + ` (${st.event})` : "each campaign's own event (its optimisation event, else its pixel's conversion events, else purchases)"}.`,
    });
    if (!breakdown) return h('div', { class: 'page-funnel' }, chartCard);
    const table = h('div', { class: 'table-wrap' }, h('table', { class: 'data', id: 'funnel-groups' },
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, BREAKDOWNS.find(([k]) => k === breakdown)[1].replace(/^By (.)/, (m, c) => c.toUpperCase())),
        labels.map((l) => h('th', { scope: 'col', class: 'num' }, stepLabel(l))), h('th', { scope: 'col', class: 'num' }, 'Overall'))),
      h('tfoot', null, h('tr', { class: `totals ${shown ? '' : 'selected'}` },
        h('td', { class: 'name' }, h('a', { href: ctx.href('funnel', { steps: params.get('steps'), by: breakdown }) }, 'All')),
        res.total.steps.map((s) => h('td', { class: 'num' }, format('int', s.count))),
        h('td', { class: 'num' }, format('pct', res.total.steps[0].count ? (100 * res.total.steps[res.total.steps.length - 1].count) / res.total.steps[0].count : null)))),
      h('tbody', null, res.groups.length ? res.groups.map((g) => h('tr', { dataset: { id: g.value }, class: g.value === group ? 'selected' : '' },
        h('td', { class: 'name' }, h('a', { href: ctx.href('funnel', { steps: params.get('steps'), by: breakdown, group: g.value }) }, nameOf(g.value)), names?.get(g.value) ? h('span', { class: 'id' }, g.value) : null),
        g.steps.map((s) => h('td', { class: 'num', dataset: { value: String(s.count) } }, format('int', s.count))),
        h('td', { class: 'num' }, format('pct', g.steps[0].count ? (100 * g.steps[g.steps.length - 1].count) / g.steps[0].count : null))))
        : h('tr', null, h('td', { colspan: labels.length + 2, class: 'empty' }, 'No data for this range.')))));
    return h('div', { class: 'page-funnel' }, chartCard, card('By segment', table, { id: 'funnel-by-segment', note: 'Click a row to see its funnel above.' }));
  },
};
