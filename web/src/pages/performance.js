// Performance: campaign -> ad group -> ad, delivery metrics beside conversion metrics, sortable,
// with a CSV of exactly the rows and columns shown.
import { card, dataTable, download, metricColumn, toCsv } from '../components.js';
import { h } from '../dom.js';
import { format } from '../format.js';
import { eventLabel } from '../metrics.js';

// Events that can be shown side by side (event_columns=), as columns after the table's own.
export const SIDE_EVENTS = [['CompletePayment', 'Purchases'], ['SubmitForm', 'Form submissions'],
  ['CompleteRegistration', 'Registrations'], ['AddToCart', 'Add to cart']];

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
    // Events side by side: ?cols=CompletePayment,SubmitForm (each counted for every campaign).
    const cols = (params.get('cols') || '').split(',').filter((e) => SIDE_EVENTS.some(([k]) => k === e));
    const highlight = params.get('highlight') || '';
    const [res, cat] = await Promise.all([
      ctx.report({ dimensions: level, metrics: API_METRICS.join(','), filter, sort: '-spend',
        flags: level === 'campaign' ? '' : 'cvr', event_columns: cols.join(',') }),
      ctx.catalog(),
    ]);
    const names = { campaign: cat.campaigns, adgroup: cat.adgroups, ad: cat.ads }[level];
    const rows = res.rows.map((r) => {
      const id = r.dimensions[level];
      return { id, name: names.get(id)?.name || id, metrics: r.metrics, byEvent: r.by_event || {}, flag: r.cvr_flag || null };
    });
    const flagged = rows.filter((r) => r.flag?.below_campaign).length;
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
    // The flag: CVR significantly below the rest of the row's campaign (FDR-controlled).
    const plainCell = nameColumn.cell;
    nameColumn.cell = (r) => {
      const td = plainCell(r);
      if (r.flag?.below_campaign) {
        td.append(h('span', { class: 'badge rejected flag-cvr', dataset: { flag: 'cvr-low' },
          title: `CVR ${format('pct', r.metrics.cvr_click)} against ${format('pct', r.flag.rest_cvr_click)} for the rest of its campaign (adjusted p = ${r.flag.p_adjusted.toPrecision(2)}, false discovery rate 5%)` },
        'CVR below campaign'));
      }
      return td;
    };
    const flagColumn = { key: 'cvr_flag', label: 'CVR below campaign', csv: (r) => (r.flag?.below_campaign ? 'yes' : '') };
    const eventColumns = cols.flatMap((e) => [
      { key: `conv:${e}`, label: `${eventLabel(e)}`, title: `${e}: conversions, counted for every campaign`, numeric: true,
        cell: (r) => h('td', { class: 'num', dataset: { metric: `conversions:${e}`, value: String(r.byEvent[e]?.conversions ?? 0) } }, format('conv', r.byEvent[e]?.conversions ?? 0)),
        sortValue: (r) => r.byEvent[e]?.conversions ?? 0, csv: (r) => r.byEvent[e]?.conversions ?? 0, csvLabel: `conversions:${e}`,
        total: () => h('td', { class: 'num' }, format('conv', res.totals_by_event?.[e]?.conversions ?? 0)) },
      { key: `value:${e}`, label: `${eventLabel(e)} value`, numeric: true,
        cell: (r) => h('td', { class: 'num', dataset: { metric: `value:${e}`, value: String(r.byEvent[e]?.value ?? 0) } }, format('money', r.byEvent[e]?.value ?? 0)),
        sortValue: (r) => r.byEvent[e]?.value ?? 0, csv: (r) => r.byEvent[e]?.value ?? 0, csvLabel: `value:${e}`,
        total: () => h('td', { class: 'num' }, format('money', res.totals_by_event?.[e]?.value ?? 0)) },
    ]);
    const idColumn = { key: 'id', label: 'id', csv: (r) => r.id };
    const columns = [nameColumn, ...COLUMNS.map((m) => metricColumn(m)), ...eventColumns];
    const renderTable = () => {
      const t = dataTable({
      id: 'perf-table', columns, rows, totals: res.totals, sort: currentSort,
      groups: [['', 1], ['Delivery', 8], ['Conversions', 7], ...(cols.length ? [['Events side by side', eventColumns.length]] : [])],
      onSort: (s) => {
        currentSort = s;
        ctx.setParams({ sort: s }, { replace: true });
        tableBox.replaceChildren(renderTable());
      },
      });
      for (const tr of t.querySelectorAll('tbody tr')) {
        const r = rows.find((x) => x.id === tr.dataset.id);
        if (r?.flag?.below_campaign) tr.classList.add('flagged');
        if (highlight && tr.dataset.id === highlight) tr.classList.add('highlight');
      }
      return t;
    };
    const tableBox = h('div', null, renderTable());
    if (highlight) requestAnimationFrame(() => tableBox.querySelector('tr.highlight')?.scrollIntoView({ block: 'center' }));
    const colPicker = h('details', { class: 'side-events', id: 'side-events' },
      h('summary', null, cols.length ? `Events side by side (${cols.length})` : 'Events side by side'),
      h('div', { class: 'side-events-list' }, SIDE_EVENTS.map(([e, label]) => h('label', { class: 'ctl inline' },
        h('input', { type: 'checkbox', value: e, checked: cols.includes(e), dataset: { event: e },
          onchange: (ev) => {
            const next = ev.target.checked ? [...cols, e] : cols.filter((x) => x !== e);
            ctx.setParams({ cols: SIDE_EVENTS.map(([k]) => k).filter((k) => next.includes(k)).join(',') });
          } }), label))));

    // Breadcrumb and level tabs.
    const crumbs = [h('a', { href: ctx.href('performance', { sort: params.get('sort') }) }, 'All campaigns')];
    if (campaign) crumbs.push(h('span', { class: 'sep' }, '›'), adgroup
      ? h('a', { href: ctx.href('performance', { campaign, sort: params.get('sort') }) }, cat.campaigns.get(campaign)?.name || campaign)
      : h('span', null, cat.campaigns.get(campaign)?.name || campaign));
    if (adgroup) crumbs.push(h('span', { class: 'sep' }, '›'), h('span', null, cat.adgroups.get(adgroup)?.name || adgroup));
    const tabs = h('div', { class: 'tabs', role: 'tablist' }, Object.entries(LEVELS).map(([k, label]) =>
      h('a', { role: 'tab', class: !campaign && !adgroup && level === k ? 'active' : '', href: ctx.href('performance', { level: k === 'campaign' ? '' : k, sort: params.get('sort') }), 'aria-selected': String(!campaign && !adgroup && level === k) }, label)));

    const csvButton = h('button', { type: 'button', id: 'csv', class: 'secondary', onclick: () => {
      const csvCols = [nameColumn, idColumn, ...COLUMNS.map((m) => metricColumn(m)), ...eventColumns, ...(level === 'campaign' ? [] : [flagColumn])];
      const scope = adgroup ? `adgroup-${adgroup}` : campaign ? `campaign-${campaign}` : LEVELS[level].toLowerCase().replace(' ', '');
      download(`touchpoint-${scope}-${st.from}_${st.to}-${st.model}.csv`, toCsv(csvCols, rows, currentSort));
    } }, 'Download CSV');

    return h('div', { class: 'page-performance' },
      h('div', { class: 'row-between' }, h('nav', { class: 'crumbs', 'aria-label': 'Drill-down' }, crumbs), tabs),
      card(`${LEVELS[level]} (${rows.length})`, tableBox, {
        id: 'performance', actions: h('div', { class: 'card-actions' }, colPicker, csvButton),
        note: `Conversions: ${st.event ? eventLabel(st.event) + ` (${st.event})` : "each campaign's own event (its optimisation event, else its pixel's conversion events, else purchases)"}. Conv. (CTA): click-through; Conv. (VTA): view-through. CVR = conversions per click. 2 s / 6 s view rate = video views of at least 2 / 6 seconds per impression. Click a name to drill down; click a column to sort.` +
          (res.cvr_flags ? ` "CVR below campaign": click-through CVR significantly below the rest of its campaign's (${res.cvr_flags.comparisons} rows compared, false discovery rate 5%; ${flagged} flagged).` : ''),
      }));
  },
};
