/**
 * report.html: one self-contained page (no network requests; a Content-Security-Policy forbids
 * them) with the command, environment, config, the summary table, and four plots drawn as inline
 * SVG at render time:
 *   1. test accuracy (or the task's metric, `config.metric`) per epoch per policy (mean over seeds, min–max band),
 *   2. kept fraction per epoch per policy (mean, min–max band),
 *   3. score histograms with the threshold marked (first seed of each policy that recorded them),
 *   4. final accuracy (mean ± std error bars) against saved wall-clock and against saved sample passes.
 * The results and summary are embedded as JSON in `<script type="application/json" id="report-data">`.
 * A small inline script wires the legend (click to hide a policy), checks every chart has marks,
 * and then sets `document.body.dataset.rendered = "ok"` (or shows an error banner and sets "error").
 * Pure module (no node:*).
 */
import { convergenceCheck, convergenceSentence } from './convergence.js';
import { bulkRange } from './plot-range.js';
import { FRONTIER_METHOD_NAMES, frontierOf, type Frontier, type FrontierMethod, type FrontierPoint } from './frontier.js';
import { SAVED_CPU_NOTE, savedCpuTable } from './saved-cpu-table.js';
import { formatRankCorrelation, SCORE_PERSISTENCE_COLUMNS, SCORE_PERSISTENCE_NOTE, scorePersistenceCells, scorePersistenceRows } from './score-persistence-table.js';
import { stalledRuns, stalledRunsSentence } from './stalled-runs.js';
import type { PairedDelta } from './paired-stats.js';
import {
  formatInterval,
  formatMetric,
  formatNumber,
  formatPairedSaving,
  formatPercent,
  formatSigned,
  isFiniteNumber,
  metricFormat,
  reportScale,
  SUMMARY_KEYS,
  summaryNotes,
  readingLine,
  summarizeResults,
  summaryColumns,
  summaryRowText,
  type BenchResults,
  type Band,
  type EpochRecord,
  type MetricFormat,
  type PolicySummary,
  type ResultsSummary,
} from './results.js';

export interface HtmlReportOptions {
  /** Defaults to `summarizeResults(results)`. */
  summary?: ResultsSummary;
  /** Page title; defaults to `results.name`. */
  title?: string;
}

