/**
 * Turns the four MNIST-style IDX files a user picked (gzip-compressed or not) into a train/test
 * split, with the project's pure parsers. Gunzips with the web platform's DecompressionStream.
 */
import { InfoBatchError } from '../core/errors.js';
import type { DatasetSplit } from '../data/dataset.js';
import { IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, idxToDataset, isGzip, parseIdx, type IdxArray } from '../data/idx.js';

/** A picked file: its name (for messages) and contents. */
export interface NamedBytes {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** Options of {@link idxSplitFromFiles}. */
export interface IdxSplitOptions {
  /** Keep the first N training samples. */
  readonly trainLimit: number;
  /** Keep the first N test samples. */
  readonly testLimit: number;
}

/** Decompresses gzip bytes with `DecompressionStream('gzip')`. */
export async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Reads a picked file, gunzipping it when it starts with the gzip signature. */
export async function readFileBytes(file: Blob & { readonly name: string }): Promise<NamedBytes> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  return { name: file.name, bytes: isGzip(bytes) ? await gunzip(bytes) : bytes };
}

/** A copy of an IDX array's file holding only its first `count` items (header count rewritten). */
function firstItems(array: IdxArray, count: number): Uint8Array {
  const itemSize = array.dims.slice(1).reduce((a, b) => a * b, 1);
  const header = 4 + 4 * array.dims.length;
  const out = new Uint8Array(header + count * itemSize);
  const view = new DataView(out.buffer);
  view.setUint32(0, array.magic, false);
  array.dims.forEach((d, i) => view.setUint32(4 + 4 * i, i === 0 ? count : d, false));
  out.set(array.data.subarray(0, count * itemSize), header);
  return out;
}

/**
 * Builds the split from the train and test image and label files, in any order: images and labels
 * are told apart by their magic number, train and test by their counts (train has more).
 *
 * @throws InfoBatchError 'INVALID_DATA' unless there are exactly two image and two label files of matching counts.
 */
export function idxSplitFromFiles(files: readonly NamedBytes[], options: IdxSplitOptions): DatasetSplit {
  const parsed = files.map((file) => ({ file, idx: parseIdx(file.bytes, { source: file.name }) }));
  const images = parsed.filter((p) => p.idx.magic === IDX_IMAGES_MAGIC).sort((a, b) => b.idx.dims[0]! - a.idx.dims[0]!);
  const labels = parsed.filter((p) => p.idx.magic === IDX_LABELS_MAGIC).sort((a, b) => b.idx.dims[0]! - a.idx.dims[0]!);
  if (files.length !== 4 || images.length !== 2 || labels.length !== 2) {
    throw new InfoBatchError(
      'INVALID_DATA',
      `Pick the four IDX files of one dataset (train-images, train-labels, t10k-images, t10k-labels; .gz or not); ` +
        `got ${files.length} file(s) with ${images.length} image and ${labels.length} label file(s): ${files.map((f) => f.name).join(', ')}.`,
    );
  }
  const split = (which: 0 | 1, limit: number, name: string) => {
    const img = images[which]!;
    const lab = labels[which]!;
    if (img.idx.dims[0] !== lab.idx.dims[0]) {
      throw new InfoBatchError(
        'INVALID_DATA',
        `${img.file.name} holds ${img.idx.dims[0]} images but ${lab.file.name} holds ${lab.idx.dims[0]} labels; pick the files of one dataset.`,
      );
    }
    const count = Math.min(limit, img.idx.dims[0]!);
    return idxToDataset({
      name,
      images: firstItems(img.idx, count),
      labels: firstItems(lab.idx, count),
      imagesSource: img.file.name,
      labelsSource: lab.file.name,
    });
  };
  return { train: split(0, options.trainLimit, 'idx/train'), test: split(1, options.testLimit, 'idx/test') };
}
