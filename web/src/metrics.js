// The metrics the dashboard shows: API names (docs/metrics.md) and a few rates derived here.
export const METRICS = {
  spend: { label: 'Spend', fmt: 'money' },
  impressions: { label: 'Impressions', short: 'Impr.', fmt: 'int' },
  reach: { label: 'Reach', fmt: 'int' },
  frequency: { label: 'Frequency', short: 'Freq.', fmt: 'dec', help: 'impressions per person reached' },
  clicks: { label: 'Clicks', fmt: 'int' },
  ctr: { label: 'CTR', fmt: 'pct' },
  cpc: { label: 'CPC', fmt: 'money', lowerIsBetter: true },
  cpm: { label: 'CPM', fmt: 'money', lowerIsBetter: true },
  video_plays: { label: 'Video plays', fmt: 'int' },
  video_views_2s: { label: '2 s views', fmt: 'int' },
  video_views_6s: { label: '6 s views', fmt: 'int' },
  view_rate_2s: { label: '2 s view rate', short: '2 s rate', fmt: 'pct', needs: ['video_views_2s', 'impressions'],
    derive: (m) => (m.impressions ? (100 * m.video_views_2s) / m.impressions : null),
    help: '2-second video views per impression' },
  view_rate_6s: { label: '6 s view rate', short: '6 s rate', fmt: 'pct', needs: ['video_views_6s', 'impressions'],
    derive: (m) => (m.impressions ? (100 * m.video_views_6s) / m.impressions : null),
    help: '6-second video views per impression' },
  average_watch_ms: { label: 'Avg. watch time', short: 'Watch', fmt: 'secs', help: 'average watch time per video play' },
  conversions: { label: 'Conversions', short: 'Conv.', fmt: 'conv' },
  conversions_click: { label: 'Conv. (CTA)', short: 'CTA', fmt: 'conv', help: 'click-through conversions' },
  conversions_view: { label: 'Conv. (VTA)', short: 'VTA', fmt: 'conv', help: 'view-through conversions' },
  conversions_engaged_view: { label: 'Conv. (EVTA)', fmt: 'conv', help: 'engaged view-through conversions' },
  cvr_click: { label: 'CVR', fmt: 'pct', help: 'conversions per click' },
  cvr_impression: { label: 'CVR (impr.)', fmt: 'pct', help: 'conversions per impression' },
  value: { label: 'Value', fmt: 'money' },
  cpa: { label: 'CPA', fmt: 'money', lowerIsBetter: true, help: 'spend per conversion' },
  roas: { label: 'ROAS', fmt: 'dec', help: 'value / spend' },
};

// The API metrics needed to show `names` (derived ones pull in their inputs).
export function apiMetrics(names) {
  const out = new Set();
  for (const n of names) for (const m of METRICS[n]?.needs || [n]) out.add(m);
  return [...out];
}

// The value of `name` in an API metrics object (deriving it when needed).
export function metricValue(m, name) {
  const def = METRICS[name];
  if (def?.derive) return def.derive(m);
  const v = m[name];
  return v === undefined ? null : v;
}

export const MODELS = [
  ['last_touch', 'Last touch'],
  ['first_touch', 'First touch'],
  ['linear', 'Linear'],
  ['time_decay', 'Time decay'],
  ['position_based', 'Position based'],
  ['markov', 'Markov'],
  ['shapley', 'Shapley'],
];
export const modelLabel = (m) => (MODELS.find(([k]) => k === m) || [m, m])[1];

export const AGES = ['13-17', '18-24', '25-34', '35-44', '45-54', '55+'];
export const GENDERS = ['female', 'male', 'unknown'];

// The conversion-event picker: '' judges each campaign on its own event (its optimisation
// event, else its pixel's conversion events, else purchases; docs/metrics.md).
export const CONVERSION_EVENTS = [
  ['', "Each campaign's own"],
  ['CompletePayment', 'Purchases'],
  ['CompleteRegistration', 'Registrations'],
  ['SubmitForm', 'Form submissions'],
  ['Lead', 'Leads'],
  ['Subscribe', 'Subscriptions'],
  ['AddToCart', 'Add to cart'],
  ['InitiateCheckout', 'Checkouts'],
];
export const eventLabel = (e) => (CONVERSION_EVENTS.find(([k]) => k === e) || [e, e])[1];
