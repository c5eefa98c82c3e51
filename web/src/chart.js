// Time series on uPlot: one or two metrics by day, each on its own y axis.
import uPlot from 'uplot';
import { format } from './format.js';
import { METRICS } from './metrics.js';

const COLORS = ['#155eef', '#f79009'];

// days: ['2026-01-01', ...]; series: [{name, values: [number|null]}] (1 or 2).
export function timeSeries(container, days, series) {
  const xs = days.map((d) => Date.parse(d + 'T00:00:00Z') / 1000);
  const scales = { x: { time: true } };
  const axes = [{
    stroke: '#475467',
    grid: { stroke: '#eaecf0', width: 1 },
    ticks: { show: false },
    values: (u, splits) => splits.map((s) => new Date(s * 1000).toLocaleDateString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' })),
  }];
  const uSeries = [{ label: 'Day', value: (u, v) => (v == null ? '' : new Date(v * 1000).toISOString().slice(0, 10)) }];
  series.forEach((s, i) => {
    const kind = METRICS[s.name]?.fmt;
    const scale = 'y' + i;
    scales[scale] = { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] };
    axes.push({
      scale, side: i === 0 ? 3 : 1, stroke: COLORS[i], size: 64,
      grid: { show: i === 0, stroke: '#eaecf0', width: 1 }, ticks: { show: false },
      values: (u, splits) => splits.map((v) => format(kind === 'secs' ? 'secs' : kind === 'pct' ? 'pct' : kind === 'int' ? 'int' : 'conv', v)),
    });
    uSeries.push({
      label: METRICS[s.name]?.label || s.name, scale, stroke: COLORS[i], width: 2,
      fill: i === 0 ? 'rgba(21, 94, 239, 0.08)' : undefined,
      points: { show: days.length <= 31, size: 5 },
      value: (u, v) => format(kind, v),
      spanGaps: false,
    });
  });
  const width = () => Math.max(280, container.clientWidth || 600);
  const height = () => (window.innerWidth < 720 ? 220 : 300);
  const plot = new uPlot({
    width: width(), height: height(), scales, axes, series: uSeries,
    cursor: { points: { size: 7 } },
    legend: { live: true },
  }, [xs, ...series.map((s) => s.values)], container);
  // Resize on width changes only: the plot's own height change must not loop back here.
  const ro = new ResizeObserver(() => {
    if (Math.abs(width() - plot.width) > 1 || height() !== plot.height) plot.setSize({ width: width(), height: height() });
  });
  ro.observe(container);
  return () => { ro.disconnect(); plot.destroy(); };
}
