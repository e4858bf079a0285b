/**
 * Reading and setting a tfjs optimizer's learning rate, in one place: schedules set it per epoch or
 * step, `rescaleMode: 'step'` scales it around each step, and whole-run checkpoints save and
 * restore it.
 * @internal
 */
import type * as tf from '@tensorflow/tfjs-core';
import { InfoBatchError } from '../core/errors.js';

interface RateHolder {
  learningRate?: unknown;
  setLearningRate?: (rate: number) => void;
}

/** The optimizer's learning rate, when it keeps one as a finite number (every tfjs optimizer does). */
export function learningRateOf(optimizer: tf.Optimizer): number | undefined {
  const rate = (optimizer as unknown as RateHolder).learningRate;
  return typeof rate === 'number' && Number.isFinite(rate) ? rate : undefined;
}

/**
 * Sets the optimizer's learning rate: through `setLearningRate()` where it has one (SGD and
 * Momentum also keep the rate as a scalar tensor, which it renews), else its numeric
 * `learningRate` field (Adam, RMSProp, …).
 * @throws InfoBatchError 'UNSUPPORTED' when it has neither; `remedy` ends the message.
 */
export function setLearningRate(optimizer: tf.Optimizer, rate: number, where: string, remedy: string): void {
  const target = optimizer as unknown as RateHolder;
  if (typeof target.setLearningRate === 'function') target.setLearningRate(rate);
  else if (typeof target.learningRate === 'number') target.learningRate = rate;
  else {
    throw new InfoBatchError('UNSUPPORTED', `${where} cannot set the learning rate of ${optimizer.getClassName()}: it has neither setLearningRate() nor a numeric learningRate field; ${remedy}.`);
  }
}
