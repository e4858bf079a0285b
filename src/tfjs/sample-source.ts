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
   * are handed over: the training loop disposes them after the step, so each call must return
   * new tensors (not cached ones, not tensors it disposes itself; `tf.clone` a cached tensor).
   * `indices` is a fresh copy.
   */
  gather(indices: Int32Array): SourceBatch | Promise<SourceBatch>;
  /**
   * Longest wait for one `gather`, in milliseconds: a gather that has not settled by then stops
   * the run with an InfoBatchError `'TIMEOUT'` (its tensors, if it settles later, are disposed).
   * @defaultValue no limit
   */
  readonly gatherTimeoutMs?: number;
}

/** Whether `value` has the shape of a {@link SampleSource}. @internal */
export function isSampleSource(value: unknown): value is SampleSource {
  return typeof value === 'object' && value !== null && !isTensorLike(value) && typeof (value as SampleSource).gather === 'function' && 'size' in value;
}

/**
 * Backends whose `gather` kernel costs more than copying the rows in JavaScript: on wasm
 * (tfjs 4.22), gathering 128 rows of 784 floats takes 4–6 ms, a quarter of a small model's whole
 * step, where copying them from a host array takes 0.1 ms. On the CPU backend `dataSync` returns
 * the tensor's own storage, so the host copy costs nothing. GPU backends keep their data on the
 * device and `tensorflow` (tfjs-node) has a fast native gather: they use `tf.gather`.
 */
const HOST_GATHER_BACKENDS: ReadonlySet<string> = new Set(['wasm', 'cpu']);

/** Tensors larger than this (in values) are not copied to the host; `tf.gather` is used instead. */
const HOST_COPY_LIMIT = 2 ** 28;

/** Rows of a tensor copied out of a host array: the same values `tf.gather(tensor, ids)` holds. */
function hostRows(tensor: tf.Tensor): (indices: Int32Array) => tf.Tensor {
  let values: Float32Array | Int32Array | Uint8Array | undefined;
  const rows = tensor.shape[0] ?? 0;
  const rowSize = rows === 0 ? 0 : tensor.size / rows;
  const rowShape = tensor.shape.slice(1);
  const dtype = tensor.dtype;
  return (indices) => {
    // Read once, at the first batch (after the caller's checks), and kept for the run.
    values ??= tensor.dataSync() as Float32Array | Int32Array | Uint8Array;
    const out = new (values.constructor as new (length: number) => Float32Array | Int32Array | Uint8Array)(indices.length * rowSize);
    // A subarray view per row, copied by `set` (a memcpy): measured 0.23–0.34 ms for 128×784
    // floats, against 0.43–0.70 ms for an element loop (polymorphic over the three array types).
    for (let s = 0; s < indices.length; s++) {
      const row = indices[s]!;
      if (!(row >= 0 && row < rows)) throw new InfoBatchError('OUT_OF_RANGE', `tensorLoader: sample id ${row} is outside [0, ${rows}).`);
      out.set(values.subarray(row * rowSize, (row + 1) * rowSize), s * rowSize);
    }
    return tf.tensor(out, [indices.length, ...rowShape], dtype);
  };
}

/** Whether batches of `tensor` are cheaper to copy on the host than to gather with the backend. */
function gathersOnHost(tensor: tf.Tensor): boolean {
  return HOST_GATHER_BACKENDS.has(tf.getBackend()) && tensor.rank >= 1 && tensor.size <= HOST_COPY_LIMIT && (tensor.dtype === 'float32' || tensor.dtype === 'int32' || tensor.dtype === 'bool');
}

/**
 * Batches gathered from in-memory tensors: rows copied from a host array on the wasm and CPU
 * backends (see {@link HOST_GATHER_BACKENDS}), `tf.gather` elsewhere. Both give the same values.
 * @internal
 */
export function tensorLoader(x: tf.Tensor, y: tf.Tensor): BatchLoader {
  const gather = (tensor: tf.Tensor): ((indices: Int32Array) => tf.Tensor) => {
    if (gathersOnHost(tensor)) return hostRows(tensor);
    return (indices) => tf.tidy(() => tf.gather(tensor, tf.tensor1d(indices, 'int32')));
  };
  const gatherX = gather(x);
  const gatherY = gather(y);
  return {
    load(indices: Int32Array): BatchTensors {
      const xs = gatherX(indices);
      try {
        return { xs, ys: gatherY(indices) };
      } catch (error) {
        xs.dispose();
        throw error;
      }
    },
  };
}

