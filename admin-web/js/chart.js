// A small inline SVG line chart of an indicator's dated values, with baseline and
// target lines. The values are also in a table next to it; the chart has a text
// alternative (role=img, aria-label).

import { s } from './dom.js';
import { t, formatNumber, formatDate } from './i18n.js';

const W = 360;
const H = 150;
const PAD = { l: 44, r: 12, t: 12, b: 28 };

function dayNumber(d) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(d || '');
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3]) / 86400000 : null;
}

/** 1, 2, 2.5 or 5 times a power of ten, at least `raw`. */
function niceStep(raw) {
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

export function indicatorChart(ind) {
  const pts = (ind.values || [])
    .map((v) => ({ x: dayNumber(v.date), y: typeof v.value === 'number' ? v.value : Number(v.value), date: v.date }))
    .filter((p) => p.x !== null && Number.isFinite(p.y))
    .sort((a, b) => a.x - b.x);
  const refs = [ind.baseline, ind.target].filter((v) => typeof v === 'number' && Number.isFinite(v));
  const last = pts[pts.length - 1];
  const label = pts.length
    ? t('chart.label', {
        name: ind.name || t('indicators.unnamed'),
        count: pts.length,
        last: `${formatNumber(last.y)} ${ind.unit || ''}`.trim(),
        date: formatDate(last.date),
        target: typeof ind.target === 'number' ? `${formatNumber(ind.target)} ${ind.unit || ''}`.trim() : t('common.none'),
      })
    : t('chart.empty', { name: ind.name || t('indicators.unnamed') });
  const svg = s('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': label, focusable: 'false' },
    s('title', {}, label));
  if (!pts.length) {
    svg.appendChild(s('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'chart-empty' }, t('chart.noValues')));
    return svg;
  }
  const ys = [...pts.map((p) => p.y), ...refs, 0];
  const lo = Math.min(...ys);
  const hi = Math.max(...ys);
  const step = niceStep((hi - lo || Math.abs(hi) || 1) / 3);
  const yMin = Math.floor(lo / step) * step;
  let yMax = Math.ceil(hi / step) * step;
  if (yMax === yMin) yMax = yMin + step;
  const ticks = [];
  for (let v = yMin; v <= yMax + step / 2; v += step) ticks.push(v);
  let xMin = pts[0].x;
  let xMax = pts[pts.length - 1].x;
  if (xMax === xMin) {
    xMin -= 15;
    xMax += 15;
  }
  const X = (x) => PAD.l + ((x - xMin) / (xMax - xMin)) * (W - PAD.l - PAD.r);
  const Y = (y) => H - PAD.b - ((y - yMin) / (yMax - yMin)) * (H - PAD.t - PAD.b);

  // Axes and grid: 4 horizontal lines with labels.
  for (const v of ticks) {
    svg.appendChild(s('line', { x1: PAD.l, x2: W - PAD.r, y1: Y(v), y2: Y(v), class: 'chart-grid' }));
    svg.appendChild(s('text', { x: PAD.l - 6, y: Y(v) + 4, 'text-anchor': 'end', class: 'chart-axis' }, formatNumber(Math.round(v * 1000) / 1000)));
  }
  svg.appendChild(s('text', { x: PAD.l, y: H - 8, 'text-anchor': 'start', class: 'chart-axis' }, formatDate(pts[0].date)));
  if (pts.length > 1) svg.appendChild(s('text', { x: W - PAD.r, y: H - 8, 'text-anchor': 'end', class: 'chart-axis' }, formatDate(last.date)));

  if (typeof ind.target === 'number') {
    svg.appendChild(s('line', { x1: PAD.l, x2: W - PAD.r, y1: Y(ind.target), y2: Y(ind.target), class: 'chart-target' }));
    svg.appendChild(s('text', { x: W - PAD.r - 2, y: Y(ind.target) - 4, 'text-anchor': 'end', class: 'chart-ref' }, t('chart.target')));
  }
  if (typeof ind.baseline === 'number') {
    svg.appendChild(s('line', { x1: PAD.l, x2: W - PAD.r, y1: Y(ind.baseline), y2: Y(ind.baseline), class: 'chart-baseline' }));
  }
  const d = pts.map((p, i) => `${i ? 'L' : 'M'}${X(p.x).toFixed(1)},${Y(p.y).toFixed(1)}`).join(' ');
  svg.appendChild(s('path', { d, class: 'chart-line' }));
  for (const p of pts) svg.appendChild(s('circle', { cx: X(p.x).toFixed(1), cy: Y(p.y).toFixed(1), r: 3.5, class: 'chart-dot' }));
  return svg;
}
