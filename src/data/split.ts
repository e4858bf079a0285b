/** Deterministic seeded train/test splitting. Pure. */
import { InfoBatchError, describeValue } from '../core/errors.js';
import { subsetDataset, type Dataset, type DatasetSplit } from './dataset.js';
import { SeededRandom } from '../core/random.js';
import { validSeed } from '../core/validate.js';

/** Options of {@link trainTestSplit}. */
export interface TrainTestSplitOptions {
  /** Seed of the shuffle, an integer in `0 .. 2^32 - 1` (default 0). */
  readonly seed?: number;
  /** Fraction of samples put in the test set, in `(0, 1)` (default 0.2). */
  readonly testFraction?: number;
}

/**
 * Shuffles a dataset with a seeded generator and cuts it into train and test parts (same seed → same split).
 *
 * The test set gets `round(numSamples * testFraction)` samples; both parts keep the original relative order.
 *
 * @param ds - The dataset to split.
 * @param options - `seed` (default 0) and `testFraction` (default 0.2).
 * @example
 * ```ts
 * const { train, test } = trainTestSplit(digits, { seed: 1, testFraction: 0.25 });
 * ```
 */
export function trainTestSplit(ds: Dataset, options: TrainTestSplitOptions = {}): DatasetSplit {
  const seed = options.seed ?? 0;
  const testFraction = options.testFraction ?? 0.2;
  if (typeof testFraction !== 'number' || !(testFraction > 0 && testFraction < 1)) {
    throw new InfoBatchError('OUT_OF_RANGE', `trainTestSplit: testFraction must be a number in (0, 1), got ${describeValue(testFraction)}.`);
  }
  const rng = SeededRandom.derive(validSeed(seed, 'trainTestSplit'));
  const order = rng.permutation(ds.numSamples);
  const numTest = Math.round(ds.numSamples * testFraction);
  const testIdx = order.slice(0, numTest).sort();
  const trainIdx = order.slice(numTest).sort();
  const train = subsetDataset(ds, trainIdx);
  const test = subsetDataset(ds, testIdx);
  return { train: { ...train, name: `${ds.name}/train` }, test: { ...test, name: `${ds.name}/test` } };
}

