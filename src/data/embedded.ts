/**
 * The small Fashion-MNIST subset that ships with the package (`data/embedded/`), decoded with the
 * pure IDX parsers. Pure module: no node:*, so the browser page decodes the same bytes it fetched.
 */
import { InfoBatchError, describeValue } from '../core/errors.js';
import type { DatasetSplit } from './dataset.js';
import { idxToDataset, isGzip } from './idx.js';

/** File name of the embedded dataset, under `data/embedded/` in the package. */
export const EMBEDDED_DATASET_FILE = 'fashion-mnist-small.idx.gz';

/** Name of the embedded dataset in the CLI (`--dataset`) and in results. */
export const EMBEDDED_DATASET_NAME = 'fashion-mnist-small';

/** The four IDX arrays of the embedded file, in order. */
const PARTS = ['train images', 'train labels', 'test images', 'test labels'] as const;

/** Byte length of the IDX array starting at `offset` (header plus data), or an error naming the part. */
function idxLength(bytes: Uint8Array, offset: number, part: string, source: string): number {
  if (offset + 4 > bytes.length) {
    throw new InfoBatchError('INVALID_DATA', `${source}: the ${part} should start at byte offset ${offset} but the data ends at ${bytes.length} bytes; expected four IDX arrays back to back. The file is truncated.`);
  }
  const ndims = bytes[offset + 3]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (offset + 4 + 4 * ndims > bytes.length) {
    throw new InfoBatchError('INVALID_DATA', `${source}: the header of the ${part} at byte offset ${offset} is cut off at ${bytes.length} bytes. The file is truncated.`);
  }
  let size = 1;
  for (let i = 0; i < ndims; i++) size *= view.getUint32(offset + 4 + 4 * i);
  const length = 4 + 4 * ndims + size;
  if (offset + length > bytes.length) {
    throw new InfoBatchError('INVALID_DATA', `${source}: the ${part} at byte offset ${offset} declare ${length} bytes but only ${bytes.length - offset} remain. The file is truncated.`);
  }
  return length;
}

/**
 * Decodes the embedded Fashion-MNIST subset (5,000 training and 2,000 test images, 14×14, pixels
 * in [0, 1], balanced classes) from its decompressed bytes: four IDX arrays back to back (train
 * images, train labels, test images, test labels). Every part is validated by the IDX parser.
 *
 * @param bytes - The file `data/embedded/fashion-mnist-small.idx.gz`, gunzipped.
 * @param source - File name for error messages.
 * @example
 * ```ts
 * const gz = new Uint8Array(await (await fetch('data/fashion-mnist-small.idx.gz')).arrayBuffer());
 * const { train, test } = decodeEmbeddedDataset(await gunzipBytes(gz));
 * ```
 */
export function decodeEmbeddedDataset(bytes: Uint8Array, source: string = EMBEDDED_DATASET_FILE): DatasetSplit {
  if (!(bytes instanceof Uint8Array)) {
    throw new InfoBatchError('INVALID_TYPE', `decodeEmbeddedDataset: bytes must be a Uint8Array, got ${describeValue(bytes)}.`);
  }
  if (isGzip(bytes)) {
    throw new InfoBatchError('INVALID_DATA', `decodeEmbeddedDataset: ${source} is still gzip-compressed (starts with 1f 8b); expected the decompressed bytes. Use gunzipBytes first.`);
  }
  const slices: Uint8Array[] = [];
  let offset = 0;
  for (const part of PARTS) {
    const length = idxLength(bytes, offset, part, source);
    slices.push(bytes.subarray(offset, offset + length));
    offset += length;
  }
  if (offset !== bytes.length) {
    throw new InfoBatchError('INVALID_DATA', `${source}: ${bytes.length - offset} unexpected bytes after the four IDX arrays (which end at byte offset ${offset}). The file is corrupt.`);
  }
  const [trainImages, trainLabels, testImages, testLabels] = slices as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  return {
    train: idxToDataset({ name: `${EMBEDDED_DATASET_NAME}/train`, images: trainImages, labels: trainLabels, imagesSource: `${source} (train images)`, labelsSource: `${source} (train labels)` }),
    test: idxToDataset({ name: `${EMBEDDED_DATASET_NAME}/test`, images: testImages, labels: testLabels, imagesSource: `${source} (test images)`, labelsSource: `${source} (test labels)` }),
  };
}

/**
 * Decompresses gzip bytes with the web platform's `DecompressionStream` (in browsers and in
 * Node ≥ 18), so the same code path serves both.
 *
 * @param bytes - A gzip stream.
 * @example
 * ```ts
 * const raw = await gunzipBytes(gzBytes);
 * ```
 */
export async function gunzipBytes(bytes: Uint8Array): Promise<Uint8Array> {
  if (!isGzip(bytes)) {
    throw new InfoBatchError('INVALID_DATA', `gunzipBytes: expected gzip data (starting with 1f 8b), got ${bytes.length} bytes starting with ${Array.from(bytes.subarray(0, 2), (b) => b.toString(16).padStart(2, '0')).join(' ') || 'nothing'}.`);
  }
  try {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (error) {
    throw new InfoBatchError('INVALID_DATA', `gunzipBytes: the gzip data (${bytes.length} bytes) could not be decompressed: ${error instanceof Error ? error.message : String(error)}. The file is truncated or corrupt.`);
  }
}
