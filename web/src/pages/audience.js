// Audience: conversions and CVR by age x gender (heat maps), and by region, placement and OS.
import { bar, card, unknownLabel } from '../components.js';
import { h } from '../dom.js';
import { DASH, format } from '../format.js';
import { AGES, GENDERS, METRICS } from '../metrics.js';

const M = 'impressions,clicks,conversions,cvr_click,spend,value';

function heatmap(id, res, metric) {
  const cells = new Map(res.rows.map((r) => [`${r.dimensions.age}|${r.dimensions.gender}`, r.metrics]));
  const ages = [...AGES];
  const genders = [...GENDERS];
  for (const r of res.rows) {
    if (!ages.includes(r.dimensions.age)) ages.push(r.dimensions.age);
    if (!genders.includes(r.dimensions.gender)) genders.push(r.dimensions.gender);
  }
  const max = Math.max(0, ...res.rows.map((r) => r.metrics[metric] ?? 0));
  const kind = METRICS[metric].fmt;
  return h('div', { class: 'table-wrap' }, h('table', { class: 'heat', id },
    h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Age'), genders.map((g) => h('th', { scope: 'col' }, unknownLabel(g))))),
    h('tbody', null, ages.map((a) => h('tr', null, h('th', { scope: 'row' }, unknownLabel(a)), genders.map((g) => {
      const m = cells.get(`${a}|${g}`);
      const v = m ? m[metric] ?? null : null;
      const t = v == null || !max ? 0 : v / max;
      return h('td', {
        class: 'num', title: m ? `${unknownLabel(a)} ${unknownLabel(g)}: ${format(kind, v)} (${format('int', m.impressions)} impressions, ${format('int', m.clicks)} clicks)` : 'no impressions',
        dataset: { age: a, gender: g, metric, value: v == null ? '' : String(v) },
        style: { background: v == null ? '#f9fafb' : `rgba(21, 94, 239, ${(0.06 + t * 0.84).toFixed(3)})`, color: t > 0.55 ? '#fff' : '' },
      }, v == null ? DASH : format(kind, v));
    }))))));
}

function breakdown(id, dim, res) {
  const max = Math.max(0, ...res.rows.map((r) => r.metrics.conversions ?? 0));
  return h('div', { class: 'table-wrap' }, h('table', { class: 'data bars', id: `aud-${id}` },
    h('thead', null, h('tr', null, h('th', { scope: 'col' }, dim), h('th', { scope: 'col' }, 'Conversions'), h('th', { scope: 'col', class: 'num' }, 'CVR'), h('th', { scope: 'col', class: 'num' }, 'Impressions'))),
    h('tbody', null, res.rows.length ? res.rows.map((r) => h('tr', { dataset: { id: r.dimensions[id] } },
      h('td', { class: 'name' }, unknownLabel(r.dimensions[id])),
      h('td', { class: 'bar-cell' }, bar(r.metrics.conversions, max, 'conv', 'conversions')),
      h('td', { class: 'num', dataset: { metric: 'cvr_click', value: r.metrics.cvr_click ?? '' } }, format('pct', r.metrics.cvr_click)),
      h('td', { class: 'num', dataset: { metric: 'impressions', value: r.metrics.impressions ?? '' } }, format('int', r.metrics.impressions))))
      : h('tr', null, h('td', { colspan: 4, class: 'empty' }, 'No data for this range.')))));
}

export default {
  title: 'Audience',
  async render(ctx) {
    const top = { metrics: M, sort: '-conversions', limit: 12 };
    const [ageGender, region, placement, os] = await Promise.all([
      ctx.report({ dimensions: 'age,gender', metrics: M }),
      ctx.report({ dimensions: 'region', ...top }),
      ctx.report({ dimensions: 'placement', ...top }),
      ctx.report({ dimensions: 'os', ...top }),
    ]);
    const more = (res) => (res.total_rows > res.rows.length ? `Top ${res.rows.length} of ${res.total_rows} by conversions.` : null);
    return h('div', { class: 'page-audience' },
      h('div', { class: 'grid-2' },
        card('Conversions by age and gender', heatmap('heat-conversions', ageGender, 'conversions'), { id: 'heat-conv' }),
        card('CVR by age and gender', heatmap('heat-cvr', ageGender, 'cvr_click'), { id: 'heat-cvr-card', note: 'CVR = conversions per click. Audience attributes come from the ad events (impressions, plays, clicks).' })),
      h('div', { class: 'grid-3' },
        card('Region', breakdown('region', 'Region', region), { id: 'by-region', note: more(region) }),
        card('Placement', breakdown('placement', 'Placement', placement), { id: 'by-placement', note: more(placement) }),
        card('OS', breakdown('os', 'OS', os), { id: 'by-os', note: more(os) })));
  },
};
