/** Node-only loader of MNIST / Fashion-MNIST from IDX files on disk, with opt-in verified download. */
import { join } from 'node:path';
import { InfoBatchError, describeValue } from '../../core/errors.js';
import type { DatasetSplit } from '../dataset.js';
import { idxToDataset } from '../idx.js';
import { downloadVerified, type FetchLike } from './download.js';
import { exists, readMaybeGzip } from './files.js';
import { IDX_DATASET_SOURCES, type IdxDatasetName, type IdxFileSource } from './sources.js';

/** Options of {@link loadIdxDataset}. */
export interface LoadIdxOptions {
  /** Fetch missing files from the official URLs (never done unless this is `true`). */
  readonly download?: boolean;
  /** Where downloaded files go (default: `dir`); files already there are used too. */
  readonly cacheDir?: string;
  /** Fetch function used for downloads (default: global `fetch`); inject one in tests. */
  readonly fetch?: FetchLike;
}

/** Finds `<name>.gz` or `<name>` in the first directory that has one. */
async function findFile(dirs: readonly string[], file: IdxFileSource): Promise<string | undefined> {
  for (const dir of dirs) {
    for (const candidate of [`${file.name}.gz`, file.name]) {
      const path = join(dir, candidate);
      if (await exists(path)) return path;
    }
  }
  return undefined;
}

/**
 * Loads MNIST or Fashion-MNIST (60000 train / 10000 test, 28×28, pixels in [0, 1]) from IDX files, gzipped or not.
 *
 * Looks in `dir`, then `cacheDir`. Missing files are an `INVALID_DATA` error unless `download: true`,
 * in which case they are fetched from the official URLs into `cacheDir` (default `dir`) and checked
 * against their known SHA-256.
 *
 * @param name - `'mnist'` or `'fashion-mnist'`.
 * @param dir - Directory holding `train-images-idx3-ubyte.gz` and the three other files.
 * @param options - `download`, `cacheDir` and an injectable `fetch`.
 * @example
 * ```ts
 * const { train, test } = await loadIdxDataset('mnist', '../shared/data/mnist');
 * ```
 */
export async function loadIdxDataset(name: IdxDatasetName, dir: string, options: LoadIdxOptions = {}): Promise<DatasetSplit> {
  const source = Object.hasOwn(IDX_DATASET_SOURCES, name) ? IDX_DATASET_SOURCES[name] : undefined;
  if (source === undefined) {
    throw new InfoBatchError('INVALID_OPTION', `loadIdxDataset: name must be 'mnist' or 'fashion-mnist', got ${describeValue(name)}.`);
  }
  const cacheDir = options.cacheDir ?? dir;
  const searchDirs = cacheDir === dir ? [dir] : [dir, cacheDir];
  const files = [source.trainImages, source.trainLabels, source.testImages, source.testLabels];

  const paths: (string | undefined)[] = [];
  for (const file of files) paths.push(await findFile(searchDirs, file));
  const missing = files.filter((_, i) => paths[i] === undefined);
  if (missing.length > 0 && options.download !== true) {
    throw new InfoBatchError(
      'INVALID_DATA',
      `loadIdxDataset('${name}'): missing ${missing.map((f) => `${f.name}.gz`).join(', ')} in ${searchDirs.join(' or ')} ` +
        `(the uncompressed names without .gz are accepted too). Pass the directory that holds the ${name} files, ` +
        `or pass { download: true } (optionally with cacheDir) to fetch them from ${source.mirrors[0]}.`,
    );
  }
  for (let i = 0; i < files.length; i++) {
    if (paths[i] !== undefined) continue;
    const file = files[i]!;
    const dest = join(cacheDir, `${file.name}.gz`);
    await downloadVerified({
      urls: source.mirrors.map((base) => `${base}${file.name}.gz`),
      dest,
      sha256: file.sha256,
      ...(options.fetch !== undefined ? { fetch: options.fetch } : {}),
    });
    paths[i] = dest;
  }

  const [trainImages, trainLabels, testImages, testLabels] = await Promise.all(paths.map((p) => readMaybeGzip(p!)));
  const train = idxToDataset({
    name: `${name}/train`,
    images: trainImages!,
    labels: trainLabels!,
    imagesSource: paths[0]!,
    labelsSource: paths[1]!,
  });
  const test = idxToDataset({
    name: `${name}/test`,
    images: testImages!,
    labels: testLabels!,
    imagesSource: paths[2]!,
    labelsSource: paths[3]!,
  });
  return { train, test };
}
