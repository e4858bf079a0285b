/**
 * A minimal PNG encoder for 8-bit greyscale images (what the diffusion task writes its sample
 * grids with): signature, IHDR, one zlib-compressed IDAT, IEND. Node-only (node:zlib).
 */
import { deflateSync } from 'node:zlib';
import { describeValue, InfoBatchError } from '../../core/errors.js';
import { crc32 } from '../../core/crc32.js';

const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/**
 * Encodes a greyscale image as PNG.
 * @param pixels - `width × height` values, row-major, each in `[0, 1]` (clamped) where 1 is white.
 *
 * @example
 * ```ts
 * writeFileSync('grid.png', encodeGreyPng(pixels, 240, 240));
 * ```
 */
export function encodeGreyPng(pixels: ArrayLike<number>, width: number, height: number): Uint8Array {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || pixels.length !== width * height) {
    throw new InfoBatchError('SHAPE_MISMATCH', `encodeGreyPng needs width × height pixels (positive integers) but got ${describeValue(width)} × ${describeValue(height)} for ${pixels.length} pixels.`);
  }
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header[8] = 8; // bit depth
  header[9] = 0; // colour type: greyscale
  const raw = new Uint8Array(height * (width + 1)); // filter byte 0 (none) before each row
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = pixels[y * width + x]!;
      raw[y * (width + 1) + 1 + x] = Math.round(255 * (v > 1 ? 1 : v > 0 ? v : 0));
    }
  }
  const parts = [SIGNATURE, chunk('IHDR', header), chunk('IDAT', new Uint8Array(deflateSync(raw))), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Lays square greyscale tiles out in a grid with a 1-pixel black gap, each pixel repeated
 * `scale × scale` times.
 * @param tiles - `count × side × side` values in `[0, 1]`.
 * @returns the pixels and the grid's width and height.
 */
export function tileGrid(tiles: ArrayLike<number>, count: number, side: number, columns: number, scale = 2): { pixels: Float32Array; width: number; height: number } {
  const rows = Math.ceil(count / columns);
  const cell = side * scale + 1;
  const width = columns * cell + 1;
  const height = rows * cell + 1;
  const pixels = new Float32Array(width * height);
  for (let t = 0; t < count; t++) {
    const ox = (t % columns) * cell + 1;
    const oy = Math.floor(t / columns) * cell + 1;
    for (let y = 0; y < side * scale; y++) {
      for (let x = 0; x < side * scale; x++) {
        pixels[(oy + y) * width + ox + x] = tiles[t * side * side + Math.floor(y / scale) * side + Math.floor(x / scale)]!;
      }
    }
  }
  return { pixels, width, height };
}
