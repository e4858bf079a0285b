/**
 * The part of an axis a plot shows: the bulk of its values, so that one far outlier (a collapsed
 * run 78 points down) does not squeeze differences of a tenth of a point into a line. Values
 * outside are drawn clipped at the edge, with their value (see report-html.ts).
 */

/** Quantile `q` of sorted finite values, by linear interpolation between order statistics. */
function quantile(sorted: readonly number[], q: number): number {
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

/** Multiple of the interquartile range beyond the quartiles past which a value is a far outlier (Tukey's far fences). */
export const FAR_OUTLIER_IQR = 3;

/** Clip only when the whole range would be more than this many times the bulk's. */
export const SQUEEZE_FACTOR = 4;

/**
 * `[lo, hi]` for an axis: the whole range of `values` and `keep`, unless one or a few far
 * outliers would squeeze the rest. The bulk is every finite value within the quartiles ±
 * {@link FAR_OUTLIER_IQR} interquartile ranges (at least `minSpread`, when the quartiles nearly
 * coincide), plus `keep` (e.g. 0 and a tolerance band). When the whole range is at most
 * {@link SQUEEZE_FACTOR} times the bulk's, the whole range is returned; otherwise the bulk
 * widened by its own span on each side, so that only values far from everything else are left
 * out (to be drawn clipped at the edge). With fewer than 4 values nothing is an outlier. Null when
 * there is no finite value at all.
 * @param values - the plotted values (means, interval ends, per-seed differences).
 * @param keep - values the range must always include.
 * @param minSpread - the smallest spread the fences use, so that identical quartiles do not make every other value an outlier.
 *
 * @example
 * ```ts
 * bulkRange([0.1, -0.2, 0.3, -0.1, 0.2, -78], [0]); // [-0.2, 0.3]: -78 is drawn clipped
 * bulkRange([0.1, -0.2, 0.3, -0.1, 0.2, -1.5], [0]); // [-1.5, 0.3]: not far enough to clip
 * ```
 */
export function bulkRange(values: readonly number[], keep: readonly number[] = [], minSpread = 0): [number, number] | null {
  const finite = values.filter(Number.isFinite);
  const kept = keep.filter(Number.isFinite);
  const everything = [...finite, ...kept];
  if (everything.length === 0) return null;
  const whole: [number, number] = [Math.min(...everything), Math.max(...everything)];
  if (finite.length < 4) return whole;
  const sorted = [...finite].sort((a, b) => a - b);
  const q1 = quantile(sorted, 0.25);
  const q3 = quantile(sorted, 0.75);
  const spread = Math.max(q3 - q1, minSpread);
  const bulk = [...finite.filter((v) => v >= q1 - FAR_OUTLIER_IQR * spread && v <= q3 + FAR_OUTLIER_IQR * spread), ...kept];
  const lo = Math.min(...bulk);
  const hi = Math.max(...bulk);
  const span = hi - lo;
  if (whole[1] - whole[0] <= SQUEEZE_FACTOR * span) return whole;
  const shown = [...finite.filter((v) => v >= lo - span && v <= hi + span), ...kept];
  return [Math.min(...shown), Math.max(...shown)];
}
