/**
 * Per-sample losses (one value per sample, rank 1), as {@link InfoBatchTfjs.update} needs them.
 * All use `tf.logSoftmax` where logits are involved, so large logits do not overflow.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describeValue, InfoBatchError } from '../core/errors.js';
import { assertKnownKeys, assertNumberInRange, assertOptionBag } from '../core/validate.js';
import { isTensorLike } from './info-batch-tfjs.js';

/** Options of the cross-entropy helpers. */
export interface CrossEntropyOptions {
  /**
   * Mixes the target distribution with the uniform one: `target · (1 − s) + s / numClasses`
   * (the same rule as `tf.losses.softmaxCrossEntropy`). In `[0, 1)`.
   * @defaultValue 0
   */
  readonly labelSmoothing?: number;
}

function shapeText(tensor: tf.Tensor): string {
  return `[${tensor.shape.join(', ')}]`;
}

function assertTensor(where: string, name: string, value: unknown): asserts value is tf.Tensor {
  if (!isTensorLike(value)) {
    throw new InfoBatchError('INVALID_TYPE', `'${name}' passed to ${where} must be a tf.Tensor but got ${describeValue(value)}.`);
  }
}

function readLabelSmoothing(where: string, options: CrossEntropyOptions): number {
  assertOptionBag(where, 'options', options);
  assertKnownKeys(where, options, ['labelSmoothing']);
  const { labelSmoothing = 0 } = options;
  assertNumberInRange(where, 'labelSmoothing', labelSmoothing, 0, 1, '[)');
  return labelSmoothing;
}

/** `−Σ target · logSoftmax(logits)` over the last axis, targets smoothed; `targets` has the logits' shape. */
function crossEntropyLastAxis(targets: tf.Tensor, logits: tf.Tensor, labelSmoothing: number): tf.Tensor {
  const numClasses = logits.shape[logits.rank - 1]!;
  const smoothed = labelSmoothing === 0 ? targets : tf.add(tf.mul(targets, 1 - labelSmoothing), labelSmoothing / numClasses);
  return tf.neg(tf.sum(tf.mul(smoothed, tf.logSoftmax(logits)), -1));
}

function asClassIds(labels: tf.Tensor): tf.Tensor {
  return labels.dtype === 'int32' ? labels : tf.cast(labels, 'int32');
}

/**
 * Per-sample softmax cross-entropy of `[batch, classes]` logits against class ids.
 * @param labels - class ids, shape `[batch]` (int32, or floats holding whole numbers).
 * @param logits - unnormalised scores, shape `[batch, classes]`.
 * @param options - `labelSmoothing` (default 0).
 * @returns the loss of each sample, shape `[batch]`.
 *
 * @example
 * ```ts
 * const losses = sparseSoftmaxCrossEntropy(tf.tensor1d([2, 0], 'int32'), logits); // [2]
 * ```
 */
export function sparseSoftmaxCrossEntropy(labels: tf.Tensor, logits: tf.Tensor, options: CrossEntropyOptions = {}): tf.Tensor1D {
  return sparseCrossEntropy('sparseSoftmaxCrossEntropy', labels, logits, options);
}

function assertLogitsRank2(where: string, logits: tf.Tensor): void {
  if (logits.rank !== 2) {
    throw new InfoBatchError('SHAPE_MISMATCH', `'logits' passed to ${where} must have rank 2 [batch, classes] but got shape ${shapeText(logits)}${logits.rank === 3 ? '; for [batch, time, vocab] use sequenceCrossEntropy' : ''}.`);
  }
}

function sparseCrossEntropy(where: string, labels: tf.Tensor, logits: tf.Tensor, options: CrossEntropyOptions): tf.Tensor1D {
  assertTensor(where, 'labels', labels);
  assertTensor(where, 'logits', logits);
  const labelSmoothing = readLabelSmoothing(where, options);
  assertLogitsRank2(where, logits);
  if (labels.rank !== 1 || labels.shape[0] !== logits.shape[0]) {
    throw new InfoBatchError('SHAPE_MISMATCH', `'labels' passed to ${where} must have shape [${logits.shape[0]}] (one class id per row of logits ${shapeText(logits)}) but got shape ${shapeText(labels)}.`);
  }
  return tf.tidy(() => {
    const oneHot = tf.oneHot(asClassIds(labels), logits.shape[1]!);
    return crossEntropyLastAxis(oneHot, logits, labelSmoothing) as tf.Tensor1D;
  });
}

