// Overview: the headline numbers for the range, their change against the previous period, and
// a daily chart of two switchable metrics.
import { timeSeries } from '../chart.js';
import { card } from '../components.js';
import { h, select } from '../dom.js';
import { change, format, formatChange } from '../format.js';
import { METRICS, modelLabel } from '../metrics.js';
import { addDays, daysBetween, previousPeriod } from '../state.js';
import { findingItem, insightsRange, INSIGHTS_DAYS, noFindings } from './insights.js';

const KPIS = ['spend', 'impressions', 'reach', 'clicks', 'conversions', 'value', 'cpa', 'roas'];
const CHARTABLE = ['conversions', 'spend', 'value', 'impressions', 'reach', 'clicks', 'ctr', 'cvr_click', 'cpa', 'roas',
  'video_plays', 'average_watch_ms'];

function kpiCard(name, cur, prev, prevRange) {
  const def = METRICS[name];
  const v = cur[name] ?? null;
  const p = prev[name] ?? null;
  const pct = change(v, p);
  const good = pct == null || Math.abs(pct) < 0.05 ? '' : (pct > 0) !== !!def.lowerIsBetter ? 'up' : 'down';
  return h('div', { class: 'kpi', dataset: { metric: name, value: v == null ? '' : String(v), previous: p == null ? '' : String(p) } },
    h('div', { class: 'kpi-label' }, def.label),
    h('div', { class: 'kpi-value' }, format(def.fmt, v)),
    h('div', { class: `kpi-change ${good}`, title: `${prevRange.from} – ${prevRange.to}: ${format(def.fmt, p)}` },
      h('span', { class: 'delta', dataset: { change: pct == null ? '' : pct.toFixed(4) } }, formatChange(pct)),
      h('span', { class: 'muted' }, ` vs ${format(def.fmt, p)}`)));
}

export default {
  title: 'Overview',
  async render(ctx) {
    const { st, params } = ctx;
    const prevRange = previousPeriod(st);
    const [cur, prev, daily, found, cat] = await Promise.all([
      ctx.report({ metrics: KPIS.join(',') }),
      ctx.report({ metrics: KPIS.join(','), from: prevRange.from, to: prevRange.to }),
      ctx.report({ dimensions: 'day', metrics: CHARTABLE.join(','), sort: 'day' }),
      ctx.insights({ limit: 3, ...insightsRange(st, params) }).catch(() => null),  // left out if they fail
      ctx.catalog().catch(() => null),
    ]);
    const days = [];
    for (let d = st.from; d <= st.to; d = addDays(d, 1)) days.push(d);
    const byDay = new Map(daily.rows.map((r) => [r.dimensions.day, r.metrics]));

    const left = CHARTABLE.includes(params.get('left')) ? params.get('left') : 'conversions';
    const right = params.get('right') === 'none' ? 'none' : CHARTABLE.includes(params.get('right')) ? params.get('right') : 'spend';
    const chartBox = h('div', { class: 'chart', id: 'overview-chart' });
    let destroy = null;
    const draw = (l, r) => {
      if (destroy) destroy();
      chartBox.replaceChildren();
      const names = r === 'none' || r === l ? [l] : [l, r];
      destroy = timeSeries(chartBox, days, names.map((name) => ({
        name, values: days.map((d) => (byDay.has(d) ? byDay.get(d)[name] ?? null : ['ctr', 'cvr_click', 'cpa', 'roas', 'average_watch_ms'].includes(name) ? null : 0)),
      })));
    };
    let l = left, r = right;
    const options = CHARTABLE.map((m) => [m, METRICS[m].label]);
    const pick = h('div', { class: 'chart-pick' },
      h('label', { class: 'ctl inline' }, h('span', { class: 'swatch s0' }), select(options, l, (v) => { l = v; ctx.setParams({ left: v }, { replace: true }); draw(l, r); }, { id: 'chart-left', 'aria-label': 'Left axis metric' })),
      h('label', { class: 'ctl inline' }, h('span', { class: 'swatch s1' }), select([['none', 'None'], ...options], r, (v) => { r = v; ctx.setParams({ right: v }, { replace: true }); draw(l, r); }, { id: 'chart-right', 'aria-label': 'Right axis metric' })));
    // Drawn once the node is in the page (uPlot measures its container).
    requestAnimationFrame(() => { if (ctx.current()) draw(l, r); });
    ctx.onCleanup(() => destroy && destroy());

    const len = daysBetween(st.from, st.to) + 1;
    const un = cur.unattributed_conversions;
    return h('div', { class: 'page-overview' },
      h('p', { class: 'lede' }, `${st.from} – ${st.to} (${len} day${len > 1 ? 's' : ''}), ${modelLabel(st.model)} attribution, compared with ${prevRange.from} – ${prevRange.to}.`),
      h('div', { class: 'kpis', id: 'kpis' }, KPIS.map((k) => kpiCard(k, cur.totals, prev.totals, prevRange))),
      card('By day', chartBox, { id: 'by-day', actions: pick,
        note: un > 0 ? `${format('conv', un)} conversion${un === 1 ? '' : 's'} in this range had no ad touch within the attribution windows.` : null }),
      found && card('Top insights', found.findings.length
        ? h('ol', { class: 'findings', id: 'overview-findings' }, found.findings.map((f) => findingItem(ctx, f, cat, { compact: true, range: insightsRange(st, params) })))
        : noFindings(found), { id: 'overview-insights',
        actions: h('a', { href: ctx.href('insights', params.get('from') || params.get('to') ? {} : insightsRange(st, params)), id: 'all-insights' }, found.total_findings > found.findings.length ? `All ${found.total_findings} findings` : 'Insights'),
        note: `${params.get('from') || params.get('to') ? '' : `Over the last ${INSIGHTS_DAYS} days. `}Ranked by money at stake. Click through for the size, interval, sample and the rows each is about.` }));
  },
};
