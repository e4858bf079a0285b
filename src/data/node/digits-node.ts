/** Node-only loader of scikit-learn's digits dataset. */
import { join } from 'node:path';
import { InfoBatchError } from '../../core/errors.js';
import type { DatasetSplit } from '../dataset.js';
import { parseDigitsCsv } from '../digits.js';
import { trainTestSplit, type TrainTestSplitOptions } from '../split.js';
import { exists, loadText } from './files.js';

/**
 * Loads `digits.csv.gz` (or `digits.csv`) from `dir` and splits it with a seeded shuffle (default seed 0, 20% test).
 *
 * @param dir - Directory holding scikit-learn's digits CSV, e.g. `../shared/data/sklearn-toy`.
 * @param options - `seed` and `testFraction` of the split.
 * @example
 * ```ts
 * const { train, test } = await loadDigits('../shared/data/sklearn-toy'); // 1438 / 359 samples
 * ```
 */
export async function loadDigits(dir: string, options: TrainTestSplitOptions = {}): Promise<DatasetSplit> {
  const gz = join(dir, 'digits.csv.gz');
  const plain = join(dir, 'digits.csv');
  const path = (await exists(gz)) ? gz : (await exists(plain)) ? plain : undefined;
  if (path === undefined) {
    throw new InfoBatchError(
      'INVALID_DATA',
      `loadDigits: neither digits.csv.gz nor digits.csv is in ${dir}. Pass the directory that holds scikit-learn's digits CSV ` +
        `(sklearn/datasets/data/ in a scikit-learn install).`,
    );
  }
  const all = parseDigitsCsv(await loadText(path), { source: path });
  return trainTestSplit(all, options);
}
