/** Builds small IDX files in memory for the data tests. */

/** An unsigned-byte IDX file with the given dims and data (data defaults to i mod 256). */
export function makeIdx(dims: readonly number[], data?: ArrayLike<number>): Uint8Array {
  const size = dims.reduce((a, b) => a * b, 1);
  const header = 4 + 4 * dims.length;
  const bytes = new Uint8Array(header + size);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, 0x0800 | dims.length, false);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  for (let i = 0; i < size; i++) bytes[header + i] = data ? data[i]! : i % 256;
  return bytes;
}

/** `n` images of `rows × cols` pixels where pixel j of image i is (i + j) mod 256. */
export function makeImages(n: number, rows = 2, cols = 3): Uint8Array {
  const data = new Uint8Array(n * rows * cols);
  for (let i = 0; i < n; i++) for (let j = 0; j < rows * cols; j++) data[i * rows * cols + j] = (i + j) % 256;
  return makeIdx([n, rows, cols], data);
}

/** `n` labels `i mod 10`. */
export function makeLabels(n: number): Uint8Array {
  return makeIdx([n], Array.from({ length: n }, (_, i) => i % 10));
}
