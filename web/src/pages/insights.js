// Insights: the findings of GET /api/v1/insights (docs/insights.md), ranked by money at stake —
// the spend a gap in conversions per dollar stands for — each with its size, interval, sample,
// what to do, and links to the rows it is about. The same list, shortened, is a panel on the
// Overview (findingList below).
import { card, emptyState } from '../components.js';
import { h } from '../dom.js';
import { format } from '../format.js';
import { eventLabel } from '../metrics.js';
import { addDays } from '../state.js';

// Insights need more data than a table: without a chosen range they cover the last 28 days
// (the table pages default to 14), and their links carry that range along.
export const INSIGHTS_DAYS = 28;
export function insightsRange(st, params) {
  if (params.get('from') || params.get('to')) return { from: st.from, to: st.to };
  return { from: addDays(st.to, -(INSIGHTS_DAYS - 1)), to: st.to };
}

const METRIC_LABEL = { cvr_click: 'conversions per click', ctr: 'CTR', hook_rate: '2 s views per impression',
  completion_rate: 'completion rate', watch_half_rate: 'half-watched rate', conversions: 'conversions' };
const SAMPLE_LABEL = { clicks: 'clicks', impressions: 'impressions', trials: 'in the group', rest_trials: 'in the rest',
  rest_clicks: 'clicks in the rest' };
const times = (v) => (v == null ? '—' : v < 0.095 ? `${v.toFixed(2)}×` : `${v.toFixed(1)}×`);

// Links to the table rows a finding is about.
export function findingLinks(ctx, f, cat, range = {}) {
  const e = f.entity || {};
  const links = [];
  const href = (page, extra = {}) => ctx.href(page, { ...extra, ...range });
  if (e.ad) {
    const ad = cat?.ads.get(e.ad);
    const campaign = e.campaign || ad?.campaign;
    const adgroup = e.adgroup || ad?.adgroup;
    links.push(h('a', { class: 'finding-link', dataset: { ad: e.ad },
      href: href('performance', campaign && adgroup ? { campaign, adgroup, highlight: e.ad } : { level: 'ad', highlight: e.ad }) },
    `Ad ${ad?.name || e.ad} in Performance`));
  }
  if (e.campaign && !e.ad) links.push(h('a', { href: href('performance', { campaign: e.campaign }) }, 'Its campaign in Performance'));
  for (const dim of ['age', 'gender', 'region', 'country', 'placement', 'os', 'age_gender']) {
    if (e[dim] && !(dim === 'age' && (e.tag || e.length || e.format || e.cta))) links.push(h('a', { href: href('audience') }, 'Audience breakdown'));
  }
  if (e.tag || e.length || e.format || e.cta) links.push(h('a', { href: href('creatives') }, 'Creatives'));
  return links.filter((l, i) => links.findIndex((m) => m.textContent === l.textContent) === i);
}

function sample(f) {
  const s = f.sample || {};
  const parts = Object.entries(s).filter(([k]) => k !== 'spend').map(([k, v]) => `${format('int', v)} ${SAMPLE_LABEL[k] || k}`);
  if (s.spend != null) parts.push(`spend ${format('money', s.spend)}`);
  return parts.join(', ');
}

export function findingItem(ctx, f, cat, { compact = false, range = {} } = {}) {
  const headline = f.action ? f.title.slice(0, f.title.length - f.action.length - 2) : f.title;
  return h('li', { class: 'finding', dataset: { rank: String(f.rank), kind: f.kind, ad: f.entity?.ad || '', money: String(f.money_at_stake) } },
    h('div', { class: 'finding-head' },
      h('div', null, h('span', { class: 'finding-rank' }, `${f.rank}.`), h('span', { class: 'finding-title' }, headline)),
      h('span', { class: 'finding-stake', title: 'Money at stake: the spend that the gap in conversions per dollar stands for (0 when that gap is within chance)' },
        `${format('money', f.money_at_stake)} at stake`)),
    f.action ? h('p', { class: 'finding-action' }, h('b', null, 'What to do: '), f.action) : null,
    h('div', { class: 'finding-facts' },
      h('span', null, h('b', null, 'Size: '), `${times(f.effect.value)} ${METRIC_LABEL[f.metric] || f.metric}`),
      h('span', null, h('b', null, 'Interval: '), `95% ${times(f.effect.ci_low)} to ${times(f.effect.ci_high)}`),
      compact ? null : h('span', null, h('b', null, 'Sample: '), sample(f)),
      compact ? null : h('span', null, h('b', null, 'Adjusted p: '), f.p_adjusted < 0.001 ? f.p_adjusted.toExponential(1) : f.p_adjusted.toFixed(3))),
    compact ? null : h('p', { class: 'finding-detail' }, f.detail),
    h('div', { class: 'finding-links' }, findingLinks(ctx, f, cat, range)));
}

export function noFindings(res) {
  return h('div', { class: 'empty-state', id: 'no-findings' }, h('h2', null, 'No findings'),
    h('p', null, `${format('int', res.comparisons)} comparisons were made at a false discovery rate of ${format('int', 100 * res.fdr)}%; ` +
      `none differs by more than chance and the ${res.min_ratio}× minimum effect allow.`));
}

export default {
  title: 'Insights',
  async render(ctx) {
    const { st, params } = ctx;
    const range = insightsRange(st, params);
    const [res, cat] = await Promise.all([ctx.insights(range), ctx.catalog()]);
    const judged = st.event ? `${eventLabel(st.event)} (${st.event})` : "each campaign's own conversion event";
    const lede = h('p', { class: 'lede', id: 'insights-summary', dataset: { comparisons: String(res.comparisons), findings: String(res.total_findings), from: range.from, to: range.to } },
      `${range.from} – ${range.to}${params.get('from') || params.get('to') ? '' : ` (the last ${INSIGHTS_DAYS} days: insights need more data than a table)`}, judged on ${judged}. ${format('int', res.comparisons)} comparisons at a false discovery rate of ${format('int', 100 * res.fdr)}%: ` +
      `${res.total_findings} finding${res.total_findings === 1 ? '' : 's'}, ranked by money at stake.`);
    const body = res.findings.length
      ? h('ol', { class: 'findings', id: 'findings' }, res.findings.map((f) => findingItem(ctx, f, cat, { range })))
      : noFindings(res);
    return h('div', { class: 'page-insights' }, lede,
      card('Findings', body, { id: 'insights',
        note: 'Money at stake: the spend that a gap in conversions after a click per dollar stands for, at the end of its 95% interval nearest no gap — findings about attention (watch time, clicks) that do not move conversions per dollar have none. Size is the ratio of the rates compared; the interval is its 95% interval.' }));
  },
};
