import { describeValue, InfoBatchError } from './errors.js';
import { assertArrayLike } from './validate.js';

/**
 * Where InfoBatch's up-weighting of the kept samples goes (the `rescaleMode` option of the
 * training functions):
 * - `'loss'`: into the objective, `Σ wᵢ·lᵢ / B` (the paper's form). Under plain SGD a pruned
 *   epoch then takes fewer but larger steps and moves the weights as far as a full epoch.
 * - `'step'`: the batch's direction is the weighted mean `Σ wᵢ·lᵢ / Σ wᵢ` and that step's learning
 *   rate is multiplied by the batch's {@link stepScale} `Σ wᵢ / B`. Under plain SGD this is the
 *   same update; under optimizers that divide each step by a running gradient scale (Adam,
 *   RMSProp, Adagrad, Adadelta, Adamax) a larger gradient does not make a larger step, so only this
 *   form keeps a pruned epoch's total step size equal to a full epoch's.
 * - `'auto'`: `'loss'` for SGD and momentum, `'step'` for every other optimizer (see the tfjs
 *   adapter's `chooseRescaleMode`).
 */
export type RescaleMode = 'auto' | 'loss' | 'step';

/** A {@link RescaleMode} once `'auto'` is resolved. */
export type AppliedRescaleMode = Exclude<RescaleMode, 'auto'>;

/** The values of {@link RescaleMode}. */
export const RESCALE_MODES: readonly RescaleMode[] = ['auto', 'loss', 'step'];

/** Throws unless `value` is a {@link RescaleMode}. @internal */
export function assertRescaleMode(where: string, name: string, value: unknown): asserts value is RescaleMode {
  if (!RESCALE_MODES.includes(value as RescaleMode)) {
    throw new InfoBatchError('INVALID_OPTION', `'${name}' passed to ${where} must be one of ${RESCALE_MODES.map((m) => `'${m}'`).join(', ')} but got ${describeValue(value)}.`);
  }
}

/**
 * The factor `Σ wᵢ / B` by which `'step'` mode multiplies a batch's learning rate: 1 for a
 * full-data batch, above 1 for a batch holding up-weighted samples. Over a pruning epoch of
 * InfoBatch, `Σ w` over the plan is the number of samples, so the epoch's steps move as far in
 * total as a full epoch's.
 * @param weights - the batch's InfoBatch weights (non-empty, each finite and >= 0).
 * @throws InfoBatchError for an empty array or a weight that is not a finite number >= 0.
 *
 * @example
 * ```ts
 * stepScale(Float32Array.of(2, 1, 1, 2)); // 1.5
 * ```
 */
export function stepScale(weights: ArrayLike<number>): number {
  assertArrayLike('stepScale', 'weights', weights);
  if (weights.length === 0) {
    throw new InfoBatchError('SHAPE_MISMATCH', `'weights' passed to stepScale must hold at least one weight but is empty.`);
  }
  let sum = 0;
  for (let j = 0; j < weights.length; j++) {
    const weight = weights[j]!;
    if (typeof weight !== 'number' || !(weight >= 0 && weight - weight === 0)) {
      throw new InfoBatchError('OUT_OF_RANGE', `'weights[${j}]' passed to stepScale must be a finite number >= 0 but got ${describeValue(weight)}.`);
    }
    sum += weight;
  }
  return sum / weights.length;
}

/**
 * The denominator of a batch's objective: `B` (the batch length) in `'loss'` mode, `Σ wᵢ` in
 * `'step'` mode (1 when every weight is 0, so that such a batch contributes a zero objective
 * instead of a division by zero; its {@link stepScale} is 0 too).
 * @internal
 */
export function objectiveDenominator(weights: ArrayLike<number>, mode: AppliedRescaleMode): number {
  if (mode === 'loss') return weights.length;
  const sum = stepScale(weights) * weights.length;
  return sum > 0 ? sum : 1;
}
