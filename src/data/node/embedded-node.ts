/** Node-only loader of the embedded Fashion-MNIST subset that ships in the package's `data/embedded/`. */
import { fileURLToPath } from 'node:url';
import type { DatasetSplit } from '../dataset.js';
import { EMBEDDED_DATASET_FILE, decodeEmbeddedDataset } from '../embedded.js';
import { readMaybeGzip } from './files.js';

/**
 * Path of the embedded dataset file inside the installed package (`data/embedded/`; the same
 * relative place from `src/` and from `dist/`).
 */
export const EMBEDDED_DATASET_PATH: string = fileURLToPath(new URL(`../../../data/embedded/${EMBEDDED_DATASET_FILE}`, import.meta.url));

/**
 * Loads the embedded Fashion-MNIST subset (5,000 train / 2,000 test, 14×14): no network, no
 * data folder. See `data/embedded/SOURCE.md` for its source and licence.
 *
 * @param path - Another copy of the file (default: the package's own).
 * @example
 * ```ts
 * const { train, test } = await loadEmbeddedDataset();
 * ```
 */
export async function loadEmbeddedDataset(path: string = EMBEDDED_DATASET_PATH): Promise<DatasetSplit> {
  return decodeEmbeddedDataset(await readMaybeGzip(path), path);
}
