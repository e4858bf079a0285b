import { assertNumberInRange } from './validate.js';
import { InfoBatchError } from './errors.js';

/**
 * How the score threshold of an epoch is chosen: `'mean'` (the paper's rule) or the
 * `quantile` of the scored samples (an ablation of the paper: `{ quantile: 0.5 }` is the median).
 */
export type ThresholdRule = 'mean' | {
  /** The quantile `q` of the scores, in (0, 1). */
  readonly quantile: number;
};

/** Throws unless `rule` is a valid {@link ThresholdRule}. @internal */
export function assertThresholdRule(where: string, rule: unknown): asserts rule is ThresholdRule {
  if (rule === 'mean') return;
  if (typeof rule === 'object' && rule !== null && 'quantile' in rule && Object.keys(rule).length === 1) {
    assertNumberInRange(where, 'threshold.quantile', (rule as { quantile: unknown }).quantile, 0, 1, '()');
    return;
  }
  throw new InfoBatchError(
    'INVALID_OPTION',
    `'threshold' passed to ${where} must be 'mean' or { quantile: q } with q in (0, 1) but got ${JSON.stringify(rule)}.`,
  );
}

/**
 * The threshold of the scored samples (NaN scores are unscored and ignored); NaN when no sample
 * has a score.
 * @param scores - per-sample scores, NaN where unscored.
 * @param rule - the threshold rule.
 * @param scratch - optional buffer of at least `scores.length` floats, used by quantile rules.
 */
export function computeThreshold(scores: Float32Array, rule: ThresholdRule, scratch?: Float32Array): number {
  if (rule === 'mean') {
    let sum = 0;
    let count = 0;
    for (let i = 0; i < scores.length; i++) {
      const s = scores[i]!;
      if (s === s) {
        sum += s;
        count++;
      }
    }
    return count === 0 ? Number.NaN : sum / count;
  }
  const values = scratch ?? new Float32Array(scores.length);
  let count = 0;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (s === s) values[count++] = s;
  }
  if (count === 0) return Number.NaN;
  // Nearest-rank quantile: the smallest value with at least q·count values at or below it.
  const rank = Math.min(count - 1, Math.max(0, Math.ceil(rule.quantile * count) - 1));
  return quickselect(values, rank, count);
}

/** The `rank`-th smallest of `values[0, length)`, reordering them (Hoare selection). @internal */
export function quickselect(values: Float32Array, rank: number, length: number): number {
  let low = 0;
  let high = length - 1;
  while (high > low) {
    const middle = (low + high) >>> 1;
    const pivot = median3(values[low]!, values[middle]!, values[high]!);
    let i = low;
    let j = high;
    while (i <= j) {
      while (values[i]! < pivot) i++;
      while (values[j]! > pivot) j--;
      if (i <= j) {
        const t = values[i]!;
        values[i] = values[j]!;
        values[j] = t;
        i++;
        j--;
      }
    }
    if (rank <= j) high = j;
    else if (rank >= i) low = i;
    else break;
  }
  return values[rank]!;
}

function median3(a: number, b: number, c: number): number {
  if (a < b) return b < c ? b : a < c ? c : a;
  return a < c ? a : b < c ? c : b;
}
