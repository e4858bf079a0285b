/**
 * Parser for the IDX binary format used by MNIST and Fashion-MNIST. Pure: takes bytes, no I/O.
 *
 * Layout: a 4-byte magic `00 00 TT DD` (TT = data type, DD = number of dimensions), then DD
 * big-endian uint32 dimension sizes, then the data in row-major order. Only unsigned bytes
 * (TT = 0x08) are supported, which is what MNIST-style files use.
 */
import { InfoBatchError } from '../core/errors.js';
import { createDataset, type Dataset } from './dataset.js';

/** IDX magic number of an image file: unsigned bytes, 3 dimensions (count × rows × cols). */
export const IDX_IMAGES_MAGIC = 0x00000803;
/** IDX magic number of a label file: unsigned bytes, 1 dimension (count). */
export const IDX_LABELS_MAGIC = 0x00000801;

const IDX_TYPE_NAMES: Readonly<Record<number, string>> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

/** A parsed IDX file: its dimensions and a view (not a copy) of its unsigned-byte data. */
export interface IdxArray {
  /** The 32-bit magic number read at byte offset 0. */
  readonly magic: number;
  /** Dimension sizes in order, e.g. `[60000, 28, 28]`. */
  readonly dims: readonly number[];
  /** The data bytes (a view into the input), `prod(dims)` long. */
  readonly data: Uint8Array;
}

/** Options of {@link parseIdx}. */
export interface ParseIdxOptions {
  /** Name of the file used in error messages (default `'IDX data'`). */
  readonly source?: string;
  /** Required magic number, e.g. {@link IDX_IMAGES_MAGIC}; any unsigned-byte IDX file is accepted when omitted. */
  readonly expectedMagic?: number;
}

function hex(value: number, digits: number): string {
  return `0x${value.toString(16).padStart(digits, '0')}`;
}

function describeMagic(magic: number): string {
  if (magic === IDX_IMAGES_MAGIC) return `${hex(magic, 8)} (IDX images, 3 dimensions)`;
  if (magic === IDX_LABELS_MAGIC) return `${hex(magic, 8)} (IDX labels, 1 dimension)`;
  return `${hex(magic, 8)} (IDX ${IDX_TYPE_NAMES[(magic >>> 8) & 0xff] ?? 'unknown type'}, ${magic & 0xff} dimensions)`;
}

/**
 * True when `bytes` starts with the gzip signature `1f 8b`.
 *
 * @param bytes - File contents.
 * @example
 * ```ts
 * if (isGzip(bytes)) bytes = gunzip(bytes);
 * ```
 */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Parses and validates an uncompressed unsigned-byte IDX file (header, dimensions and exact length).
 *
 * @param bytes - The whole file, already decompressed.
 * @param options - `source` names the file in errors; `expectedMagic` pins the file kind.
 * @example
 * ```ts
 * const { dims, data } = parseIdx(bytes, { source: 'train-images-idx3-ubyte', expectedMagic: IDX_IMAGES_MAGIC });
 * ```
 */
