/**
 * Where the training loop gets its batches: tensors held in memory, or a random-access
 * {@link SampleSource} for data larger than memory.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describeValue, InfoBatchError } from '../core/errors.js';
import type { BatchLoader, BatchTensors } from './engine.js';
import { isTensorLike } from './info-batch-tfjs.js';

/** One batch of a {@link SampleSource}: inputs and targets, samples along axis 0. */
export interface SourceBatch {
  /** Inputs of the batch. */
  readonly xs: tf.Tensor;
  /** Targets of the batch. */
  readonly ys: tf.Tensor;
}

/**
 * Random-access training data: `size` samples, any of which can be loaded by id. InfoBatch
 * decides each epoch which samples to visit, in which order, before the epoch starts, so it
 * needs random access; a streaming `tf.data.Dataset` (what `model.fitDataset` takes) cannot be
 * pruned ahead of time. Wrap the storage instead (files, a database, an IndexedDB store…) in a
 * source: `gather` is called once per batch, and the next batch is requested while the current
 * one trains, so an asynchronous `gather` overlaps loading with training.
 *
 * @example
 * ```ts
 * const source: SampleSource = {
 *   size: 1_000_000,
 *   async gather(indices) {
 *     const { images, labels } = await readRecords(indices); // your storage
 *     return { xs: tf.tensor4d(images, [indices.length, 28, 28, 1]), ys: tf.oneHot(tf.tensor1d(labels, 'int32'), 10) };
 *   },
 * };
 * const history = await fitWithInfoBatch(model, source, { epochs: 10, batchSize: 128, validationData: [xVal, yVal] });
 * ```
 */
export interface SampleSource {
  /** Number of samples; ids are `0 … size − 1`. */
  readonly size: number;
  /**
   * The samples `indices` (in that order), inputs and targets along axis 0. The returned tensors
   * are handed over: the training loop disposes them after the step. `indices` is a fresh copy.
   */
  gather(indices: Int32Array): SourceBatch | Promise<SourceBatch>;
}

/** Whether `value` has the shape of a {@link SampleSource}. @internal */
export function isSampleSource(value: unknown): value is SampleSource {
  return typeof value === 'object' && value !== null && !isTensorLike(value) && typeof (value as SampleSource).gather === 'function' && 'size' in value;
}

/** Batches gathered from in-memory tensors with `tf.gather`. @internal */
export function tensorLoader(x: tf.Tensor, y: tf.Tensor): BatchLoader {
  return {
    load(indices: Int32Array): BatchTensors {
      return tf.tidy(() => {
        const ids = tf.tensor1d(indices, 'int32');
        return { xs: tf.gather(x, ids), ys: tf.gather(y, ids) };
      });
    },
  };
}

/**
 * Batches from a {@link SampleSource}, checked: `gather` must return `{ xs, ys }` tensors with
 * one row per requested id. A bad result is disposed and reported as an InfoBatchError.
 * @internal
 */
export function sourceLoader(source: SampleSource, where: string): BatchLoader {
  return {
    async load(indices: Int32Array): Promise<BatchTensors> {
      const result: unknown = await source.gather(Int32Array.from(indices));
      const { xs, ys } = (typeof result === 'object' && result !== null ? result : {}) as { xs?: unknown; ys?: unknown };
      if (!isTensorLike(xs) || !isTensorLike(ys)) {
        tf.dispose([xs, ys].filter(isTensorLike));
        throw new InfoBatchError('INVALID_TYPE', `'source.gather' passed to ${where} must return { xs: tf.Tensor, ys: tf.Tensor } but returned ${describeValue(result)}${typeof result === 'object' && result !== null ? ` with xs: ${describeValue(xs)}, ys: ${describeValue(ys)}` : ''}.`);
      }
      if (xs.rank < 1 || ys.rank < 1 || xs.shape[0] !== indices.length || ys.shape[0] !== indices.length) {
        tf.dispose([xs, ys]);
        throw new InfoBatchError('SHAPE_MISMATCH', `'source.gather' passed to ${where} was asked for ${indices.length} samples but returned xs of shape [${xs.shape.join(', ')}] and ys of shape [${ys.shape.join(', ')}]; both need ${indices.length} rows along axis 0.`);
      }
      return { xs, ys };
    },
  };
}