/**
 * Per-sample softmax cross-entropy of `[batch, classes]` logits against one-hot (or soft) labels
 * of the same shape, or against class ids of shape `[batch]`.
 * @param labels - one-hot / probability rows `[batch, classes]`, or class ids `[batch]`.
 * @param logits - unnormalised scores, shape `[batch, classes]`.
 * @param options - `labelSmoothing` (default 0).
 * @returns the loss of each sample, shape `[batch]`; equal to
 *   `tf.losses.softmaxCrossEntropy(labels, logits, undefined, labelSmoothing, tf.Reduction.NONE)`.
 *
 * @example
 * ```ts
 * ibt.minimize(optimizer, batch, () => softmaxCrossEntropy(ys, model.predict(xs) as tf.Tensor));
 * ```
 */
export function softmaxCrossEntropy(labels: tf.Tensor, logits: tf.Tensor, options: CrossEntropyOptions = {}): tf.Tensor1D {
  const where = 'softmaxCrossEntropy';
  assertTensor(where, 'labels', labels);
  assertTensor(where, 'logits', logits);
  if (logits.rank === 2 && labels.rank === 1) return sparseCrossEntropy(where, labels, logits, options);
  const labelSmoothing = readLabelSmoothing(where, options);
  assertLogitsRank2(where, logits);
  if (labels.rank !== 2 || labels.shape[0] !== logits.shape[0] || labels.shape[1] !== logits.shape[1]) {
    throw new InfoBatchError('SHAPE_MISMATCH', `'labels' passed to ${where} must have shape ${shapeText(logits)} (one-hot rows) or [${logits.shape[0]}] (class ids) but got shape ${shapeText(labels)}.`);
  }
  return tf.tidy(() => crossEntropyLastAxis(labels.dtype === 'float32' ? labels : tf.cast(labels, 'float32'), logits, labelSmoothing) as tf.Tensor1D);
}

/** Checks that `mask` has `shape`'s rank and each of its axes equals `shape`'s or is 1. */
function assertMask(where: string, mask: tf.Tensor, target: tf.Tensor, targetName: string): void {
  const ok = mask.rank === target.rank && mask.shape.every((d, axis) => d === target.shape[axis] || (d === 1 && axis > 0));
  if (!ok) {
    throw new InfoBatchError('SHAPE_MISMATCH', `'mask' passed to ${where} must have the shape of ${targetName} ${shapeText(target)} (or be broadcastable to it, with 1 on non-batch axes) but got shape ${shapeText(mask)}.`);
  }
}

/** `Σ mask·values / Σ mask` over `axes`, 0 where the mask sums to 0 (with finite gradients there). */
function maskedMean(values: tf.Tensor, mask: tf.Tensor, axes: number[]): tf.Tensor {
  const weights = tf.broadcastTo(tf.cast(mask, 'float32'), values.shape);
  const total = tf.sum(tf.mul(values, weights), axes);
  const count = tf.sum(weights, axes);
  const safeCount = tf.where(tf.greater(count, 0), count, tf.onesLike(count));
  return tf.div(total, safeCount);
}

function nonBatchAxes(rank: number): number[] {
  return Array.from({ length: rank - 1 }, (_, i) => i + 1);
}

/**
 * Per-sample mean squared error, averaged over every axis but the first (for regression,
 * reconstruction and diffusion noise prediction).
 * @param targets - expected values, shape `[batch, ...]`.
 * @param predictions - model outputs, the shape of `targets`.
 * @param mask - optional weights of the elements (1 = counted, 0 = ignored), the shape of `targets`
 *   or broadcastable to it with 1 on non-batch axes (e.g. `[b, patches, 1]` for `[b, patches, dim]`);
 *   a sample's loss is then `Σ mask·(p − t)² / Σ mask`, and 0 when its mask is all zero.
 * @returns the loss of each sample, shape `[batch]`.
 *
 * @example
 * ```ts
 * const losses = meanSquaredError(images, reconstructions, patchMask); // [batch]
 * ```
 */