export function parseIdx(bytes: Uint8Array, options: ParseIdxOptions = {}): IdxArray {
  const source = options.source ?? 'IDX data';
  if (isGzip(bytes)) {
    throw new InfoBatchError(
      'INVALID_DATA',
      `${source} starts with the gzip signature 1f 8b at byte offset 0, so it is gzip-compressed; expected raw IDX bytes. ` +
        `Decompress it first (the node loader loadIdxDataset does this for .gz files; in a browser use DecompressionStream('gzip')).`,
    );
  }
  if (bytes.length < 4) {
    throw new InfoBatchError(
      'INVALID_DATA',
      `${source} is truncated: expected a 4-byte IDX magic number at byte offset 0, but the file ends at byte offset ${bytes.length}. ` +
        `Re-download or re-extract the file.`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new InfoBatchError(
      'INVALID_DATA',
      `${source} is not an IDX file: expected the magic number to start with two zero bytes at byte offset 0, found ${hex(magic, 8)}. ` +
        `Pass an MNIST-style IDX file (e.g. train-images-idx3-ubyte).`,
    );
  }
  const dataType = bytes[2]!;
  if (dataType !== 0x08) {
    throw new InfoBatchError(
      'INVALID_DATA',
      `${source} has IDX data type ${hex(dataType, 2)} (${IDX_TYPE_NAMES[dataType] ?? 'unknown'}) at byte offset 2; ` +
        `expected 0x08 (unsigned byte). Only unsigned-byte IDX files such as MNIST are supported.`,
    );
  }
  if (options.expectedMagic !== undefined && magic !== options.expectedMagic) {
    throw new InfoBatchError(
      'INVALID_DATA',
      `${source} has magic number ${describeMagic(magic)} at byte offset 0; expected ${describeMagic(options.expectedMagic)}. ` +
        `Check that the images and labels files are not swapped.`,
    );
  }
  const numDims = bytes[3]!;
  if (numDims === 0) {
    throw new InfoBatchError('INVALID_DATA', `${source} declares 0 dimensions at byte offset 3; expected at least 1.`);
  }
  const headerLength = 4 + 4 * numDims;
  if (bytes.length < headerLength) {
    throw new InfoBatchError(
      'INVALID_DATA',
      `${source} is truncated: its header declares ${numDims} dimensions, so it needs ${headerLength} header bytes, ` +
        `but the file ends at byte offset ${bytes.length}. Re-download or re-extract the file.`,
    );
  }
  const dims: number[] = [];
  let dataLength = 1;
  for (let d = 0; d < numDims; d++) {
    const size = view.getUint32(4 + 4 * d, false);
    dims.push(size);
    dataLength *= size;
  }
  const expectedLength = headerLength + dataLength;
  const shape = dims.join('×');
  if (bytes.length < expectedLength) {
    throw new InfoBatchError(
      'INVALID_DATA',
      `${source} is truncated: its header declares dimensions ${shape} = ${dataLength} data bytes from byte offset ${headerLength} ` +
        `(${expectedLength} bytes in all), but the file ends at byte offset ${bytes.length}. Re-download or re-extract the file.`,
    );
  }
  if (bytes.length > expectedLength) {
    throw new InfoBatchError(
      'INVALID_DATA',
      `${source} has ${bytes.length - expectedLength} unexpected bytes after the data, from byte offset ${expectedLength}: ` +
        `its header declares dimensions ${shape}, so the file should be exactly ${expectedLength} bytes. ` +
        `The file is corrupt or not an IDX file; re-download it.`,
    );
  }
  return { magic, dims, data: bytes.subarray(headerLength, expectedLength) };
}

/**
 * Parses an IDX image file (magic `0x00000803`, count × rows × cols unsigned bytes).
 *
 * @param bytes - The decompressed file.
 * @param source - File name for error messages.
 * @example
 * ```ts
 * const images = parseIdxImages(bytes, 'train-images-idx3-ubyte'); // images.dims = [60000, 28, 28]
 * ```
 */
export function parseIdxImages(bytes: Uint8Array, source = 'IDX images'): IdxArray {
  return parseIdx(bytes, { source, expectedMagic: IDX_IMAGES_MAGIC });
}

/**
 * Parses an IDX label file (magic `0x00000801`, one unsigned byte per label).
 *
 * @param bytes - The decompressed file.
 * @param source - File name for error messages.
 * @example
 * ```ts
 * const labels = parseIdxLabels(bytes, 'train-labels-idx1-ubyte'); // labels.dims = [60000]
 * ```
 */
export function parseIdxLabels(bytes: Uint8Array, source = 'IDX labels'): IdxArray {
  return parseIdx(bytes, { source, expectedMagic: IDX_LABELS_MAGIC });
}

/** Options of {@link idxToDataset}. */
export interface IdxToDatasetOptions {
  /** Dataset name, e.g. `'mnist/train'`. */
  readonly name: string;
  /** Raw (decompressed) image file bytes. */
  readonly images: Uint8Array;
  /** Raw (decompressed) label file bytes. */
  readonly labels: Uint8Array;
  /** Number of classes; every label must be below it (default 10). */
  readonly numClasses?: number;
  /** Image file name for error messages. */
  readonly imagesSource?: string;
  /** Label file name for error messages. */
  readonly labelsSource?: string;
}

/** Float32 value of each byte scaled to [0, 1]. */
const PIXEL_SCALE = /* @__PURE__ */ (() => {
  const table = new Float32Array(256);
  for (let i = 0; i < 256; i++) table[i] = i / 255;
  return table;
})();

/**
 * Turns a pair of IDX image and label files into a {@link Dataset} with pixels scaled to [0, 1].
 *
 * @param options - The two files' bytes, the dataset name and the class count.
 * @example
 * ```ts
 * const train = idxToDataset({ name: 'mnist/train', images: imageBytes, labels: labelBytes });
 * ```
 */
export function idxToDataset(options: IdxToDatasetOptions): Dataset {
  const imagesSource = options.imagesSource ?? 'IDX images';
  const labelsSource = options.labelsSource ?? 'IDX labels';
  const numClasses = options.numClasses ?? 10;
  const images = parseIdxImages(options.images, imagesSource);
  const labels = parseIdxLabels(options.labels, labelsSource);
  const [count, rows, cols] = images.dims as [number, number, number];
  if (labels.dims[0] !== count) {
    throw new InfoBatchError(
      'INVALID_DATA',
      `${imagesSource} declares ${count} images (header, byte offset 4) but ${labelsSource} declares ${labels.dims[0]} labels ` +
        `(header, byte offset 4); expected the same count. Pair files of the same split (train-* with train-*, t10k-* with t10k-*).`,
    );
  }
  const y = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const label = labels.data[i]!;
    if (label >= numClasses) {
      throw new InfoBatchError(
        'INVALID_DATA',
        `${labelsSource} has label ${label} at byte offset ${8 + i} (sample ${i}); expected a class index in 0..${numClasses - 1}. ` +
          `The file is corrupt or belongs to another dataset.`,
      );
    }
    y[i] = label;
  }
  const x = new Float32Array(images.data.length);
  const pixels = images.data;
  for (let i = 0; i < pixels.length; i++) x[i] = PIXEL_SCALE[pixels[i]!]!;
  return createDataset({ name: options.name, x, y, numSamples: count, sampleShape: [rows, cols], numClasses });
}
