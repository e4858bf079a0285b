import { join } from 'node:path';
import { InfoBatchError } from '../core/errors.js';
import type { DatasetSplit } from '../data/dataset.js';
import { takeFirst } from '../data/dataset.js';
import { loadDigits, loadEmbeddedDataset, loadIdxDataset } from '../data/node.js';
import { makeSyntheticDataset } from '../data/synthetic.js';

/** Datasets the CLI can train on. */
export const BENCH_DATASETS = ['fashion-mnist-small', 'synthetic', 'fashion-mnist', 'mnist', 'digits'] as const;
/** One of {@link BENCH_DATASETS}. */
export type BenchDatasetName = (typeof BENCH_DATASETS)[number];

/** Options of {@link loadBenchDataset}. */
export interface LoadBenchDatasetOptions {
  /** Folder holding the dataset's files (for `digits`: the folder of digits.csv.gz). */
  readonly dataDir?: string;
  /** Download missing files from the official location into `dataDir` (never by default). */
  readonly download?: boolean;
  /** Keep only the first N training samples (for smoke runs). */
  readonly trainLimit?: number;
  /** Keep only the first N test samples. */
  readonly testLimit?: number;
}

/**
 * Loads a dataset by name: the embedded Fashion-MNIST subset (`fashion-mnist-small`) and the
 * synthetic one need no files; the others read `dataDir`.
 * @param name - one of {@link BENCH_DATASETS}.
 */
export async function loadBenchDataset(name: string, options: LoadBenchDatasetOptions = {}): Promise<DatasetSplit> {
  const { dataDir, download = false, trainLimit, testLimit } = options;
  let split: DatasetSplit;
  if (name === 'fashion-mnist-small') {
    split = await loadEmbeddedDataset();
  } else if (name === 'synthetic') {
    split = makeSyntheticDataset();
  } else if (name === 'fashion-mnist' || name === 'mnist') {
    const dir = dataDir ?? join('..', 'shared', 'data', name);
    split = await loadIdxDataset(name, dir, download ? { download: true } : {});
  } else if (name === 'digits') {
    split = await loadDigits(dataDir ?? join('..', 'shared', 'data', 'sklearn-toy'));
  } else {
    throw new InfoBatchError('INVALID_OPTION', `Unknown dataset ${JSON.stringify(name)}; expected one of: ${BENCH_DATASETS.join(', ')}.`);
  }
  return {
    train: trainLimit === undefined ? split.train : takeFirst(split.train, Math.min(trainLimit, split.train.numSamples)),
    test: testLimit === undefined ? split.test : takeFirst(split.test, Math.min(testLimit, split.test.numSamples)),
  };
}
