// Lift: did the ads cause conversions? The lift studies of GET /api/v1/lift (test cell shown the
// ads, control cell held out; docs/metrics.md#lift-studies): conversion rate per cell, the lift
// with its 95% interval drawn against "no effect", incremental conversions, value and iROAS, a
// verdict in words, and a planner for the next study.
import { card, emptyState } from '../components.js';
import { get } from '../api.js';
import { h, select } from '../dom.js';
import { format } from '../format.js';

const pct = (v) => (v == null ? '—' : `${(100 * v).toFixed(1)}%`);
const signed = (v) => (v == null ? '—' : `${v > 0 ? '+' : ''}${(100 * v).toFixed(1)}%`);
const pval = (p) => (p < 0.0001 ? '< 0.0001' : `= ${p.toFixed(4)}`);
const num = (v, d = 1) => (v == null ? '—' : v.toFixed(d));

// The lift's 95% interval on an axis that always shows 0 (no effect); an open end runs to the
// edge. (Positions through the style object: the page's CSP refuses inline style attributes.)
function intervalChart(est) {
  const lo = est.ci95_low, hi = est.ci95_high, v = est.value;
  const finite = [0, v, lo, hi].filter((x) => x != null && Number.isFinite(x));
  let min = Math.min(...finite), max = Math.max(...finite);
  const pad = (max - min) * 0.1 || 0.1;
  min -= pad;
  max += pad;
  const x = (t) => `${(100 * (t - min)) / (max - min)}%`;
  const left = lo == null ? 0 : (lo - min) / (max - min);
  const right = hi == null ? 1 : (hi - min) / (max - min);
  return h('div', { class: 'lift-chart', id: 'lift-chart', role: 'img',
    'aria-label': `Lift ${signed(v)}, 95% interval ${signed(lo)} to ${signed(hi)}` },
  h('div', { class: 'lift-axis' }),
  h('div', { class: 'lift-zero', style: { left: x(0) } }, h('span', null, 'no effect')),
  h('div', { class: `lift-ci${lo != null && lo > 0 ? ' positive' : hi != null && hi < 0 ? ' negative' : ''}`,
    style: { left: `${100 * left}%`, width: `${100 * (right - left)}%` } }),
  h('div', { class: 'lift-point', style: { left: x(v) } }, h('span', null, signed(v))));
}

function verdict(res) {
  if (!res.lift) return res.note || 'No verdict yet.';
  if (res.p_value < 0.05 && res.lift.value > 0)
    return `The ads caused conversions: the test cell converts ${signed(res.lift.value)} more than the control cell, beyond chance (p ${pval(res.p_value)}).`;
  if (res.p_value < 0.05)
    return `The test cell converts less than the control cell, beyond chance (p ${pval(res.p_value)}).`;
  return `No difference beyond chance yet (p = ${res.p_value.toFixed(2)}): the interval still includes no effect. A larger or longer study narrows it — see the planner below.`;
}

