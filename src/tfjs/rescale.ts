/**
 * Optimizer-aware rescaling: which {@link RescaleMode} a tfjs optimizer gets, and the scaled
 * learning rate of one `'step'`-mode update.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { describeValue, InfoBatchError } from '../core/errors.js';
import type { AppliedRescaleMode, RescaleMode } from '../core/rescale.js';
import { learningRateOf, setLearningRate } from './learning-rate.js';

/** The mode a run uses, and why (reported in `TrainResult.rescale` and fit's `History.params`). */
export interface RescaleChoice {
  /** The mode applied. */
  readonly mode: AppliedRescaleMode;
  /** The optimizer's class name (`optimizer.getClassName()`). */
  readonly optimizer: string;
  /** One sentence saying why this mode was chosen. */
  readonly reason: string;
}

/**
 * tfjs optimizers whose step is proportional to the gradient (a larger gradient makes a larger
 * step): the up-weighting may go into the loss. Momentum is here too, and must be: it sums raw
 * gradients across steps, so scaling each step's rate instead of its gradient would weigh the
 * velocity by the current batch's factor rather than by each past batch's own.
 */
const GRADIENT_PROPORTIONAL = new Set(['SGD', 'Momentum']);
/** tfjs optimizers that divide each step by a running gradient scale. */
const ADAPTIVE = new Set(['Adam', 'Adamax', 'RMSProp', 'Adagrad', 'Adadelta']);

function classNameOf(optimizer: tf.Optimizer): string {
  try {
    const name = optimizer.getClassName();
    return typeof name === 'string' && name.length > 0 ? name : 'an optimizer without a class name';
  } catch {
    return 'an optimizer without a class name';
  }
}

/**
 * Resolves `rescaleMode` for `optimizer`. `'auto'` gives `'loss'` for tfjs's `SGD` and `Momentum`
 * (the step follows the gradient's size, so the paper's up-weighted loss keeps a pruned epoch's
 * total update; bit-identical to earlier releases) and `'step'` for `Adam`, `Adamax`, `RMSProp`,
 * `Adagrad`, `Adadelta` and any optimizer it does not know whose numeric `learningRate` it can set
 * (for a gradient-proportional optimizer `'step'` is the same update, for an adaptive one it is
 * the only form that keeps the epoch's total step; an unknown optimizer without a settable rate
 * gets `'loss'`). An explicit `'step'` needs a numeric `learningRate` field.
 * @throws InfoBatchError 'UNSUPPORTED' for `'step'` with an optimizer whose learning rate cannot be set.
 */
export function chooseRescaleMode(where: string, requested: RescaleMode, optimizer: tf.Optimizer): RescaleChoice {
  const name = classNameOf(optimizer);
  const settable = learningRateOf(optimizer) !== undefined;
  if (requested === 'step' && !settable) {
    throw new InfoBatchError('UNSUPPORTED', `'rescaleMode' passed to ${where} is 'step', but ${name} has no numeric 'learningRate' field to scale; use rescaleMode 'loss' (or 'auto').`);
  }
  if (requested !== 'auto') return { mode: requested, optimizer: name, reason: `rescaleMode '${requested}' was asked for` };
  if (GRADIENT_PROPORTIONAL.has(name)) {
    return { mode: 'loss', optimizer: name, reason: `${name} steps in proportion to the gradient, so the up-weighted loss keeps each epoch's total update (the paper's form)` };
  }
  if (ADAPTIVE.has(name)) {
    return { mode: 'step', optimizer: name, reason: `${name} divides each step by a running gradient scale, so the up-weighting goes into the step's learning rate` };
  }
  if (settable) {
    return { mode: 'step', optimizer: name, reason: `${name} is not a tfjs optimizer this library knows; 'step' keeps the epoch's total step whether it is adaptive or not` };
  }
  return { mode: 'loss', optimizer: name, reason: `${name} is not a tfjs optimizer this library knows and has no numeric learningRate to scale` };
}

/**
 * Runs `update` (an optimizer step) with the optimizer's learning rate multiplied by `factor`,
 * and puts the rate back as it was right after, also when `update` throws. A factor of exactly 1
 * changes nothing. The rate is read when the step runs, so a schedule or callback that set it
 * before keeps working: the factor multiplies whatever rate is set.
 * @internal
 */
export function withScaledLearningRate<T>(optimizer: tf.Optimizer, factor: number, update: () => T): T {
  if (factor === 1) return update();
  const rate = learningRateOf(optimizer);
  if (rate === undefined) {
    throw new InfoBatchError('UNSUPPORTED', `withScaledLearningRate: ${classNameOf(optimizer)} has no numeric 'learningRate' (got ${describeValue((optimizer as unknown as { learningRate?: unknown }).learningRate)}); use rescaleMode 'loss'.`);
  }
  const remedy = "use rescaleMode 'loss'";
  setLearningRate(optimizer, rate * factor, 'withScaledLearningRate', remedy);
  try {
    return update();
  } finally {
    setLearningRate(optimizer, rate, 'withScaledLearningRate', remedy);
  }
}