/**
 * Batches from a {@link SampleSource}, checked: `gather` must return `{ xs, ys }` tensors with
 * one row per requested id, new ones (a tensor returned before, or already disposed, would be
 * used after the loop disposed it), within `gatherTimeoutMs`. A bad result is disposed and
 * reported as an InfoBatchError.
 * @internal
 */
export function sourceLoader(source: SampleSource, where: string): BatchLoader {
  const timeoutMs = source.gatherTimeoutMs;
  if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && timeoutMs > 0)) {
    throw new InfoBatchError('OUT_OF_RANGE', `'source.gatherTimeoutMs' passed to ${where} must be a number of milliseconds > 0 (or Infinity, or left out, for no limit) but got ${describeValue(timeoutMs)}.`);
  }
  /** Every tensor handed to the loop so far: a source must not return one of them again. */
  const handedOut = new WeakSet<tf.Tensor>();
  const gather = (indices: Int32Array): Promise<unknown> => {
    const pending = Promise.resolve().then(() => source.gather(Int32Array.from(indices)));
    if (timeoutMs === undefined || timeoutMs === Infinity) return pending;
    return new Promise((resolve, reject) => {
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        const first = indices.length > 0 ? ` (sample ids ${Array.from(indices.subarray(0, 3)).join(', ')}${indices.length > 3 ? ', …' : ''})` : '';
        reject(new InfoBatchError('TIMEOUT', `'source.gather' passed to ${where} did not settle within gatherTimeoutMs = ${timeoutMs} ms for a batch of ${indices.length} samples${first}; the run was stopped. Raise 'gatherTimeoutMs' if your storage is that slow.`));
      }, timeoutMs);
      pending.then((result) => {
        clearTimeout(timer);
        if (!timedOut) resolve(result);
        else if (typeof result === 'object' && result !== null) tf.dispose(Object.values(result).filter(isTensorLike)); // settled too late: not used
      }, (error: unknown) => {
        clearTimeout(timer);
        if (!timedOut) reject(error);
      });
    });
  };
  return {
    async load(indices: Int32Array): Promise<BatchTensors> {
      const result: unknown = await gather(indices);
      const { xs, ys } = (typeof result === 'object' && result !== null ? result : {}) as { xs?: unknown; ys?: unknown };
      if (!isTensorLike(xs) || !isTensorLike(ys)) {
        tf.dispose([xs, ys].filter((t): t is tf.Tensor => isTensorLike(t) && !t.isDisposed && !handedOut.has(t)));
        throw new InfoBatchError('INVALID_TYPE', `'source.gather' passed to ${where} must return { xs: tf.Tensor, ys: tf.Tensor } but returned ${describeValue(result)}${typeof result === 'object' && result !== null ? ` with xs: ${describeValue(xs)}, ys: ${describeValue(ys)}` : ''}.`);
      }
      const reused = ([['xs', xs], ['ys', ys]] as const).find(([, t]) => t.isDisposed || handedOut.has(t));
      if (reused !== undefined) {
        // Not disposed here: the tensor is not the loop's (or no longer exists).
        const other = reused[1] === xs ? ys : xs;
        if (other !== reused[1] && !other.isDisposed && !handedOut.has(other)) other.dispose();
        const [name, tensor] = reused;
        throw new InfoBatchError('INVALID_DATA', `'source.gather' passed to ${where} returned ${handedOut.has(tensor) ? `a tensor it had returned before${tensor.isDisposed ? ' (and the loop has disposed since)' : ''}` : 'a disposed tensor'} as ${name} (shape [${tensor.shape.join(', ')}]) for a batch of ${indices.length} samples. The training loop owns and disposes the tensors gather returns, so each call must return new ones: build them per batch, or return tf.clone() of a cached tensor.`);
      }
      if (xs.rank < 1 || ys.rank < 1 || xs.shape[0] !== indices.length || ys.shape[0] !== indices.length) {
        tf.dispose([xs, ys]);
        throw new InfoBatchError('SHAPE_MISMATCH', `'source.gather' passed to ${where} was asked for ${indices.length} samples but returned xs of shape [${xs.shape.join(', ')}] and ys of shape [${ys.shape.join(', ')}]; both need ${indices.length} rows along axis 0.`);
      }
      handedOut.add(xs);
      handedOut.add(ys);
      return { xs, ys };
    },
  };
}
