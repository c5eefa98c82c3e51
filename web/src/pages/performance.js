// Performance: campaign -> ad group -> ad, delivery metrics beside conversion metrics, sortable,
// with a CSV of exactly the rows and columns shown.
import { card, dataTable, download, metricColumn, toCsv } from '../components.js';
import { h } from '../dom.js';

export const COLUMNS = ['spend', 'impressions', 'reach', 'frequency', 'ctr', 'view_rate_2s', 'view_rate_6s',
  'average_watch_ms', 'conversions', 'conversions_click', 'conversions_view', 'cvr_click', 'value', 'cpa', 'roas'];
const API_METRICS = ['spend', 'impressions', 'reach', 'frequency', 'clicks', 'ctr', 'video_views_2s', 'video_views_6s',
  'average_watch_ms', 'conversions', 'conversions_click', 'conversions_view', 'cvr_click', 'value', 'cpa', 'roas'];
const LEVELS = { campaign: 'Campaigns', adgroup: 'Ad groups', ad: 'Ads' };

export default {
  title: 'Performance',
  async render(ctx) {
    const { params, st } = ctx;
    const campaign = params.get('campaign') || '';
    const adgroup = params.get('adgroup') || '';
    // The level shown: drilled into an ad group -> its ads; into a campaign -> its ad groups.
    const level = adgroup ? 'ad' : campaign ? 'adgroup' : LEVELS[params.get('level')] ? params.get('level') : 'campaign';
    const filter = adgroup ? `adgroup:${adgroup}` : campaign ? `campaign:${campaign}` : '';
    const [res, cat] = await Promise.all([
      ctx.report({ dimensions: level, metrics: API_METRICS.join(','), filter, sort: '-spend' }),
      ctx.catalog(),
    ]);
    const names = { campaign: cat.campaigns, adgroup: cat.adgroups, ad: cat.ads }[level];
    const rows = res.rows.map((r) => {
      const id = r.dimensions[level];
      return { id, name: names.get(id)?.name || id, metrics: r.metrics };
    });
    const sort = params.get('sort') || '-spend';
    let currentSort = sort;  // changed in place by the column headers (the URL follows)
    const keep = () => (currentSort === '-spend' ? '' : currentSort);
    const child = level === 'campaign' ? 'campaign' : level === 'adgroup' ? 'adgroup' : null;
    const nameColumn = {
      key: 'name', label: LEVELS[level].replace(/s$/, ''), csvLabel: level === 'ad' ? 'ad' : level,
      cell: (r) => h('td', { class: 'name' },
        child
          ? h('a', { href: ctx.href('performance', { [child]: r.id, ...(child === 'adgroup' ? { campaign: campaign || cat.adgroups.get(r.id)?.campaign } : {}), sort: keep() }), title: `Show its ${child === 'campaign' ? 'ad groups' : 'ads'}` }, r.name)
          : h('span', null, r.name),
        r.name !== r.id ? h('span', { class: 'id' }, r.id) : null),
      sortValue: (r) => r.name,
      csv: (r) => r.name,
      total: () => h('td', { class: 'name' }, h('strong', null, 'Total')),
    };
    const idColumn = { key: 'id', label: 'id', csv: (r) => r.id };
    const columns = [nameColumn, ...COLUMNS.map((m) => metricColumn(m))];
    const renderTable = () => dataTable({
      id: 'perf-table', columns, rows, totals: res.totals, sort: currentSort,
      groups: [['', 1], ['Delivery', 8], ['Conversions', 7]],
      onSort: (s) => {
        currentSort = s;
        ctx.setParams({ sort: s }, { replace: true });
        tableBox.replaceChildren(renderTable());
      },
    });
    const tableBox = h('div', null, renderTable());

    // Breadcrumb and level tabs.
    const crumbs = [h('a', { href: ctx.href('performance', { sort: params.get('sort') }) }, 'All campaigns')];
    if (campaign) crumbs.push(h('span', { class: 'sep' }, '›'), adgroup
      ? h('a', { href: ctx.href('performance', { campaign, sort: params.get('sort') }) }, cat.campaigns.get(campaign)?.name || campaign)
      : h('span', null, cat.campaigns.get(campaign)?.name || campaign));
    if (adgroup) crumbs.push(h('span', { class: 'sep' }, '›'), h('span', null, cat.adgroups.get(adgroup)?.name || adgroup));
    const tabs = h('div', { class: 'tabs', role: 'tablist' }, Object.entries(LEVELS).map(([k, label]) =>
      h('a', { role: 'tab', class: !campaign && !adgroup && level === k ? 'active' : '', href: ctx.href('performance', { level: k === 'campaign' ? '' : k, sort: params.get('sort') }), 'aria-selected': String(!campaign && !adgroup && level === k) }, label)));

    const csvButton = h('button', { type: 'button', id: 'csv', class: 'secondary', onclick: () => {
      const cols = [nameColumn, idColumn, ...COLUMNS.map((m) => metricColumn(m))];
      const scope = adgroup ? `adgroup-${adgroup}` : campaign ? `campaign-${campaign}` : LEVELS[level].toLowerCase().replace(' ', '');
      download(`touchpoint-${scope}-${st.from}_${st.to}-${st.model}.csv`, toCsv(cols, rows, currentSort));
    } }, 'Download CSV');

    return h('div', { class: 'page-performance' },
      h('div', { class: 'row-between' }, h('nav', { class: 'crumbs', 'aria-label': 'Drill-down' }, crumbs), tabs),
      card(`${LEVELS[level]} (${rows.length})`, tableBox, {
        id: 'performance', actions: csvButton,
        note: 'Conv. (CTA): click-through; Conv. (VTA): view-through. CVR = conversions per click. 2 s / 6 s view rate = video views of at least 2 / 6 seconds per impression. Click a name to drill down; click a column to sort.',
      }));
  },
};
