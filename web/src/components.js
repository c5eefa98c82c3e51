// Building blocks shared by the pages: metric cells, sortable tables, bars, CSV.
import { h } from './dom.js';
import { DASH, format } from './format.js';
import { METRICS, metricValue } from './metrics.js';

export const unknownLabel = (v) => (v === '' || v == null ? '(unknown)' : v);

// A <td> with the raw API value in data-value (what the browser tests compare with the API).
export function metricCell(m, name, extraClass = '') {
  const v = m ? metricValue(m, name) : null;
  return h('td', { class: `num ${extraClass}`.trim(), dataset: { metric: name, value: v == null ? '' : String(v) } },
    format(METRICS[name]?.fmt, v));
}

// Sorting rows on a column: numbers with nulls last, strings A-Z.
export function sortRows(rows, columns, sort) {
  const desc = sort.startsWith('-');
  const key = desc ? sort.slice(1) : sort;
  const col = columns.find((c) => c.key === key);
  if (!col) return rows;
  const val = (r) => col.sortValue(r);
  return [...rows].sort((a, b) => {
    const x = val(a), y = val(b);
    if (x == null && y == null) return 0;
    if (x == null) return 1;
    if (y == null) return -1;
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return desc ? -c : c;
  });
}

// columns: [{key, label, title?, numeric, cell(row) -> <td>, sortValue(row), csv(row)}]
// groups: optional [[label, colspan], ...] for a header row above the column names.
export function dataTable({ id, columns, rows, totals, sort, onSort, caption, groups }) {
  const sorted = sort ? sortRows(rows, columns, sort) : rows;
  const desc = sort && sort.startsWith('-');
  const sortKey = sort && (desc ? sort.slice(1) : sort);
  const head = h('tr', null, columns.map((c) => {
    const active = c.key === sortKey;
    const next = active && desc ? c.key : '-' + c.key;
    return h('th', {
      scope: 'col', class: `${c.numeric ? 'num' : ''} ${c.headClass || ''}`.trim(), title: c.title || null,
      'aria-sort': active ? (desc ? 'descending' : 'ascending') : null,
      dataset: { key: c.key },
    }, onSort
      ? h('button', { type: 'button', class: 'sort', onclick: () => onSort(c.numeric ? next : (active && !desc ? '-' + c.key : c.key)) },
        c.label, h('span', { class: 'arrow', 'aria-hidden': 'true' }, active ? (desc ? '▼' : '▲') : ''))
      : c.label);
  }));
  const body = sorted.length
    ? sorted.map((r) => h('tr', { dataset: { id: r.id ?? '' } }, columns.map((c) => c.cell(r))))
    : [h('tr', null, h('td', { colspan: columns.length, class: 'empty' }, 'No data for this range.'))];
  const foot = totals ? h('tfoot', null, h('tr', { class: 'totals' }, columns.map((c) => c.total ? c.total(totals) : h('td')))) : null;
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'data', id }, caption ? h('caption', null, caption) : null,
      h('thead', null, groups ? h('tr', { class: 'groups' }, groups.map(([label, span]) => h('th', { colspan: span, scope: 'colgroup' }, label))) : null, head),
      h('tbody', null, body), foot));
}

// A metric column for dataTable from an API metric or a derived one.
export function metricColumn(name, get = (r) => r.metrics) {
  const def = METRICS[name];
  return {
    key: name, label: def.short || def.label, csvLabel: def.label,
    title: def.help ? `${def.label}: ${def.help}` : def.short ? def.label : null, numeric: true,
    cell: (r) => metricCell(get(r), name),
    sortValue: (r) => metricValue(get(r), name),
    csv: (r) => metricValue(get(r), name),
    total: (t) => metricCell(t, name),
  };
}

// A text cell that a spreadsheet would run as a formula (= + - @, tab, CR first) gets a leading
// apostrophe: names and ids can come from anonymous click parameters. Numbers stay numbers.
const csvField = (v) => {
  let s = v == null ? '' : String(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

// The rows as shown (same order and columns), with raw numbers.
export function toCsv(columns, rows, sort) {
  const sorted = sort ? sortRows(rows, columns, sort) : rows;
  const lines = [columns.map((c) => csvField(c.csvLabel || c.label)).join(',')];
  for (const r of sorted) lines.push(columns.map((c) => csvField(c.csv(r))).join(','));
  return lines.join('\n') + '\n';
}

export function download(filename, text, type = 'text/csv') {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// A horizontal bar (0..max) with the formatted value beside it.
export function bar(value, max, kind, metric) {
  const pct = value == null || !max ? 0 : Math.max(0, Math.min(100, (value / max) * 100));
  return h('div', { class: 'bar', dataset: { metric, value: value == null ? '' : String(value) } },
    h('span', { class: 'bar-fill', style: { width: pct.toFixed(1) + '%' } }),
    h('span', { class: 'bar-label' }, value == null ? DASH : format(kind, value)));
}

export function card(title, body, { id, note, actions } = {}) {
  return h('section', { class: 'card', id },
    h('div', { class: 'card-head' }, h('h2', null, title), actions || null),
    body,
    note ? h('p', { class: 'note' }, note) : null);
}

export function emptyState(title, text) {
  return h('div', { class: 'empty-state' }, h('h2', null, title), h('p', null, text));
}
