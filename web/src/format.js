// Number formatting, fixed to en-US so that screenshots and tests read the same everywhere.
const nf = (min, max) => new Intl.NumberFormat('en-US', { minimumFractionDigits: min, maximumFractionDigits: max });
const int = nf(0, 0);
const two = nf(2, 2);
const upTo2 = nf(0, 2);
const one = nf(1, 1);

export const DASH = '—';

export const formats = {
  int: (v) => int.format(v),
  conv: (v) => upTo2.format(v),          // conversions are fractional under multi-touch models
  money: (v) => two.format(v),
  dec: (v) => two.format(v),
  pct: (v) => two.format(v) + '%',
  secs: (v) => one.format(v / 1000) + ' s',
};

export function format(kind, v) {
  if (v == null || Number.isNaN(v)) return DASH;
  return (formats[kind] || formats.dec)(v);
}

// "+12.3%" change of cur against prev; null when there is nothing to compare with.
export function change(cur, prev) {
  if (cur == null || prev == null || prev === 0) return null;
  return ((cur - prev) / Math.abs(prev)) * 100;
}

export function formatChange(pct) {
  if (pct == null) return DASH;
  const s = one.format(Math.abs(pct)) + '%';
  return pct > 0.05 ? '▲ ' + s : pct < -0.05 ? '▼ ' + s : '±0%';
}
