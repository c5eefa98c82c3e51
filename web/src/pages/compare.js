// Compare models: each ad's conversions under every attribution model (the rule-based ones and the
// data-driven markov and shapley, learning over ads), side by side, with the windows and time
// basis of the controls.
import { card, dataTable, metricCell } from '../components.js';
import { h, select } from '../dom.js';
import { MODELS, METRICS } from '../metrics.js';

export default {
  title: 'Compare models',
  async render(ctx) {
    const { st, params } = ctx;
    const metric = params.get('metric') === 'value' ? 'value' : 'conversions';
    const [cat, ...results] = await Promise.all([
      ctx.catalog(),
      ...MODELS.map(([model]) => ctx.report({ dimensions: 'ad', metrics: 'conversions,conversions_click,conversions_view,value', model })),
    ]);
    const byModel = Object.fromEntries(MODELS.map(([m], i) => [m, new Map(results[i].rows.map((r) => [r.dimensions.ad, r.metrics]))]));
    const ids = new Set();
    for (const r of results) for (const row of r.rows) ids.add(row.dimensions.ad);
    const rows = [...ids].map((id) => {
      const ad = cat.ads.get(id);
      return { id, name: ad?.name || id, campaign: ad ? cat.campaigns.get(ad.campaign)?.name || ad.campaign : '', models: Object.fromEntries(MODELS.map(([m]) => [m, byModel[m].get(id) || null])) };
    });
    const columns = [
      { key: 'name', label: 'Ad', cell: (r) => h('td', { class: 'name' }, r.name, r.name !== r.id ? h('span', { class: 'id' }, r.id) : null), sortValue: (r) => r.name, csv: (r) => r.name,
        total: () => h('td', { class: 'name' }, h('strong', null, 'Total')) },
      { key: 'campaign', label: 'Campaign', cell: (r) => h('td', null, r.campaign), sortValue: (r) => r.campaign, csv: (r) => r.campaign },
      ...MODELS.map(([m, label]) => ({
        key: m, label, numeric: true, headClass: m === st.model ? 'current' : '',
        cell: (r) => {
          const td = metricCell(r.models[m], metric, m === st.model ? 'current' : '');
          td.dataset.model = m;
          return td;
        },
        sortValue: (r) => r.models[m]?.[metric] ?? null,
        csv: (r) => r.models[m]?.[metric] ?? '',
        total: (t) => {
          const td = metricCell(results[MODELS.findIndex(([k]) => k === m)].totals, metric, m === st.model ? 'current' : '');
          td.dataset.model = m;
          return td;
        },
      })),
    ];
    let sort = params.get('sort') || '-' + st.model;
    const box = h('div');
    const draw = () => box.replaceChildren(dataTable({ id: 'compare-table', columns, rows, totals: {}, sort, onSort: (s) => { sort = s; ctx.setParams({ sort: s }, { replace: true }); draw(); } }));
    draw();
    const un = Object.fromEntries(MODELS.map(([m], i) => [m, results[i].unattributed_conversions]));
    return h('div', { class: 'page-compare' },
      card(`${METRICS[metric].label} by ad under each model`, box, {
        id: 'compare',
        actions: h('label', { class: 'ctl inline' }, h('span', null, 'Show'), select([['conversions', 'Conversions'], ['value', 'Value']], metric, (v) => ctx.setParams({ metric: v === 'conversions' ? '' : v }), { id: 'compare-metric' })),
        note: `The same windows and time basis for every column; the highlighted one is the model chosen above. Each model shares every attributed conversion out in full; totals still differ when, counting by ad time, the touch a model credits falls outside the date range. Markov and Shapley learn from all the journeys, by ad here: Markov credits each ad's removal effect in the chain of journeys (converting or not), Shapley splits each conversion equally between the distinct ads of its journey. ${un[st.model] > 0 ? `${un[st.model]} conversion(s) had no ad touch within the windows.` : ''}`,
      }));
  },
};
