import { describeValue, InfoBatchError } from './errors.js';
import { assertArrayLike } from './validate.js';

/**
 * The loss to train on for one batch: `sum(w·l) / B`, with `B` the batch length.
 * @param losses - per-sample losses.
 * @param weights - per-sample weights from the plan, aligned with `losses`.
 * @throws InfoBatchError for a loss that is not a finite number or a weight that is not a finite
 *   number >= 0 (naming the element).
 *
 * @example
 * ```ts
 * weightedMean([0.2, 0.4], [2, 1]); // (0.4 + 0.4) / 2 = 0.4
 * ```
 */
export function weightedMean(losses: ArrayLike<number>, weights: ArrayLike<number>): number {
  assertArrayLike('weightedMean', 'losses', losses);
  assertArrayLike('weightedMean', 'weights', weights);
  if (losses.length !== weights.length || losses.length === 0) {
    throw new InfoBatchError('SHAPE_MISMATCH', `'losses' and 'weights' passed to weightedMean must be non-empty and of equal length but got ${losses.length} and ${weights.length}.`);
  }
  let sum = 0;
  for (let j = 0; j < losses.length; j++) {
    const loss = losses[j]!;
    const weight = weights[j]!;
    if (typeof loss !== 'number' || !(loss - loss === 0) || typeof weight !== 'number' || !(weight >= 0 && weight - weight === 0)) throw badElement(loss, weight, j);
    sum += weight * loss;
  }
  return sum / losses.length;
}

/** The error for the first bad element (off the hot path). */
function badElement(loss: unknown, weight: unknown, j: number): InfoBatchError {
  if (typeof loss !== 'number') return new InfoBatchError('INVALID_TYPE', `'losses[${j}]' passed to weightedMean must be a number but got ${describeValue(loss)}.`);
  if (!Number.isFinite(loss)) return new InfoBatchError('NON_FINITE_LOSS', `'losses[${j}]' passed to weightedMean must be a finite number but got ${describeValue(loss)}.`);
  if (typeof weight !== 'number') return new InfoBatchError('INVALID_TYPE', `'weights[${j}]' passed to weightedMean must be a number but got ${describeValue(weight)}.`);
  return new InfoBatchError('OUT_OF_RANGE', `'weights[${j}]' passed to weightedMean must be a finite number >= 0 but got ${describeValue(weight)}.`);
}