/** Escapes text for HTML/SVG element content and double- or single-quoted attribute values. */
export function escapeHtml(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * JSON safe to place inside a `<script>` element: `<`, `>`, `&`, U+2028 and U+2029 become
 * \u escapes, so neither `</script>` nor `<!--` can appear. NaN/Infinity become null (JSON rules).
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/**
 * 20 distinct colours, one per policy: Tableau 10, then 10 darker or more saturated hues chosen so
 * that every pair differs by at least 25 in CIELAB ΔE (checked by a test); cycled beyond 20.
 */
export const PALETTE = [
  '#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#5f5f5f',
  '#0000cd', '#8b008b', '#7b68ee', '#808000', '#1f2f6b', '#7a1f2b', '#004d00', '#a05000', '#c71585', '#9400d3',
];
const colorOf = (index: number): string => PALETTE[index % PALETTE.length]!;

// ---------------------------------------------------------------------------------------------
// Small SVG toolkit.

interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

const num = (v: number): string => String(Math.round(v * 100) / 100);

function linear(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const span = d1 - d0 || 1;
  return (v) => r0 + ((v - d0) / span) * (r1 - r0);
}

/** 'Nice' tick values (1, 2 or 5 × 10^k steps, the one nearest (max − min) / count) within [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!isFiniteNumber(min) || !isFiniteNumber(max)) return [];
  if (min === max) return [min];
  const raw = (max - min) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const ratio = raw / power; // in [1, 10)
  const step = (ratio >= 7.07 ? 10 : ratio >= 3.16 ? 5 : ratio >= 1.41 ? 2 : 1) * power;
  const ticks: number[] = [];
  const first = Math.ceil(min / step - 1e-9);
  for (let k = first; k * step <= max + step * 1e-9; k++) ticks.push(k === 0 ? 0 : Number((k * step).toPrecision(12)));
  return ticks;
}

/** Decimals needed to show ticks spaced `step` apart distinctly. */
function tickDigits(ticks: number[]): number {
  if (ticks.length < 2) return 2;
  const step = Math.abs(ticks[1]! - ticks[0]!);
  const exponent = Math.floor(Math.log10(step) + 1e-9);
  const quarter = Math.abs(step / 10 ** exponent - 2.5) < 1e-6 ? 1 : 0;
  return Math.max(0, Math.min(6, -exponent + quarter));
}

/** Pads [lo, hi] by `fraction` of its span (or ±1 around a single value). */
function padDomain(lo: number, hi: number, fraction = 0.05): [number, number] {
  if (lo === hi) return [lo - (Math.abs(lo) * 0.05 || 1), hi + (Math.abs(hi) * 0.05 || 1)];
  const pad = (hi - lo) * fraction;
  return [lo - pad, hi + pad];
}

interface Axes {
  x: (v: number) => number;
  y: (v: number) => number;
  svg: string;
}

/** Grid, ticks, tick labels and axis titles. Ticks are clipped to the domain. */
function axes(frame: Frame, xDomain: [number, number], yDomain: [number, number], xTitle: string, yTitle: string, opts: { xFormat?: (v: number) => string; yFormat?: (v: number) => string; xInteger?: boolean; yTicks?: number[] } = {}): Axes {
  const { width, height, left, right, top, bottom } = frame;
  const x = linear(xDomain[0], xDomain[1], left, width - right);
  const y = linear(yDomain[0], yDomain[1], height - bottom, top);
  const plotWidth = width - left - right;
  let xTicks = niceTicks(xDomain[0], xDomain[1], Math.max(2, Math.floor(plotWidth / 70)));
  if (opts.xInteger) xTicks = [...new Set(xTicks.filter((t) => Number.isInteger(t)))];
  const yTicks = opts.yTicks ?? niceTicks(yDomain[0], yDomain[1], Math.max(2, Math.floor((height - top - bottom) / 40)));
  const xd = tickDigits(xTicks);
  const yd = tickDigits(yTicks);
  const xFormat = opts.xFormat ?? ((v: number) => formatNumber(v, xd));
  const yFormat = opts.yFormat ?? ((v: number) => formatNumber(v, yd));
  const parts: string[] = ['<g class="axes">'];
  for (const t of yTicks) {
    const py = num(y(t));
    parts.push(`<line class="grid" x1="${left}" x2="${width - right}" y1="${py}" y2="${py}"/>`);
    parts.push(`<text class="tick" x="${left - 6}" y="${py}" text-anchor="end" dominant-baseline="middle">${escapeHtml(yFormat(t))}</text>`);
  }
  for (const t of xTicks) {
    const px = num(x(t));
    parts.push(`<line class="grid" x1="${px}" x2="${px}" y1="${top}" y2="${height - bottom}"/>`);
    parts.push(`<text class="tick" x="${px}" y="${height - bottom + 16}" text-anchor="middle">${escapeHtml(xFormat(t))}</text>`);
  }
  parts.push(`<rect class="frame" x="${left}" y="${top}" width="${plotWidth}" height="${height - top - bottom}"/>`);
  parts.push(`<text class="axis-title" x="${num(left + plotWidth / 2)}" y="${height - 6}" text-anchor="middle">${escapeHtml(xTitle)}</text>`);
  parts.push(`<text class="axis-title" transform="translate(14 ${num(top + (height - top - bottom) / 2)}) rotate(-90)" text-anchor="middle">${escapeHtml(yTitle)}</text>`);
  parts.push('</g>');
  return { x, y, svg: parts.join('') };
}

function svgOpen(frame: Frame, label: string): string {
  return `<svg viewBox="0 0 ${frame.width} ${frame.height}" width="${frame.width}" height="${frame.height}" role="img" aria-label="${escapeHtml(label)}">`;
}

function emptySvg(frame: Frame, message: string): string {
  return `${svgOpen(frame, message)}<rect class="frame" x="1" y="1" width="${frame.width - 2}" height="${frame.height - 2}"/><text class="empty" x="${frame.width / 2}" y="${frame.height / 2}" text-anchor="middle">${escapeHtml(message)}</text></svg>`;
}

interface CurvePoint {
  x: number;
  band: Band;
}

interface Curve {
  index: number;
  label: string;
  points: CurvePoint[];
}

/** Splits points into runs where `ok` holds, so gaps (NaN) break lines and bands. */
function segments<T>(points: T[], ok: (p: T) => boolean): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  for (const p of points) {
    if (ok(p)) current.push(p);
    else if (current.length > 0) {
      out.push(current);
      current = [];
    }
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** Mean line with a min–max band and point markers per curve. */
function curveChart(curves: Curve[], frame: Frame, xTitle: string, yTitle: string, opts: { yDomain?: [number, number]; yFormat?: (v: number) => string; valueFormat: (v: number) => string }): { svg: string; marks: number } {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const c of curves) {
    for (const p of c.points) {
      if (!isFiniteNumber(p.band.mean)) continue;
      xs.push(p.x);
      ys.push(p.band.mean, p.band.min ?? p.band.mean, p.band.max ?? p.band.mean);
    }
  }
  if (xs.length === 0) return { svg: emptySvg(frame, 'no finite values to plot'), marks: 0 };
  const xDomain: [number, number] = Math.min(...xs) === Math.max(...xs) ? [Math.min(...xs) - 1, Math.max(...xs) + 1] : [Math.min(...xs), Math.max(...xs)];
  const yDomain = opts.yDomain ?? padDomain(Math.min(...ys), Math.max(...ys), 0.08);
  const axisOpts = { xInteger: true, ...(opts.yFormat === undefined ? {} : { yFormat: opts.yFormat }) };
  const ax = axes(frame, xDomain, yDomain, xTitle, yTitle, axisOpts);
  const bands: string[] = [];
  const lines: string[] = [];
  const dots: string[] = [];
  let marks = 0;
  for (const c of curves) {
    const color = colorOf(c.index);
    const ok = (p: CurvePoint): boolean => isFiniteNumber(p.band.mean);
    for (const seg of segments(c.points, ok)) {
      if (seg.some((p) => p.band.n > 1)) {
        const upper = seg.map((p) => `${num(ax.x(p.x))},${num(ax.y(p.band.max ?? (p.band.mean as number)))}`);
        const lower = seg.map((p) => `${num(ax.x(p.x))},${num(ax.y(p.band.min ?? (p.band.mean as number)))}`).reverse();
        if (seg.length === 1) {
          const p = seg[0]!;
          bands.push(`<line data-series="${c.index}" stroke="${color}" stroke-width="6" stroke-opacity="0.25" x1="${num(ax.x(p.x))}" x2="${num(ax.x(p.x))}" y1="${num(ax.y(p.band.min!))}" y2="${num(ax.y(p.band.max!))}"/>`);
        } else {
          bands.push(`<polygon data-series="${c.index}" fill="${color}" fill-opacity="0.16" stroke="none" points="${[...upper, ...lower].join(' ')}"/>`);
        }
      }
      const d = seg.map((p, i) => `${i === 0 ? 'M' : 'L'}${num(ax.x(p.x))},${num(ax.y(p.band.mean as number))}`).join('');
      lines.push(`<path data-series="${c.index}" data-mark="line" fill="none" stroke="${color}" stroke-width="2" d="${d}"/>`);
      marks++;
      for (const p of seg) {
        const range = p.band.n > 1 ? ` (min ${opts.valueFormat(p.band.min!)}, max ${opts.valueFormat(p.band.max!)}, ${p.band.n} seeds)` : '';
        dots.push(
          `<circle data-series="${c.index}" cx="${num(ax.x(p.x))}" cy="${num(ax.y(p.band.mean as number))}" r="2.5" fill="${color}"><title>${escapeHtml(`${c.label}, epoch ${p.x}: ${opts.valueFormat(p.band.mean as number)}${range}`)}</title></circle>`,
        );
      }
    }
  }
  return { svg: `${svgOpen(frame, `${yTitle} by ${xTitle}`)}${ax.svg}<g>${bands.join('')}${lines.join('')}${dots.join('')}</g></svg>`, marks };
}

/** Approximate width of `text` at 11px sans-serif (no DOM to measure with). */
const textWidth = (text: string): number => text.length * 6.6 + 2;

/**
 * Label positions in a column: each label as near its wanted y as possible, at least `gap` apart,
 * within [top, bottom] (labels pushed down, then back up from the bottom). Never overlapping.
 */
export function columnLayout(wanted: readonly number[], top: number, bottom: number, gap = 13): number[] {
  const order = wanted.map((y, i) => ({ y, i })).sort((a, b) => a.y - b.y || a.i - b.i);
  const placed = new Array<number>(wanted.length);
  let previous = Number.NEGATIVE_INFINITY;
  for (const { y, i } of order) {
    const at = Math.max(y, previous + gap, top);
    placed[i] = at;
    previous = at;
  }
  let next = Number.POSITIVE_INFINITY;
  for (let k = order.length - 1; k >= 0; k--) {
    const i = order[k]!.i;
    const at = Math.min(placed[i]!, next - gap, bottom);
    placed[i] = at;
    next = at;
  }
  return placed;
}

/** Truncates a label to about `width` px at 11px, with an ellipsis. */
function fitLabel(text: string, width: number): string {
  const chars = Math.max(4, Math.floor((width - 2) / 6.6));
  return text.length <= chars ? text : `${text.slice(0, chars - 1)}…`;
}

interface DeltaPoint {
  index: number;
  label: string;
  x: number;
  delta: PairedDelta;
}

/**
 * Paired difference to the baseline (mean, 95% interval as error bar) against a saving, one point
 * per policy, labels in a column right of the plot with leader lines (so they never overlap).
 */
function deltaScatterChart(points: DeltaPoint[], frame: Frame, xTitle: string, yTitle: string, xName: string, emptyMessage: string, format: MetricFormat, tolerance: number | null): { svg: string; marks: number; clipped: number } {
  if (points.length === 0) return { svg: emptySvg(frame, emptyMessage), marks: 0, clipped: 0 };
  const xs = points.map((p) => p.x);
  const ys = points.flatMap((p) => [p.delta.mean, p.delta.ciLow ?? p.delta.mean, p.delta.ciHigh ?? p.delta.mean]);
  const xDomain = padDomain(Math.min(0, ...xs), Math.max(...xs), 0.08);
  const [lo, hi] = bulkRange(ys, [0], tolerance ?? 0) ?? [-1, 1];
  const yDomain = padDomain(lo, hi, 0.1);
  const clipY = (v: number) => clipTo(v, yDomain);
  let clipped = 0;
  const ax = axes(frame, xDomain, yDomain, xTitle, yTitle, { xFormat: (v) => `${formatNumber(v, Math.abs(v) < 10 && v % 1 !== 0 ? 1 : 0)}%` });
  const plotRight = frame.width - frame.right;
  const parts: string[] = [toleranceBand(ax, frame, tolerance, yDomain, true)];
  const labels: string[] = [];
  const ys0 = points.map((p) => ax.y(clipY(p.delta.mean).value));
  const layout = columnLayout(ys0, frame.top + 6, frame.height - frame.bottom - 2);
  points.forEach((p, k) => {
    const color = colorOf(p.index);
    const cx = ax.x(p.x);
    const mean = clipY(p.delta.mean);
    const cy = ax.y(mean.value);
    const d = p.delta;
    const tip = `${p.label}: Δ ${formatSigned(d.mean, format.digits)}${d.ciLow === null ? '' : `, 95% CI ${formatInterval(d, format.digits)}`} (${d.n} paired seeds) at ${formatNumber(p.x, 1)}% ${xName}`;
    if (d.ciLow !== null && d.ciHigh !== null) {
      const a = clipY(d.ciLow);
      const b = clipY(d.ciHigh);
      const y0 = num(ax.y(a.value));
      const y1 = num(ax.y(b.value));
      parts.push(`<g data-series="${p.index}" stroke="${color}" stroke-width="1.5"><line x1="${num(cx)}" x2="${num(cx)}" y1="${y0}" y2="${y1}"/>${a.side === 0 ? `<line x1="${num(cx - 4)}" x2="${num(cx + 4)}" y1="${y0}" y2="${y0}"/>` : ''}${b.side === 0 ? `<line x1="${num(cx - 4)}" x2="${num(cx + 4)}" y1="${y1}" y2="${y1}"/>` : ''}</g>`);
      for (const [end, at] of [[d.ciLow, a], [d.ciHigh, b]] as const) if (at.side !== 0) parts.push(clippedMark('y', ax.y(at.value), cx, at.side, color, end, '', tip, p.index));
      clipped += (a.side !== 0 ? 1 : 0) + (b.side !== 0 ? 1 : 0);
    }
    if (mean.side !== 0) {
      clipped++;
      parts.push(clippedMark('y', cy, cx, mean.side, color, d.mean, formatSigned(d.mean, format.digits), tip, p.index));
    }
    parts.push(`<circle data-series="${p.index}" data-mark="point" cx="${num(cx)}" cy="${num(cy)}" r="4.5" fill="${color}" stroke="#fff" stroke-width="1"><title>${escapeHtml(tip)}</title></circle>`);
    const ly = layout[k]!;
    labels.push(
      `<line data-series="${p.index}" class="leader" x1="${num(cx + 5)}" y1="${num(cy)}" x2="${num(plotRight + 4)}" y2="${num(ly)}"/><rect data-series="${p.index}" x="${num(plotRight + 6)}" y="${num(ly - 4)}" width="8" height="8" rx="1.5" fill="${color}"/><text data-series="${p.index}" class="point-label" x="${num(plotRight + 17)}" y="${num(ly)}" dominant-baseline="middle">${escapeHtml(fitLabel(p.label, frame.right - 20))}<title>${escapeHtml(p.label)}</title></text>`,
    );
  });
  return { svg: `${svgOpen(frame, `${yTitle} against ${xTitle}`)}${ax.svg}<g>${parts.join('')}${labels.join('')}</g></svg>`, marks: points.length, clipped };
}

/** The "lossless" band |Δ| ≤ tolerance and the zero line, horizontal (`horizontal`) or vertical. */
function toleranceBand(ax: Axes, frame: Frame, tolerance: number | null, domain: [number, number], horizontal: boolean): string {
  const out: string[] = [];
  const [lo, hi] = domain;
  if (tolerance !== null && tolerance > 0) {
    const a = Math.max(lo, -tolerance);
    const b = Math.min(hi, tolerance);
    if (b > a) {
      out.push(
        horizontal
          ? `<rect class="band" x="${frame.left}" width="${frame.width - frame.left - frame.right}" y="${num(ax.y(b))}" height="${num(ax.y(a) - ax.y(b))}"/>`
          : `<rect class="band" y="${frame.top}" height="${frame.height - frame.top - frame.bottom}" x="${num(ax.x(a))}" width="${num(ax.x(b) - ax.x(a))}"/>`,
      );
    }
  }
  if (lo < 0 && hi > 0) {
    out.push(
      horizontal
        ? `<line class="zero" x1="${frame.left}" x2="${frame.width - frame.right}" y1="${num(ax.y(0))}" y2="${num(ax.y(0))}"/>`
        : `<line class="zero" y1="${frame.top}" y2="${frame.height - frame.bottom}" x1="${num(ax.x(0))}" x2="${num(ax.x(0))}"/>`,
    );
  }
  return out.join('');
}

/** Where `value` lands on an axis showing `domain`: inside it, or clipped to an edge (`side` −1 below it, +1 above). */
function clipTo(value: number, domain: [number, number]): { value: number; side: -1 | 0 | 1 } {
  const lo = Math.min(domain[0], domain[1]);
  const hi = Math.max(domain[0], domain[1]);
  if (value < lo) return { value: lo, side: -1 };
  if (value > hi) return { value: hi, side: 1 };
  return { value, side: 0 };
}

/**
 * A far outlier drawn at the plot's edge (see bulkRange): a triangle pointing off the plot, its tip
 * on the edge, and the value beside it unless `label` is empty (an interval's clipped end).
 * @param axis - the axis the value is on: 'x' (horizontal) or 'y' (vertical).
 * @param edge - the pixel position of the edge on that axis.
 * @param across - the pixel position on the other axis.
 */
function clippedMark(axis: 'x' | 'y', edge: number, across: number, side: -1 | 1, color: string, value: number, label: string, tip: string, series?: number): string {
  const seriesAttr = series === undefined ? '' : ` data-series="${series}"`;
  // In SVG y grows downwards: a value below the y domain is at the bottom edge, pointing down.
  const inward = axis === 'x' ? -side : side;
  const points = axis === 'x'
    ? `${num(edge)},${num(across)} ${num(edge + 8 * inward)},${num(across - 4.5)} ${num(edge + 8 * inward)},${num(across + 4.5)}`
    : `${num(across)},${num(edge)} ${num(across - 4.5)},${num(edge + 8 * inward)} ${num(across + 4.5)},${num(edge + 8 * inward)}`;
  const text = label === ''
    ? ''
    : axis === 'x'
      ? `<text class="clipped-label" x="${num(edge + 10 * inward)}" y="${num(across - 6)}" text-anchor="${inward > 0 ? 'start' : 'end'}">${escapeHtml(label)}</text>`
      : `<text class="clipped-label" x="${num(across + 7)}" y="${num(edge + 10 * inward)}" dominant-baseline="middle">${escapeHtml(label)}</text>`;
  return `<g class="clipped"${seriesAttr} data-value="${value}"><polygon points="${points}" fill="${color}"/>${text}<title>${escapeHtml(`${tip} (off the axis, drawn at its edge)`)}</title></g>`;
}

/** Note under a plot that clipped far outliers. */
const CLIPPED_NOTE = 'Far outliers (beyond the quartiles by 3 interquartile ranges) are drawn at the edge of the plot as ◂ ▸ ▴ ▾ with their value, so that the axis stays on the bulk of the runs.';

/**
 * One row per policy: its per-seed paired differences to the baseline (hollow dots), their mean
 * (filled dot) and 95% interval (bar), with the zero line and the lossless band.
 */
function pairedDeltaChart(summary: ResultsSummary, format: MetricFormat): { svg: string; marks: number; height: number; clipped: number } {
  const rows = summary.policies.map((p, index) => ({ p, index })).filter(({ p }) => p.pairedDelta !== null);
  const labelWidth = Math.min(220, Math.max(80, ...rows.map(({ p }) => textWidth(p.label) + 8)));
  const rowHeight = 22;
  const frame: Frame = { width: 1180, height: 60 + Math.max(1, rows.length) * rowHeight, left: labelWidth + 10, right: 20, top: 10, bottom: 44 };
  if (rows.length === 0) return { svg: emptySvg(frame, summary.baselineLabel === null ? 'paired differences need a run labelled full' : 'no policy shares a seed with the baseline'), marks: 0, height: frame.height, clipped: 0 };
  const values = rows.flatMap(({ p }) => [...p.pairedDelta!.perSeed.map((d) => d.difference), p.pairedDelta!.ciLow ?? 0, p.pairedDelta!.ciHigh ?? 0]);
  const tol = summary.losslessTolerance ?? 0;
  const [lo, hi] = bulkRange(values, [-tol, tol], tol) ?? [-1, 1];
  const xDomain = padDomain(lo, hi, 0.05);
  let clipped = 0;
  const unit = format.percent ? ' (points)' : '';
  const yDomain: [number, number] = [rows.length - 0.5, -0.5];
  const ax = axes(frame, xDomain, yDomain, `${format.name} − ${summary.baselineLabel}${unit}, per seed (hollow), mean (filled) and 95% CI (bar)`, '', { yTicks: [] });
  const parts: string[] = [toleranceBand(ax, frame, summary.losslessTolerance, xDomain, false)];
  rows.forEach(({ p, index }, row) => {
    const d = p.pairedDelta!;
    const color = colorOf(index);
    const cy = ax.y(row);
    parts.push(`<text class="row-label" x="${frame.left - 8}" y="${num(cy)}" text-anchor="end" dominant-baseline="middle">${escapeHtml(fitLabel(p.label, labelWidth))}<title>${escapeHtml(p.label)}</title></text>`);
    const tip = `${p.label}: mean ${formatSigned(d.mean, format.digits)}${d.std === null ? '' : ` ± ${formatNumber(d.std, format.digits)} (paired std)`}, 95% CI ${formatInterval(d, format.digits)}, ${d.n} paired seeds: ${p.verdict ?? 'n/a'}`;
    if (d.ciLow !== null && d.ciHigh !== null) {
      const a = clipTo(d.ciLow, xDomain);
      const b = clipTo(d.ciHigh, xDomain);
      parts.push(`<line data-series="${index}" stroke="${color}" stroke-width="3" stroke-opacity="0.55" x1="${num(ax.x(a.value))}" x2="${num(ax.x(b.value))}" y1="${num(cy)}" y2="${num(cy)}"/>`);
      for (const [end, at] of [[d.ciLow, a], [d.ciHigh, b]] as const) if (at.side !== 0) parts.push(clippedMark('x', ax.x(at.value), cy, at.side, color, end, '', `${p.label}: 95% CI ${formatInterval(d, format.digits)}`, index));
      clipped += (a.side !== 0 ? 1 : 0) + (b.side !== 0 ? 1 : 0);
    }
    d.perSeed.forEach((s, k) => {
      const jitter = ((k % 5) - 2) * 1.6;
      const seedTip = `${p.label}, seed ${s.seed}: ${formatSigned(s.difference, format.digits)}`;
      const at = clipTo(s.difference, xDomain);
      if (at.side !== 0) {
        clipped++;
        parts.push(clippedMark('x', ax.x(at.value), cy + jitter, at.side, color, s.difference, `seed ${s.seed}: ${formatSigned(s.difference, format.digits)}`, seedTip, index));
        return;
      }
      parts.push(`<circle data-series="${index}" cx="${num(ax.x(s.difference))}" cy="${num(cy + jitter)}" r="3" fill="#fff" stroke="${color}" stroke-width="1.2"><title>${escapeHtml(seedTip)}</title></circle>`);
    });
    const mean = clipTo(d.mean, xDomain);
    if (mean.side !== 0) {
      clipped++;
      parts.push(clippedMark('x', ax.x(mean.value), cy, mean.side, color, d.mean, `mean ${formatSigned(d.mean, format.digits)}`, tip, index));
    }
    parts.push(`<circle data-series="${index}" data-mark="point" cx="${num(ax.x(mean.value))}" cy="${num(cy)}" r="4.5" fill="${color}" stroke="#fff" stroke-width="1"${mean.side === 0 ? '' : ' fill-opacity="0.35"'}><title>${escapeHtml(tip)}</title></circle>`);
  });
  return { svg: `${svgOpen(frame, 'paired differences to the baseline per seed')}${ax.svg}<g>${parts.join('')}</g></svg>`, marks: rows.length, height: frame.height, clipped };
}

/** Colours of the frontier's lines. */
const METHOD_COLORS: Record<FrontierMethod, string> = { infobatch: '#e15759', random: '#4e79a7', 'fewer-epochs': '#59a14f' };

/**
 * The frontier: paired difference to full (mean, 95% CI) against saved passes or saved
 * wall-clock, one line per method through its points (and through full at 0), labelled at its end.
 */
function frontierChart(frontier: Frontier, summary: ResultsSummary, axis: 'passes' | 'wall', frame: Frame, format: MetricFormat): { svg: string; marks: number; clipped: number } {
  const savedOf = (p: FrontierPoint): number | null => (axis === 'passes' ? p.savedPasses : p.savedWallClock);
  const points = frontier.points.filter((p) => savedOf(p) !== null && p.delta !== null);
  if (points.length === 0) return { svg: emptySvg(frame, axis === 'wall' ? 'no saved wall-clock to plot' : 'no frontier points'), marks: 0, clipped: 0 };
  const xs = points.map((p) => savedOf(p)! * 100);
  const ys = points.flatMap((p) => [p.delta!.mean, p.delta!.ciLow ?? p.delta!.mean, p.delta!.ciHigh ?? p.delta!.mean]);
  const xDomain = padDomain(Math.min(0, ...xs), Math.max(...xs), 0.06);
  const tol = summary.losslessTolerance ?? 0;
  const [lo, hi] = bulkRange(ys, [0], tol) ?? [-1, 1];
  const yDomain = padDomain(lo, hi, 0.1);
  const clipY = (v: number) => clipTo(v, yDomain);
  let clipped = 0;
  const unit = format.percent ? ' (points)' : '';
  const ax = axes(frame, xDomain, yDomain, axis === 'passes' ? 'saved sample passes (%)' : 'saved wall-clock (%)', `Δ ${format.name} vs full${unit}`, { xFormat: (v) => `${formatNumber(v, 0)}%` });
  const parts: string[] = [toleranceBand(ax, frame, summary.losslessTolerance, yDomain, true)];
  const ends: { method: FrontierMethod; y: number }[] = [];
  const indexOf = (label: string) => summary.policies.findIndex((q) => q.label === label);
  for (const method of ['fewer-epochs', 'random', 'infobatch'] as const) {
    const line = points.filter((p) => p.method === method).sort((a, b) => savedOf(a)! - savedOf(b)!);
    if (line.length === 0) continue;
    const color = METHOD_COLORS[method];
    const path = [`M${num(ax.x(0))},${num(ax.y(0))}`, ...line.map((p) => `L${num(ax.x(savedOf(p)! * 100))},${num(ax.y(clipY(p.delta!.mean).value))}`)].join('');
    parts.push(`<path class="frontier-line" fill="none" stroke="${color}" stroke-width="2" d="${path}"/>`);
    for (const p of line) {
      const cx = ax.x(savedOf(p)! * 100);
      const d = p.delta!;
      const tip = `${FRONTIER_METHOD_NAMES[method]}, ${p.label}: Δ ${formatSigned(d.mean, format.digits)}, 95% CI ${formatInterval(d, format.digits)} at ${formatPercent(savedOf(p))} ${axis === 'passes' ? 'saved sample passes' : 'saved wall-clock'}: ${p.verdict ?? 'n/a'}`;
      if (d.ciLow !== null && d.ciHigh !== null) {
        const a = clipY(d.ciLow);
        const b = clipY(d.ciHigh);
        parts.push(`<line stroke="${color}" stroke-width="1.5" x1="${num(cx)}" x2="${num(cx)}" y1="${num(ax.y(a.value))}" y2="${num(ax.y(b.value))}"/>`);
        for (const [end, at] of [[d.ciLow, a], [d.ciHigh, b]] as const) if (at.side !== 0) parts.push(clippedMark('y', ax.y(at.value), cx, at.side, color, end, '', tip, indexOf(p.label)));
        clipped += (a.side !== 0 ? 1 : 0) + (b.side !== 0 ? 1 : 0);
      }
      const mean = clipY(d.mean);
      if (mean.side !== 0) {
        clipped++;
        parts.push(clippedMark('y', ax.y(mean.value), cx, mean.side, color, d.mean, formatSigned(d.mean, format.digits), tip, indexOf(p.label)));
      }
      parts.push(`<circle data-series="${indexOf(p.label)}" data-mark="point" cx="${num(cx)}" cy="${num(ax.y(mean.value))}" r="4" fill="${p.verdict === 'lossless' ? color : '#fff'}" stroke="${color}" stroke-width="1.8"><title>${escapeHtml(tip)}</title></circle>`);
    }
    ends.push({ method, y: ax.y(clipY(line[line.length - 1]!.delta!.mean).value) });
  }
  parts.push(`<circle cx="${num(ax.x(0))}" cy="${num(ax.y(0))}" r="3.5" fill="#333"><title>${escapeHtml(`${summary.baselineLabel}: the baseline`)}</title></circle>`);
  const layout = columnLayout(ends.map((e) => e.y), frame.top + 6, frame.height - frame.bottom - 2);
  ends.forEach((e, k) => {
    const x = frame.width - frame.right;
    const y = layout[k]!;
    parts.push(`<line stroke="${METHOD_COLORS[e.method]}" stroke-width="2.5" x1="${x + 5}" x2="${x + 17}" y1="${num(y)}" y2="${num(y)}"/><text class="point-label" x="${x + 21}" y="${num(y)}" dominant-baseline="middle">${escapeHtml(FRONTIER_METHOD_NAMES[e.method])}</text>`);
  });
  return { svg: `${svgOpen(frame, `frontier against ${axis === 'passes' ? 'saved sample passes' : 'saved wall-clock'}`)}${ax.svg}<g>${parts.join('')}</g></svg>`, marks: points.length, clipped };
}

/** Bars of one score histogram with the threshold drawn as a dashed vertical line. */
function histogramChart(edges: number[], counts: number[], threshold: number | null, index: number, frame: Frame, caption: string): { svg: string; marks: number } {
  const okEdges = edges.filter(isFiniteNumber);
  if (okEdges.length < 2 || edges.length !== counts.length + 1) return { svg: emptySvg(frame, 'malformed histogram'), marks: 0 };
  const finiteCounts = counts.map((c) => (isFiniteNumber(c) ? c : 0));
  const lo = Math.min(...okEdges, ...(isFiniteNumber(threshold) ? [threshold] : []));
  const hi = Math.max(...okEdges, ...(isFiniteNumber(threshold) ? [threshold] : []));
  // Counts on a log scale (log10(1 + count)), so a long tail of a few hard samples stays visible
  // beside the spike of well-learned ones.
  const maxCount = Math.max(1, ...finiteCounts);
  const logTop = Math.log10(1 + maxCount) * 1.12;
  const powers = Array.from({ length: Math.floor(Math.log10(maxCount)) + 1 }, (_, k) => 10 ** k);
  const ax = axes(frame, [lo, hi], [0, logTop], 'score', 'count (log scale)', { yFormat: (v) => formatCount(Math.round(10 ** v - 1)), yTicks: powers.map((c) => Math.log10(1 + c)) });
  const color = colorOf(index);
  const bars: string[] = [];
  for (let i = 0; i < counts.length; i++) {
    const a = edges[i]!;
    const b = edges[i + 1]!;
    if (!isFiniteNumber(a) || !isFiniteNumber(b)) continue;
    const x0 = ax.x(Math.min(a, b));
    const x1 = ax.x(Math.max(a, b));
    const y = ax.y(Math.log10(1 + finiteCounts[i]!));
    bars.push(`<rect data-series="${index}" data-mark="bar" x="${num(x0)}" y="${num(y)}" width="${num(Math.max(0.5, x1 - x0 - 0.5))}" height="${num(ax.y(0) - y)}" fill="${color}" fill-opacity="0.8"><title>${escapeHtml(`[${formatNumber(a, 4)}, ${formatNumber(b, 4)}): ${counts[i]}`)}</title></rect>`);
  }
  let marker = '';
  if (isFiniteNumber(threshold)) {
    const tx = ax.x(threshold);
    const text = `threshold ${formatNumber(threshold, 4)}`;
    const rightSide = tx + 4 + textWidth(text) <= frame.width - frame.right;
    marker = `<line class="threshold" x1="${num(tx)}" x2="${num(tx)}" y1="${frame.top}" y2="${frame.height - frame.bottom}"/><text class="threshold-label" x="${num(rightSide ? tx + 4 : tx - 4)}" y="${frame.top + 11}" text-anchor="${rightSide ? 'start' : 'end'}">${escapeHtml(text)}</text>`;
  }
  return { svg: `${svgOpen(frame, caption)}${ax.svg}<g>${bars.join('')}${marker}</g></svg>`, marks: bars.length };
}

function formatCount(v: number): string {
  if (Math.abs(v) >= 1e6) return `${formatNumber(v / 1e6, 1)}M`;
  if (Math.abs(v) >= 1e4) return `${formatNumber(v / 1e3, 0)}k`;
  return formatNumber(v, Number.isInteger(v) ? 0 : 1);
}

// ---------------------------------------------------------------------------------------------
// Page.

function figure(id: string, title: string, svg: string, marks: number, note = ''): string {
  const empty = marks === 0 ? ` data-empty="true"` : '';
  return `<figure class="chart" data-chart="${escapeHtml(id)}" data-marks="${marks}"${empty}><figcaption>${escapeHtml(title)}</figcaption>${svg}${note === '' ? '' : `<p class="note">${escapeHtml(note)}</p>`}</figure>`;
}

function curves(summary: ResultsSummary, pick: (e: PolicySummary['epochs'][number]) => Band): Curve[] {
  // Reports count epochs from 1 (results.json keeps the core's 0-based epoch).
  return summary.policies.map((p, index) => ({ index, label: p.label, points: p.epochs.map((e) => ({ x: e.epoch + 1, band: pick(e) })) }));
}

function histogramFigures(results: BenchResults, summary: ResultsSummary): string[] {
  const out: string[] = [];
  const frame: Frame = { width: 380, height: 220, left: 52, right: 12, top: 12, bottom: 40 };
  summary.policies.forEach((policy, index) => {
    const run = results.runs.find((r) => r.label === policy.label && (r.epochs ?? []).some((e) => e.scoreHistogram !== undefined));
    if (run === undefined) return;
    for (const record of run.epochs.filter((e): e is EpochRecord & Required<Pick<EpochRecord, 'scoreHistogram'>> => e.scoreHistogram !== undefined)) {
      const h = record.scoreHistogram;
      const threshold = h.threshold ?? record.threshold;
      const title = `${policy.label} · seed ${run.seed} · epoch ${record.epoch + 1}`;
      const chart = histogramChart(h.edges ?? [], h.counts ?? [], threshold, index, frame, `score histogram, ${title}`);
      const total = (h.counts ?? []).filter(isFiniteNumber).reduce((a, b) => a + b, 0);
      const carried = record.scorePersistence === undefined ? '' : `; rank correlation with the epoch's end ${formatRankCorrelation(record.scorePersistence.rankCorrelation)}`;
      out.push(figure(`histogram-${index}-${record.epoch}`, title, chart.svg, chart.marks, `${total} scores; kept ${formatPercent(record.keptFraction)} this epoch${isFiniteNumber(threshold) ? '' : '; no threshold'}${carried}`));
    }
  });
  return out;
}

/** A titled table of plain-text cells with a note below it; every cell escaped. */
function textTableHtml(title: string, className: string, columns: readonly string[], rows: readonly (readonly string[])[], note: string): string {
  const head = columns.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('');
  const body = rows.map((row) => `<tr>${row.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('');
  return [
    `<h3>${escapeHtml(title)}</h3>`,
    `<div class="table-wrap"><table class="summary ${className}"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`,
    `<p class="notes">${escapeHtml(note)}</p>`,
  ].join('\n');
}

/** The saved-CPU-per-seed table ({@link savedCpuTable}), or nothing when no label has a paired CPU saving. */
function savedCpuHtml(results: BenchResults, summary: ResultsSummary): string {
  const table = savedCpuTable(results, summary);
  return table === null ? '' : textTableHtml('Saved CPU time, per seed', 'saved-cpu', table.columns, table.rows, SAVED_CPU_NOTE);
}

/** The score persistence table, or nothing when no run recorded one. */
function scorePersistenceHtml(results: BenchResults, summary: ResultsSummary): string {
  const rows = scorePersistenceRows(results, summary.policies.map((p) => p.label));
  if (rows.length === 0) return '';
  return textTableHtml('How per-sample scores carry over from one epoch to the next', 'persistence', SCORE_PERSISTENCE_COLUMNS, rows.map(scorePersistenceCells), SCORE_PERSISTENCE_NOTE);
}

const STYLE = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #1d1d1f; background: #fff; }
main { max-width: 1240px; margin: 0 auto; padding: 20px 24px 40px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 10px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 8px; }
.meta { color: #555; margin: 0; }
pre { background: #f5f5f7; border: 1px solid #e2e2e6; border-radius: 4px; padding: 8px 10px; white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; font: 12.5px/1.4 ui-monospace, "DejaVu Sans Mono", monospace; }
.kv { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 2px 24px; margin: 0; }
.kv div { display: flex; gap: 8px; min-width: 0; }
.kv dt { color: #555; flex: none; }
.kv dd { margin: 0; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12.5px; overflow-wrap: anywhere; }
table.summary { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
table.summary th, table.summary td { padding: 5px 8px; border-bottom: 1px solid #e4e4e8; text-align: right; white-space: nowrap; }
table.summary th { background: #f5f5f7; font-weight: 600; white-space: normal; vertical-align: bottom; }
.table-wrap { overflow-x: auto; }
.nowrap { white-space: nowrap; }
table.summary th:first-child, table.summary td:first-child { text-align: left; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; vertical-align: baseline; }
.notes { color: #555; font-size: 12.5px; }
ul.reading { margin: 6px 0 0; padding-left: 20px; }
ul.legend { list-style: none; padding: 0; margin: 0 0 8px; display: flex; flex-wrap: wrap; gap: 4px 16px; }
ul.legend li { cursor: pointer; user-select: none; }
ul.legend li.off { opacity: 0.35; text-decoration: line-through; }
.grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(540px, 1fr)); gap: 16px; }
.grid3 { display: grid; grid-template-columns: repeat(auto-fill, minmax(360px, 1fr)); gap: 12px; }
figure.chart { margin: 0; border: 1px solid #e4e4e8; border-radius: 6px; padding: 8px 10px 6px; min-width: 0; }
figure.chart figcaption { font-weight: 600; margin-bottom: 4px; }
figure.chart svg { display: block; width: 100%; height: auto; overflow: visible; }
figure.chart .note { margin: 2px 0 0; color: #666; font-size: 12px; }
figure.image { margin: 0; border: 1px solid #e4e4e8; border-radius: 6px; padding: 8px 10px 6px; }
figure.image figcaption { font-weight: 600; margin-bottom: 4px; }
figure.image img { display: block; width: 100%; max-width: 360px; height: auto; image-rendering: pixelated; }
figure.image .note { margin: 2px 0 0; color: #666; font-size: 12px; }
svg text { font-family: system-ui, "DejaVu Sans", sans-serif; font-size: 11px; fill: #333; }
svg .grid { stroke: #ececf0; stroke-width: 1; }
svg .frame { fill: none; stroke: #bbb; stroke-width: 1; }
svg .zero { stroke: #999; stroke-dasharray: 3 3; }
svg .axis-title { font-size: 12px; fill: #444; }
svg .empty { font-size: 13px; fill: #777; }
svg .leader { stroke: #bbb; stroke-width: 0.75; }
svg .band { fill: #e8f3e8; stroke: none; }
td.verdict-lossless { color: #1a7f37; font-weight: 600; }
td.verdict-worse { color: #b00020; }
td.verdict-better { color: #1a5fb4; font-weight: 600; }
td.verdict-inconclusive { color: #8a6d00; }
svg .row-label { font-size: 11.5px; fill: #222; }
svg .clipped-label { font-size: 10.5px; fill: #222; font-weight: 600; }
svg .threshold { stroke: #c00; stroke-width: 1.5; stroke-dasharray: 5 3; }
svg .threshold-label { fill: #c00; font-weight: 600; }
svg .hidden { display: none; }
#error-banner { background: #b00020; color: #fff; padding: 10px 24px; font-weight: 600; white-space: pre-wrap; }
`;

/** Runs first: any uncaught error shows the banner and marks the page as failed. */
const EARLY_SCRIPT = `
(function () {
  function fail(message) {
    var banner = document.getElementById('error-banner');
    if (banner) { banner.hidden = false; banner.textContent = 'Report script error: ' + message; }
    document.body.dataset.rendered = 'error';
  }
  window.__reportFail = fail;
  window.addEventListener('error', function (event) { fail(event.message || String(event.error)); });
})();
`;

/** Runs last: reads the embedded data, checks the charts, wires the legend, sets the marker. */
const MAIN_SCRIPT = `
(function () {
  try {
    var data = JSON.parse(document.getElementById('report-data').textContent);
    var policies = data.summary.policies;
    var legendItems = document.querySelectorAll('ul.legend li[data-series]');
    if (legendItems.length !== policies.length) throw new Error('legend has ' + legendItems.length + ' entries for ' + policies.length + ' policies');
    var figures = document.querySelectorAll('figure.chart');
    var problems = [];
    for (var i = 0; i < figures.length; i++) {
      var f = figures[i];
      var svg = f.querySelector('svg');
      if (!svg) { problems.push(f.dataset.chart + ': no svg'); continue; }
      var marks = svg.querySelectorAll('[data-mark]').length;
      if (marks === 0 && f.dataset.empty !== 'true') problems.push(f.dataset.chart + ': nothing drawn');
      var box = svg.getBoundingClientRect();
      if (box.width < 10 || box.height < 10) problems.push(f.dataset.chart + ': zero-size chart');
    }
    if (problems.length > 0) throw new Error(problems.join('; '));
    for (var j = 0; j < legendItems.length; j++) {
      legendItems[j].addEventListener('click', function (event) {
        var item = event.currentTarget;
        var off = item.classList.toggle('off');
        var nodes = document.querySelectorAll('svg [data-series="' + item.dataset.series + '"]');
        for (var k = 0; k < nodes.length; k++) nodes[k].classList.toggle('hidden', off);
      });
    }
    if (document.body.dataset.rendered !== 'error') {
      document.body.dataset.charts = String(figures.length);
      document.body.dataset.height = String(Math.ceil(document.documentElement.scrollHeight));
      document.body.dataset.rendered = 'ok';
    }
  } catch (error) {
    window.__reportFail(error && error.message ? error.message : String(error));
  }
})();
`;

/** A column header that may wrap only between phrases: "(…)" groups, hyphenated words and a trailing unit stay whole. */
function headerHtml(text: string): string {
  const parts = text.match(/\([^)]*\)|\S+/g) ?? [];
  if (parts.length > 1 && parts[parts.length - 1]!.length <= 2) parts.splice(-2, 2, `${parts[parts.length - 2]!} ${parts[parts.length - 1]!}`);
  return parts.map((part) => (part.includes(' ') || part.includes('-') ? `<span class="nowrap">${escapeHtml(part)}</span>` : escapeHtml(part))).join(' ');
}

function summaryTableHtml(summary: ResultsSummary, format: MetricFormat): string {
  const keys = SUMMARY_KEYS;
  const head = `<tr>${summaryColumns(format).map((c) => `<th scope="col">${headerHtml(c)}</th>`).join('')}</tr>`;
  const rows = summary.policies.map((p, index) => {
    const row = summaryRowText(p, format);
    const cells = keys.map((k, i) => {
      if (i === 0) return `<td><span class="swatch" style="background:${colorOf(index)}"></span>${escapeHtml(row[k])}</td>`;
      if (k === 'verdict' && p.verdict !== null) return `<td class="verdict-${p.verdict}">${escapeHtml(row[k])}</td>`;
      return `<td>${escapeHtml(row[k])}</td>`;
    });
    return `<tr data-label="${escapeHtml(p.label)}">${cells.join('')}</tr>`;
  });
  return `<div class="table-wrap"><table class="summary"><thead>${head}</thead><tbody>${rows.join('')}</tbody></table></div>`;
}

/** Figures for the runs' images (e.g. diffusion samples), or '' when no run has one. */
function imagesHtml(results: BenchResults): string {
  const figures = results.runs.flatMap((run) =>
    (Array.isArray(run.images) ? run.images : [])
      .filter((image) => typeof image?.pngBase64 === 'string' && /^[A-Za-z0-9+/]+={0,2}$/.test(image.pngBase64))
      .map((image) => {
        const title = `${run.label} · seed ${run.seed}`;
        return `<figure class="image" data-image="${escapeHtml(image.file)}"><figcaption>${escapeHtml(title)}</figcaption><img alt="${escapeHtml(`${title}: ${image.caption}`)}" src="data:image/png;base64,${image.pngBase64}"><p class="note">${escapeHtml(image.caption)}</p></figure>`;
      }),
  );
  return figures.length === 0 ? '' : `<h3>Images (written beside results.json too)</h3><div class="grid3">${figures.join('')}</div>`;
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function keyValues(entries: [string, unknown][]): string {
  return `<dl class="kv">${entries
    .map(([k, v]) => `<div><dt>${escapeHtml(k)}</dt><dd>${escapeHtml(typeof v === 'string' ? v : JSON.stringify(v) ?? String(v))}</dd></div>`)
    .join('')}</dl>`;
}

/** The frontier's two plots, its table and its sentences. */
function frontierSection(frontier: Frontier, summary: ResultsSummary, format: MetricFormat, frame: Frame): string {
  const passes = frontierChart(frontier, summary, 'passes', frame, format);
  const wall = frontierChart(frontier, summary, 'wall', frame, format);
  const d = format.digits;
  const rows = frontier.points.map((p) => {
    const delta = p.delta === null ? 'n/a' : `${formatSigned(p.delta.mean, d)}${p.delta.std === null ? '' : ` ± ${formatNumber(p.delta.std, d)}`}`;
    const cells = [FRONTIER_METHOD_NAMES[p.method], p.label, String(p.delta?.n ?? 0), formatPercent(p.savedPasses), formatPairedSaving(p.savedWallClock, p.savedWallClockSeeds, p.seeds), formatPairedSaving(p.savedCpu, p.savedCpuSeeds, p.seeds), delta, formatInterval(p.delta, d), p.verdict ?? 'n/a'];
    const cell = (c: string, i: number): string => {
      if (i === 0) return `<td><span class="swatch" style="background:${METHOD_COLORS[p.method]}"></span>${escapeHtml(c)}</td>`;
      if (i === cells.length - 1 && p.verdict !== null) return `<td class="verdict-${p.verdict}">${escapeHtml(c)}</td>`;
      return `<td>${escapeHtml(c)}</td>`;
    };
    return `<tr>${cells.map(cell).join('')}</tr>`;
  });
  const unit = format.percent ? ' (points)' : '';
  const head = ['method', 'policy', 'paired seeds', 'saved sample passes', 'saved wall-clock', 'saved CPU', `Δ vs full${unit}`, '95% CI', 'verdict'];
  return [
    '<h3>Frontier: InfoBatch against random pruning and fewer epochs at the same saving</h3>',
    '<div class="grid2">',
    figure('frontier-passes', 'Δ vs full against saved sample passes (filled: lossless; bars: paired 95% CI)', passes.svg, passes.marks, passes.clipped > 0 ? CLIPPED_NOTE : ''),
    figure('frontier-wall', 'Δ vs full against saved wall-clock (filled: lossless; bars: paired 95% CI)', wall.svg, wall.marks, wall.clipped > 0 ? CLIPPED_NOTE : ''),
    '</div>',
    `<div class="table-wrap"><table class="summary frontier"><thead><tr>${head.map((h) => `<th scope="col">${headerHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table></div>`,
    `<ul class="reading">${frontier.sentences.map((x) => `<li>${escapeHtml(x)}</li>`).join('')}</ul>`,
  ].join('\n');
}

/** Renders the self-contained report.html for a results object. */
export function renderHtmlReport(results: BenchResults, options: HtmlReportOptions = {}): string {
  const summary = options.summary ?? summarizeResults(results);
  const title = options.title ?? results.name;
  const wide: Frame = { width: 580, height: 320, left: 60, right: 16, top: 14, bottom: 44 };

  const format = metricFormat(summary);
  const metricTitle = `${format.name}${format.percent ? ' (%)' : ''}`;
  const accuracy = curveChart(curves(summary, (e) => e.testAccuracy), wide, 'epoch', metricTitle, { valueFormat: (v) => formatMetric(v, format) });
  const kept = curveChart(curves(summary, (e) => e.keptFraction), wide, 'epoch', 'kept fraction', {
    yDomain: [0, 1.05],
    yFormat: (v) => formatPercent(v, 0),
    valueFormat: (v) => formatPercent(v, 1),
  });

  const scatterFrame: Frame = { ...wide, right: 160 };
  const withDelta = summary.policies.map((p, index) => ({ p, index })).filter(({ p }) => p.pairedDelta !== null);
  const unit = format.percent ? ' (points)' : '';
  const noDelta = summary.baselineLabel === null ? 'differences need a run labelled full' : 'no policy shares a seed with the baseline';
  const scatterWall = deltaScatterChart(
    withDelta.filter(({ p }) => p.savedWallClock !== null).map(({ p, index }) => ({ index, label: p.label, x: p.savedWallClock! * 100, delta: p.pairedDelta! })),
    scatterFrame,
    'saved wall-clock vs full (%)',
    `Δ ${format.name} vs full${unit}`,
    'saved wall-clock',
    noDelta,
    format,
    summary.losslessTolerance,
  );
  const scatterPasses = deltaScatterChart(
    withDelta.filter(({ p }) => p.savedSamplePasses.mean !== null).map(({ p, index }) => ({ index, label: p.label, x: p.savedSamplePasses.mean! * 100, delta: p.pairedDelta! })),
    scatterFrame,
    'saved sample passes (%)',
    `Δ ${format.name} vs full${unit}`,
    'saved sample passes',
    noDelta,
    format,
    summary.losslessTolerance,
  );
  const paired = pairedDeltaChart(summary, format);
  const frontier = frontierOf(results, summary, format);
  const frontierHtml = frontier === null ? '' : frontierSection(frontier, summary, format, scatterFrame);
  const wallNote = summary.baselineLabel === null ? 'No run is labelled full: saved wall-clock is n/a.' : '';
  const histograms = histogramFigures(results, summary);

  const legend = `<ul class="legend" title="click to hide or show a policy">${summary.policies
    .map((p, index) => `<li data-series="${index}"><span class="swatch" style="background:${colorOf(index)}"></span>${escapeHtml(p.label)}</li>`)
    .join('')}</ul>`;

  const env = results.environment;
  const notes = summaryNotes(summary, format).join(' ');
  const convergence = summary.baselineLabel === null ? null : convergenceCheck(results, summary.baselineLabel, format);
  const stalled = stalledRunsSentence(stalledRuns(results), format, reportScale(results));

  const body = [
    '<div id="error-banner" hidden></div>',
    `<script>${EARLY_SCRIPT}</script>`,
    '<main>',
    `<h1>${escapeHtml(title)}</h1>`,
    `<p class="meta">Created ${escapeHtml(results.createdAt)} · ${summary.policies.length} policies · ${results.runs.length} runs</p>`,
    '<h2>Command</h2>',
    `<pre><code>${escapeHtml(results.command)}</code></pre>`,
    '<h2>Environment and config</h2>',
    keyValues([
      ['node', env.node],
      ['backend', env.backend],
      ['cpus', env.cpus],
      ['platform', env.platform],
    ]),
    '<h3>Config</h3>',
    keyValues(Object.entries(results.config)),
    '<h2>Results</h2>',
    summaryTableHtml(summary, format),
    `<p class="notes">${escapeHtml(notes)}</p>`,
    ...(convergence === null ? [] : [`<p class="notes convergence">${escapeHtml(convergenceSentence(convergence, format))}</p>`]),
    ...(stalled === null ? [] : [`<p class="notes stalled"><strong>${escapeHtml(stalled)}</strong></p>`]),
    savedCpuHtml(results, summary),
    '<h3>Reading</h3>',
    `<ul class="reading">${summary.policies.map((p) => `<li>${escapeHtml(readingLine(p, summary.baselineLabel, format))}</li>`).join('')}</ul>`,
    '<h2>Plots</h2>',
    legend,
    figure('paired', `Paired difference to ${summary.baselineLabel ?? 'full'} per seed (band: |Δ| within the lossless tolerance)`, paired.svg, paired.marks, paired.clipped > 0 ? CLIPPED_NOTE : ''),
    frontierHtml,
    '<div class="grid2">',
    figure('accuracy', `${format.custom ? capitalised(format.name) : 'Test accuracy'} per epoch (mean over seeds, band: min–max)`, accuracy.svg, accuracy.marks),
    figure('kept', 'Kept fraction per epoch (mean over seeds, band: min–max)', kept.svg, kept.marks),
    figure('scatter-passes', `Δ ${format.custom ? format.name : 'accuracy'} vs full against saved sample passes (error bars: paired 95% CI)`, scatterPasses.svg, scatterPasses.marks, scatterPasses.clipped > 0 ? CLIPPED_NOTE : ''),
    figure('scatter-wall', `Δ ${format.custom ? format.name : 'accuracy'} vs full against saved wall-clock (error bars: paired 95% CI)`, scatterWall.svg, scatterWall.marks, [wallNote, scatterWall.clipped > 0 ? CLIPPED_NOTE : ''].filter((n) => n !== '').join(' ')),
    '</div>',
    '<h3>Score distributions before the epoch\'s plan (first seed with histograms; counts on a log scale; dashed line: threshold)</h3>',
    histograms.length === 0 ? '<p class="notes">No run recorded score histograms.</p>' : `<div class="grid3">${histograms.join('')}</div>`,
    scorePersistenceHtml(results, summary),
    imagesHtml(results),
    '</main>',
    `<script type="application/json" id="report-data">${jsonForScript({ schemaVersion: 1, summary, results })}</script>`,
    `<script>${MAIN_SCRIPT}</script>`,
  ].join('\n');

  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