export function meanSquaredError(targets: tf.Tensor, predictions: tf.Tensor, mask?: tf.Tensor): tf.Tensor1D {
  const where = 'meanSquaredError';
  assertTensor(where, 'targets', targets);
  assertTensor(where, 'predictions', predictions);
  if (targets.rank < 1 || targets.rank !== predictions.rank || !targets.shape.every((d, axis) => d === predictions.shape[axis])) {
    throw new InfoBatchError('SHAPE_MISMATCH', `'targets' and 'predictions' passed to ${where} must have the same shape, of rank >= 1 with the batch first, but got ${shapeText(targets)} and ${shapeText(predictions)}.`);
  }
  if (mask !== undefined) {
    assertTensor(where, 'mask', mask);
    assertMask(where, mask, targets, 'targets');
  }
  return tf.tidy(() => {
    const squared = tf.squaredDifference(tf.cast(predictions, 'float32'), tf.cast(targets, 'float32'));
    if (targets.rank === 1) {
      // One element per sample: Σ m·e / Σ m is e itself where m > 0, and 0 where m = 0.
      return (mask === undefined ? squared : tf.where(tf.greater(tf.cast(mask, 'float32'), 0), squared, tf.zerosLike(squared))) as tf.Tensor1D;
    }
    const axes = nonBatchAxes(targets.rank);
    return (mask === undefined ? tf.mean(squared, axes) : maskedMean(squared, mask, axes)) as tf.Tensor1D;
  });
}

/**
 * Per-sequence mean token cross-entropy for language models: the mean over the masked positions
 * of each sequence. A sequence whose mask is all zero gets loss 0 (and zero gradient), so padding
 * rows do not produce NaN.
 * @param targetIds - next-token ids, shape `[batch, time]` (int32, or floats holding whole numbers).
 * @param logits - unnormalised scores, shape `[batch, time, vocab]`.
 * @param mask - optional weights of the positions, shape `[batch, time]` (1 = counted, 0 = padding
 *   or prompt); every position counts when omitted.
 * @param options - `labelSmoothing` (default 0).
 * @returns the loss of each sequence, shape `[batch]`.
 *
 * @example
 * ```ts
 * const losses = sequenceCrossEntropy(targets, model.predict(inputs) as tf.Tensor, responseMask); // [batch]
 * ```
 */
export function sequenceCrossEntropy(targetIds: tf.Tensor, logits: tf.Tensor, mask?: tf.Tensor, options: CrossEntropyOptions = {}): tf.Tensor1D {
  const where = 'sequenceCrossEntropy';
  assertTensor(where, 'targetIds', targetIds);
  assertTensor(where, 'logits', logits);
  const labelSmoothing = readLabelSmoothing(where, options);
  if (logits.rank !== 3) {
    throw new InfoBatchError('SHAPE_MISMATCH', `'logits' passed to ${where} must have rank 3 [batch, time, vocab] but got shape ${shapeText(logits)}.`);
  }
  if (targetIds.rank !== 2 || targetIds.shape[0] !== logits.shape[0] || targetIds.shape[1] !== logits.shape[1]) {
    throw new InfoBatchError('SHAPE_MISMATCH', `'targetIds' passed to ${where} must have shape [${logits.shape[0]}, ${logits.shape[1]}] (the first two axes of logits ${shapeText(logits)}) but got shape ${shapeText(targetIds)}.`);
  }
  if (mask !== undefined) {
    assertTensor(where, 'mask', mask);
    if (mask.rank !== 2 || mask.shape[0] !== targetIds.shape[0] || mask.shape[1] !== targetIds.shape[1]) {
      throw new InfoBatchError('SHAPE_MISMATCH', `'mask' passed to ${where} must have the shape of targetIds ${shapeText(targetIds)} but got shape ${shapeText(mask)}.`);
    }
  }
  return tf.tidy(() => {
    const oneHot = tf.oneHot(asClassIds(targetIds), logits.shape[2]!);
    const tokenLoss = crossEntropyLastAxis(oneHot, logits, labelSmoothing); // [batch, time]
    return (mask === undefined ? tf.mean(tokenLoss, 1) : maskedMean(tokenLoss, mask, [1])) as tf.Tensor1D;
  });
}
