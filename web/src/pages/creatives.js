// Creatives: creative attributes (format, length, call to action) and tags (style) compared on
// CTR, watch time, CVR and ROAS, and every ad with its creative.
import { bar, card, dataTable, metricColumn, unknownLabel } from '../components.js';
import { h } from '../dom.js';
import { format } from '../format.js';
import { METRICS } from '../metrics.js';

const M = 'spend,impressions,clicks,ctr,video_plays,average_watch_ms,conversions,cvr_click,value,roas';
const COMPARE = ['ctr', 'average_watch_ms', 'cvr_click', 'roas'];
const SHORT = { ctr: 'CTR', average_watch_ms: 'Watch time', cvr_click: 'CVR', roas: 'ROAS' };
const LENGTH = { image: 'Image', short: 'Short (≤ 15 s)', long: 'Long (> 15 s)' };

function attributeTable(id, label, res, valueLabel = unknownLabel) {
  const max = Object.fromEntries(COMPARE.map((m) => [m, Math.max(0, ...res.rows.map((r) => r.metrics[m] ?? 0))]));
  const dim = res.dimensions[0];
  return h('div', { class: 'table-wrap' }, h('table', { class: 'data bars compact', id },
    h('thead', null, h('tr', null, h('th', { scope: 'col' }, label),
      COMPARE.map((m) => h('th', { scope: 'col', title: `${METRICS[m].label}${METRICS[m].help ? ': ' + METRICS[m].help : ''}` }, SHORT[m])),
      h('th', { scope: 'col', class: 'num' }, 'Impr.'))),
    h('tbody', null, res.rows.length ? res.rows.map((r) => h('tr', { dataset: { id: r.dimensions[dim] } },
      h('td', { class: 'name' }, valueLabel(r.dimensions[dim])),
      COMPARE.map((m) => h('td', { class: 'bar-cell' }, bar(r.metrics[m], max[m], METRICS[m].fmt, m))),
      h('td', { class: 'num', dataset: { metric: 'impressions', value: r.metrics.impressions } }, format('int', r.metrics.impressions))))
      : h('tr', null, h('td', { colspan: COMPARE.length + 2, class: 'empty' }, 'No data for this range.')))));
}

export default {
  title: 'Creatives',
  async render(ctx) {
    const q = (dimensions) => ctx.report({ dimensions, metrics: M, sort: '-impressions' });
    const [fmt, len, cta, tag, ads, cat] = await Promise.all([q('format'), q('length'), q('cta'), q('tag'), q('ad'), ctx.catalog()]);
    const rows = ads.rows.map((r) => {
      const ad = cat.ads.get(r.dimensions.ad);
      const c = ad?.creative || {};
      return { id: r.dimensions.ad, name: ad?.name || r.dimensions.ad, creative: c, metrics: r.metrics };
    });
    const text = (key, label, value) => ({ key, label, cell: (r) => h('td', null, value(r)), sortValue: value, csv: value });
    const columns = [
      { key: 'name', label: 'Ad', cell: (r) => h('td', { class: 'name' }, r.name, r.name !== r.id ? h('span', { class: 'id' }, r.id) : null), sortValue: (r) => r.name, csv: (r) => r.name },
      text('format', 'Format', (r) => r.creative.format || '—'),
      text('length', 'Length', (r) => (r.creative.video_ms ? `${Math.round(r.creative.video_ms / 1000)} s` : '—')),
      text('cta', 'CTA', (r) => r.creative.call_to_action || '—'),
      { key: 'tags', label: 'Tags', cell: (r) => h('td', null, (r.creative.tags || []).map((t) => h('span', { class: 'tag' }, t))), sortValue: (r) => (r.creative.tags || []).join(','), csv: (r) => (r.creative.tags || []).join('|') },
      ...['impressions', 'ctr', 'average_watch_ms', 'conversions', 'cvr_click', 'roas'].map((m) => metricColumn(m)),
    ];
    let sort = ctx.params.get('sort') || '-impressions';
    const box = h('div');
    const draw = () => box.replaceChildren(dataTable({ id: 'creative-ads', columns, rows, sort, onSort: (s) => { sort = s; ctx.setParams({ sort: s }, { replace: true }); draw(); } }));
    draw();
    return h('div', { class: 'page-creatives' },
      h('div', { class: 'grid-2' },
        card('Format', attributeTable('cr-format', 'Format', fmt), { id: 'by-format' }),
        card('Length', attributeTable('cr-length', 'Length', len, (v) => LENGTH[v] || unknownLabel(v)), { id: 'by-length' }),
        card('Call to action', attributeTable('cr-cta', 'CTA', cta), { id: 'by-cta' }),
        card('Style tags', attributeTable('cr-tag', 'Tag', tag), { id: 'by-tag', note: 'An ad with two tags counts in both rows.' })),
      card('Ads and their creatives', box, { id: 'creative-ads-card', note: 'CVR = conversions per click; ROAS = value / spend; watch time is the average per video play.' }));
  },
};
