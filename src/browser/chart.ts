/** A small inline-SVG line chart for the live per-epoch plots. Pure: returns markup. */
import { escapeHtml, niceTicks } from '../experiments/report-html.js';

/** One line of a chart. */
export interface Series {
  readonly label: string;
  /** CSS class of the line and its markers (the colours live in styles.css). */
  readonly className: string;
  /** (x, y) points; non-finite y values are skipped. */
  readonly points: readonly (readonly [number, number])[];
}

/** Options of {@link lineChartSvg}. */
export interface LineChartOptions {
  readonly title: string;
  readonly xTitle: string;
  /** Fixed x range, e.g. [1, epochs], so the axes do not jump while points arrive. */
  readonly xDomain: readonly [number, number];
  /** Fixed y range; omitted: fitted to the points (padded). */
  readonly yDomain?: readonly [number, number];
  /** Smallest span of a fitted y range (keeps noise-level changes from filling the chart). */
  readonly minYSpan?: number;
  /** Limits of a fitted y range, e.g. [0, 1] for fractions. */
  readonly yBounds?: readonly [number, number];
  readonly yFormat: (v: number) => string;
  readonly series: readonly Series[];
}

const W = 460;
const H = 260;
const M = { left: 56, right: 14, top: 30, bottom: 42 };
const r2 = (v: number) => String(Math.round(v * 100) / 100);

/** The points' y range padded by 10%, at least `minSpan` wide, shifted to stay within `bounds`. */
function fitDomain(series: readonly Series[], minSpan: number, bounds: readonly [number, number]): [number, number] {
  const ys = series.flatMap((s) => s.points.map((p) => p[1])).filter(Number.isFinite);
  if (ys.length === 0) return [0, 1];
  const lo = Math.min(...ys);
  const hi = Math.max(...ys);
  const half = Math.max((hi - lo) * 0.55, minSpan / 2, 1e-3);
  const y0 = Math.max(bounds[0], (lo + hi) / 2 - half);
  const y1 = Math.min(bounds[1], y0 + 2 * half);
  return [Math.max(bounds[0], y1 - 2 * half), y1];
}

/** The chart as an `<svg>` element string (viewBox-scaled, so it fits its container's width). */
export function lineChartSvg(options: LineChartOptions): string {
  const [x0, x1] = options.xDomain;
  const [y0, y1] = options.yDomain ?? fitDomain(options.series, options.minYSpan ?? 0, options.yBounds ?? [-Infinity, Infinity]);
  const px = (v: number) => M.left + ((v - x0) / (x1 - x0 || 1)) * (W - M.left - M.right);
  const py = (v: number) => H - M.bottom - ((v - y0) / (y1 - y0 || 1)) * (H - M.top - M.bottom);
  const parts = [`<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(options.title)}">`];
  parts.push(`<text class="chart-title" x="${M.left}" y="18">${escapeHtml(options.title)}</text>`);
  for (const t of niceTicks(y0, y1, 5)) {
    parts.push(`<line class="grid" x1="${M.left}" x2="${W - M.right}" y1="${r2(py(t))}" y2="${r2(py(t))}"/>`);
    parts.push(`<text class="tick" x="${M.left - 6}" y="${r2(py(t))}" text-anchor="end" dominant-baseline="middle">${escapeHtml(options.yFormat(t))}</text>`);
  }
  for (const t of niceTicks(x0, x1, 8).filter(Number.isInteger)) {
    parts.push(`<text class="tick" x="${r2(px(t))}" y="${H - M.bottom + 16}" text-anchor="middle">${t}</text>`);
  }
  parts.push(`<rect class="frame" x="${M.left}" y="${M.top}" width="${W - M.left - M.right}" height="${H - M.top - M.bottom}"/>`);
  parts.push(`<text class="axis-title" x="${r2(M.left + (W - M.left - M.right) / 2)}" y="${H - 6}" text-anchor="middle">${escapeHtml(options.xTitle)}</text>`);
  for (const s of options.series) {
    const pts = s.points.filter((p) => Number.isFinite(p[1]));
    if (pts.length === 0) continue;
    const d = pts.map((p, i) => `${i === 0 ? 'M' : 'L'}${r2(px(p[0]))},${r2(py(p[1]))}`).join('');
    parts.push(`<g class="series ${escapeHtml(s.className)}"><path d="${d}"/>`);
    for (const p of pts) parts.push(`<circle cx="${r2(px(p[0]))}" cy="${r2(py(p[1]))}" r="3"><title>${escapeHtml(`${s.label}, epoch ${p[0]}: ${options.yFormat(p[1])}`)}</title></circle>`);
    parts.push('</g>');
  }
  parts.push('</svg>');
  return parts.join('');
}
