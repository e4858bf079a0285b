import { InfoBatchError, describeValue } from '../core/errors.js';

/**
 * A labelled classification dataset held in flat typed arrays.
 *
 * `x` is row-major `numSamples × prod(sampleShape)`; image pixels are scaled to `[0, 1]`.
 * `y[i]` is the class index of sample `i`, in `0 .. numClasses - 1`.
 */
export interface Dataset {
  /** Short identifier, e.g. `'mnist/train'`. */
  readonly name: string;
  /** Features, row-major, `numSamples * prod(sampleShape)` values. */
  readonly x: Float32Array;
  /** Class index per sample. */
  readonly y: Int32Array;
  /** Number of samples (rows). */
  readonly numSamples: number;
  /** Shape of one sample, e.g. `[28, 28]` or `[32]`. */
  readonly sampleShape: readonly number[];
  /** Number of classes; every label is below this. */
  readonly numClasses: number;
}

/** A train/test pair of datasets with the same sample shape and classes. */
export interface DatasetSplit {
  /** The samples to train on. */
  readonly train: Dataset;
  /** Held-out samples, for evaluation only. */
  readonly test: Dataset;
}

/**
 * Number of feature values in one sample (the product of `sampleShape`).
 *
 * @param ds - The dataset (or anything with a `sampleShape`).
 * @example
 * ```ts
 * sampleSize(mnist.train); // 784
 * ```
 */
export function sampleSize(ds: Pick<Dataset, 'sampleShape'>): number {
  let n = 1;
  for (const d of ds.sampleShape) n *= d;
  return n;
}

/**
 * Builds a {@link Dataset} after checking that the arrays agree with the shape and that every label is in range.
 *
 * @param fields - The dataset fields; `x.length` must equal `numSamples * prod(sampleShape)`.
 * @example
 * ```ts
 * const ds = createDataset({ name: 'toy', x: new Float32Array(4), y: Int32Array.of(0, 1), numSamples: 2, sampleShape: [2], numClasses: 2 });
 * ```
 */
export function createDataset(fields: Dataset): Dataset {
  const { name, x, y, numSamples, sampleShape, numClasses } = fields;
  if (!Number.isSafeInteger(numSamples) || numSamples < 0) {
    throw new InfoBatchError('OUT_OF_RANGE', `createDataset: numSamples must be a non-negative integer, got ${describeValue(numSamples)}.`);
  }
  if (!Number.isSafeInteger(numClasses) || numClasses < 1) {
    throw new InfoBatchError('OUT_OF_RANGE', `createDataset: numClasses must be a positive integer, got ${describeValue(numClasses)}.`);
  }
  for (const d of sampleShape) {
    if (!Number.isSafeInteger(d) || d < 1) {
      throw new InfoBatchError('OUT_OF_RANGE', `createDataset: every sampleShape dimension must be a positive integer, got [${sampleShape.join(', ')}].`);
    }
  }
  const size = sampleSize(fields);
  if (x.length !== numSamples * size) {
    throw new InfoBatchError(
      'SHAPE_MISMATCH',
      `createDataset(${name}): x has ${x.length} values but numSamples × prod(sampleShape) = ${numSamples} × ${size} = ${numSamples * size}.`,
    );
  }
  if (y.length !== numSamples) {
    throw new InfoBatchError('SHAPE_MISMATCH', `createDataset(${name}): y has ${y.length} labels but numSamples is ${numSamples}.`);
  }
  for (let i = 0; i < y.length; i++) {
    const label = y[i]!;
    if (label < 0 || label >= numClasses) {
      throw new InfoBatchError('OUT_OF_RANGE', `createDataset(${name}): label y[${i}] = ${label} is outside 0..${numClasses - 1}.`);
    }
  }
  return { name, x, y, numSamples, sampleShape: Object.freeze([...sampleShape]), numClasses };
}

/**
 * Copies the samples at `indices` (in that order, repeats allowed) into a new dataset.
 *
 * @param ds - Source dataset.
 * @param indices - Sample indices, each in `0 .. ds.numSamples - 1`.
 * @example
 * ```ts
 * const firstAndThird = subsetDataset(ds, [0, 2]);
 * ```
 */
export function subsetDataset(ds: Dataset, indices: ArrayLike<number>): Dataset {
  const size = sampleSize(ds);
  const n = indices.length;
  const x = new Float32Array(n * size);
  const y = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const i = indices[k]!;
    if (!Number.isInteger(i) || i < 0 || i >= ds.numSamples) {
      throw new InfoBatchError(
        'OUT_OF_RANGE',
        `subsetDataset(${ds.name}): indices[${k}] = ${describeValue(i)} is not an integer in 0..${ds.numSamples - 1}.`,
      );
    }
    x.set(ds.x.subarray(i * size, (i + 1) * size), k * size);
    y[k] = ds.y[i]!;
  }
  return { name: ds.name, x, y, numSamples: n, sampleShape: ds.sampleShape, numClasses: ds.numClasses };
}

/**
 * Returns a copy of the first `n` samples of a dataset (handy for fast smoke tests).
 *
 * @param ds - Source dataset.
 * @param n - How many samples to keep, `0 ≤ n ≤ ds.numSamples`.
 * @example
 * ```ts
 * const small = takeFirst(mnist.train, 1000);
 * ```
 */
export function takeFirst(ds: Dataset, n: number): Dataset {
  if (!Number.isSafeInteger(n) || n < 0 || n > ds.numSamples) {
    throw new InfoBatchError('OUT_OF_RANGE', `takeFirst(${ds.name}): n must be an integer in 0..${ds.numSamples}, got ${describeValue(n)}.`);
  }
  const size = sampleSize(ds);
  return {
    name: ds.name,
    x: ds.x.slice(0, n * size),
    y: ds.y.slice(0, n),
    numSamples: n,
    sampleShape: ds.sampleShape,
    numClasses: ds.numClasses,
  };
}