function studyView(res) {
  const cellRow = (name, c) => h('tr', { dataset: { cell: name } },
    h('td', { class: 'name' }, name),
    h('td', { class: 'num' }, format('int', c.people)),
    h('td', { class: 'num' }, format('int', c.converters)),
    h('td', { class: 'num' }, pct(c.conversion_rate)),
    h('td', { class: 'num' }, `${pct(c.conversion_rate_ci95_low)} – ${pct(c.conversion_rate_ci95_high)}`),
    h('td', { class: 'num' }, format('money', c.value)));
  const table = h('table', { class: 'data', id: 'lift-cells' },
    h('thead', null, h('tr', null, ['Cell', 'People', 'Converters', 'Conversion rate', '95% interval', 'Value']
      .map((t, i) => h('th', { class: i ? 'num' : '' }, t)))),
    h('tbody', null, cellRow('test', res.test), cellRow('control', res.control)));
  const facts = h('dl', { class: 'lift-facts', id: 'lift-facts' },
    h('dt', null, 'Lift'), h('dd', { dataset: { value: String(res.lift?.value ?? '') } },
      res.lift ? `${signed(res.lift.value)} (95% ${signed(res.lift.ci95_low)} to ${signed(res.lift.ci95_high)})` : '—'),
    h('dt', null, 'p-value'), h('dd', null, pval(res.p_value).replace('= ', '')),
    h('dt', null, 'Incremental conversions'), h('dd', null,
      `${num(res.incremental_conversions.value)} (${num(res.incremental_conversions.ci95_low)} to ${num(res.incremental_conversions.ci95_high)})`),
    h('dt', null, 'Incremental value'), h('dd', null,
      `${format('money', res.incremental_value.value)} (${format('money', res.incremental_value.ci95_low)} to ${format('money', res.incremental_value.ci95_high)})`),
    h('dt', null, 'iROAS'), h('dd', null, res.iroas
      ? `${num(res.iroas.value, 2)} (${num(res.iroas.ci95_low, 2)} to ${num(res.iroas.ci95_high, 2)}) on ${format('money', res.spend)} spend`
      : 'no spend imported for the study\'s ads'));
  const left = res.people_in_both_cells + res.test.unmatchable_people + res.control.unmatchable_people;
  return [
    h('p', { class: 'lift-verdict', id: 'lift-verdict' }, verdict(res)),
    res.lift ? intervalChart(res.lift) : null,
    table, facts,
    left ? h('p', { class: 'note' }, `Left out: ${res.people_in_both_cells} people in both cells, ${res.test.unmatchable_people + res.control.unmatchable_people} without an email or phone to match conversions by.`) : null,
  ];
}

function planner() {
  const out = h('p', { class: 'note', id: 'plan-result' });
  const input = (id, label, value) => h('label', { class: 'ctl' }, h('span', null, label),
    h('input', { id, type: 'number', step: 'any', value }));
  const form = h('form', { class: 'lift-plan', id: 'lift-plan' },
    input('plan-baseline', 'Control conversion rate', '0.02'),
    input('plan-lift', 'Smallest lift to detect', '0.1'),
    input('plan-per-day', 'People entering a day', '5000'),
    h('button', { type: 'submit' }, 'Plan'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams({ baseline_rate: form.querySelector('#plan-baseline').value,
      min_lift: form.querySelector('#plan-lift').value });
    const perDay = form.querySelector('#plan-per-day').value;
    if (perDay) q.set('people_per_day', perDay);
    try {
      const p = await get('/api/v1/lift/plan?' + q);
      out.textContent = `${format('int', p.test_people)} people in the test cell and ${format('int', p.control_people)} in the control cell` +
        (p.days != null ? `: about ${p.days} day${p.days === 1 ? '' : 's'}` : '') + ` (80% power at 5% significance).`;
    } catch (e) {
      out.textContent = e.message;
    }
  });
  return h('div', null, form, out);
}

export default {
  title: 'Lift',
  controls: false,
  async render(ctx) {
    const { params } = ctx;
    const list = await get('/api/v1/lift');
    const studies = list.studies;
    const plan = card('Plan a study', planner(), { id: 'lift-planner',
      note: 'People per cell for a two-sided test at 5% with 80% power, half of the people held out.' });
    if (!studies.length)
      return h('div', { class: 'page-lift' }, card('Lift studies', emptyState('No lift study yet',
        'An ad server that holds out a random control group tags ad events with study_id and cell (test or control), and logs the impressions control people would have seen as ghost impressions. Then this page says whether the ads caused conversions.'), { id: 'lift' }), plan);
    const chosen = studies.some((s) => s.study === params.get('study')) ? params.get('study') : studies[0].study;
    const res = await get('/api/v1/lift?study=' + encodeURIComponent(chosen));
    const picker = h('label', { class: 'ctl inline' }, h('span', null, 'Study'),
      select(studies.map((s) => [s.study, s.study]), chosen, (v) => ctx.setParams({ study: v }), { id: 'lift-study' }));
    return h('div', { class: 'page-lift' },
      card(`Study ${chosen}: ${res.events.join(', ')}`, studyView(res), { id: 'lift', actions: picker,
        note: 'People enter at their first study event; conversions count from then on, matched by hashed email or phone in both cells alike (not by click id: only the test cell has clicks).' }),
      plan);
  },
};
