import { InfoBatchError } from './errors.js';
import { assertArrayLike } from './validate.js';

/**
 * The loss to train on for one batch: `sum(w·l) / B`, with `B` the batch length.
 * @param losses - per-sample losses.
 * @param weights - per-sample weights from the plan, aligned with `losses`.
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
  for (let j = 0; j < losses.length; j++) sum += weights[j]! * losses[j]!;
  return sum / losses.length;
}
