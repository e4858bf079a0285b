/**
 * Parser for scikit-learn's `digits.csv` (8×8 handwritten digits, 1797 rows). Pure: takes text.
 *
 * Format (checked on sklearn 1.2's `digits.csv.gz`): no header line; each row is 64
 * comma-separated integer pixel values in 0..16 (an 8×8 image, row-major) followed by the
 * integer label 0..9.
 */
import { InfoBatchError } from '../core/errors.js';
import { createDataset, type Dataset } from './dataset.js';

/** Pixels per digit image (8 × 8). */
export const DIGITS_NUM_FEATURES = 64;
/** Largest pixel value in the digits data (pixels are scaled by 1/16). */
export const DIGITS_MAX_PIXEL = 16;

/** Options of {@link parseDigitsCsv}. */
export interface ParseDigitsCsvOptions {
  /** File name used in error messages (default `'digits.csv'`). */
  readonly source?: string;
  /** Dataset name (default `'digits'`). */
  readonly name?: string;
}

/**
 * Parses scikit-learn's digits CSV into a dataset of 8×8 images with pixels scaled to [0, 1] and labels 0..9.
 *
 * @param text - The decompressed CSV text.
 * @param options - `source` names the file in errors; `name` names the dataset.
 * @example
 * ```ts
 * const digits = parseDigitsCsv(csvText); // digits.numSamples === 1797, sampleShape [8, 8]
 * ```
 */
export function parseDigitsCsv(text: string, options: ParseDigitsCsvOptions = {}): Dataset {
  const source = options.source ?? 'digits.csv';
  const columns = DIGITS_NUM_FEATURES + 1;
  const lines = text.split('\n');
  // One trailing newline (or several) is fine; blank lines inside the file are not.
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  const n = lines.length;
  if (n === 0) {
    throw new InfoBatchError('INVALID_DATA', `${source} is empty: expected rows of ${columns} comma-separated integers. Check the file.`);
  }
  const x = new Float32Array(n * DIGITS_NUM_FEATURES);
  const y = new Int32Array(n);
  let offset = 0; // character offset of the current line, for messages
  for (let row = 0; row < n; row++) {
    const line = lines[row]!.endsWith('\r') ? lines[row]!.slice(0, -1) : lines[row]!;
    const cells = line.split(',');
    const where = `${source} line ${row + 1} (character offset ${offset})`;
    if (cells.length !== columns) {
      throw new InfoBatchError(
        'INVALID_DATA',
        `${where}: expected ${columns} comma-separated values (64 pixels 0..16 and a label 0..9), found ${cells.length}` +
          (row === 0 ? ' (digits.csv has no header line; is this another scikit-learn CSV?)' : '') +
          '. Check that this is scikit-learn\'s digits.csv.',
      );
    }
    for (let c = 0; c < columns; c++) {
      const cell = cells[c]!.trim();
      const value = Number(cell);
      const isLabel = c === DIGITS_NUM_FEATURES;
      const max = isLabel ? 9 : DIGITS_MAX_PIXEL;
      if (cell === '' || !Number.isInteger(value) || value < 0 || value > max) {
        throw new InfoBatchError(
          'INVALID_DATA',
          `${where}, column ${c + 1}: expected ${isLabel ? 'a label' : 'a pixel value'} that is an integer in 0..${max}, ` +
            `found ${JSON.stringify(cells[c])}. Check that this is scikit-learn's digits.csv.`,
        );
      }
      if (isLabel) y[row] = value;
      else x[row * DIGITS_NUM_FEATURES + c] = value / DIGITS_MAX_PIXEL;
    }
    offset += lines[row]!.length + 1;
  }
  return createDataset({ name: options.name ?? 'digits', x, y, numSamples: n, sampleShape: [8, 8], numClasses: 10 });
}
