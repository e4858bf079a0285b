/**
 * A seeded segmentation dataset of geometric shapes: grey images of circles, squares and
 * triangles on a noisy background, with a class id per pixel. Pure: no files, no global
 * randomness; sample `i` depends on `(seed, i)` alone, so a prefix of a bigger set is the smaller set.
 *
 * Each image holds `minShapes..maxShapes` shapes (uniform count). A shape has a uniform class
 * (circle, square or triangle), a size (circumradius) uniform in `[minRadius, maxRadius]` pixels, a
 * centre uniform over the image (so shapes may be cut by the border and overlap; a later shape
 * covers an earlier one, in the mask too), a uniform rotation (squares and triangles) and an
 * intensity uniform in `[0.45, 1]`. The background has a uniform level in `[0, 0.25]`; Gaussian noise
 * of `noiseStd` is added to every pixel and the result clamped to `[0, 1]`. Intensity never tells
 * the class: only the geometry does.
 */
import { describeValue, InfoBatchError } from '../core/errors.js';
import { SeededRandom } from '../core/random.js';
import { assertInteger, assertKnownKeys, assertNumberInRange, assertOptionBag, validSeed } from '../core/validate.js';

/** Class names of the pixels, by id: 0 is the background. */
export const SHAPE_CLASSES = Object.freeze(['background', 'circle', 'square', 'triangle'] as const);
/** One of {@link SHAPE_CLASSES}. */
export type ShapeClass = (typeof SHAPE_CLASSES)[number];

/** Options of {@link makeShapesDataset}. */
export interface ShapesOptions {
  /** Number of images. */
  readonly numSamples: number;
  /**
   * Side of the square images, in pixels.
   * @defaultValue 32
   */
  readonly size?: number;
  /**
   * Seed of the generator; train and test sets should use different seeds.
   * @defaultValue 0
   */
  readonly seed?: number;
  /**
   * Fewest shapes per image.
   * @defaultValue 1
   */
  readonly minShapes?: number;
  /**
   * Most shapes per image.
   * @defaultValue 3
   */
  readonly maxShapes?: number;
  /**
   * Smallest circumradius, in pixels.
   * @defaultValue size / 8
   */
  readonly minRadius?: number;
  /**
   * Largest circumradius, in pixels.
   * @defaultValue size / 3.5
   */
  readonly maxRadius?: number;
  /**
   * Standard deviation of the Gaussian pixel noise.
   * @defaultValue 0.1
   */
  readonly noiseStd?: number;
}

/** A generated segmentation set: images and per-pixel class ids, row-major. */
export interface ShapesDataset {
  /** `numSamples × size × size` pixel values in `[0, 1]`. */
  readonly images: Float32Array;
  /** `numSamples × size × size` class ids in `0..3` (see {@link SHAPE_CLASSES}). */
  readonly masks: Int32Array;
  /** Number of images. */
  readonly numSamples: number;
  /** Side of each square image, in pixels. */
  readonly size: number;
  /** `SHAPE_CLASSES.length` (4). */
  readonly numClasses: number;
}

const OPTION_KEYS = ['numSamples', 'size', 'seed', 'minShapes', 'maxShapes', 'minRadius', 'maxRadius', 'noiseStd'] as const;
/** Stream key of the per-sample generators, so other users of the same seed draw other numbers. */
const STREAM = 0x5a4e5;

/** Whether the point is inside the convex polygon (vertices in counter-clockwise order). */
function insideConvex(px: number, py: number, xs: readonly number[], ys: readonly number[]): boolean {
  for (let i = 0; i < xs.length; i++) {
    const j = (i + 1) % xs.length;
    const cross = (xs[j]! - xs[i]!) * (py - ys[i]!) - (ys[j]! - ys[i]!) * (px - xs[i]!);
    if (cross < 0) return false;
  }
  return true;
}

/** Draws one image and its mask into the given views. */
function drawSample(random: SeededRandom, image: Float32Array, mask: Int32Array, size: number, o: Required<Omit<ShapesOptions, 'numSamples' | 'seed'>>): void {
  const background = random.nextFloat() * 0.25;
  image.fill(background);
  mask.fill(0);
  const count = o.minShapes + random.nextInt(o.maxShapes - o.minShapes + 1);
  for (let s = 0; s < count; s++) {
    const cls = 1 + random.nextInt(3);
    const radius = o.minRadius + random.nextFloat() * (o.maxRadius - o.minRadius);
    const cx = random.nextFloat() * size;
    const cy = random.nextFloat() * size;
    const angle = random.nextFloat() * 2 * Math.PI;
    const intensity = 0.45 + random.nextFloat() * 0.55;
    const corners = cls === 2 ? 4 : 3;
    const xs: number[] = [];
    const ys: number[] = [];
    for (let k = 0; k < corners; k++) {
      const a = angle + (2 * Math.PI * k) / corners;
      xs.push(cx + radius * Math.cos(a));
      ys.push(cy + radius * Math.sin(a));
    }
    const x0 = Math.max(0, Math.floor(cx - radius));
    const x1 = Math.min(size - 1, Math.ceil(cx + radius));
    const y0 = Math.max(0, Math.floor(cy - radius));
    const y1 = Math.min(size - 1, Math.ceil(cy + radius));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const px = x + 0.5;
        const py = y + 0.5;
        const inside = cls === 1 ? (px - cx) ** 2 + (py - cy) ** 2 <= radius * radius : insideConvex(px, py, xs, ys);
        if (inside) {
          image[y * size + x] = intensity;
          mask[y * size + x] = cls;
        }
      }
    }
  }
  for (let p = 0; p < image.length; p++) {
    const v = image[p]! + o.noiseStd * random.nextGaussian();
    image[p] = v < 0 ? 0 : v > 1 ? 1 : v;
  }
}

/**
 * Generates a seeded shapes segmentation set (see the module comment for the exact recipe).
 * @param options - `numSamples` and the optional generator settings.
 * @returns images in `[0, 1]` and per-pixel class ids, both `numSamples × size × size`.
 * @throws InfoBatchError 'INVALID_OPTION' for an unknown option, 'OUT_OF_RANGE' / 'INVALID_TYPE' for a bad value.
 *
 * @example
 * ```ts
 * const train = makeShapesDataset({ numSamples: 4000, seed: 1 });
 * const test = makeShapesDataset({ numSamples: 500, seed: 2 });
 * train.masks[0]; // class of the top-left pixel of image 0 (0 = background)
 * ```
 */
export function makeShapesDataset(options: ShapesOptions): ShapesDataset {
  const where = 'makeShapesDataset';
  assertOptionBag(where, 'options', options);
  assertKnownKeys(where, options, OPTION_KEYS);
  const { numSamples, size = 32, seed = 0, minShapes = 1, maxShapes = 3, noiseStd = 0.1 } = options;
  assertInteger(where, 'numSamples', numSamples, 0, 1_000_000);
  assertInteger(where, 'size', size, 4, 1024);
  validSeed(seed, where);
  assertInteger(where, 'minShapes', minShapes, 0, 64);
  assertInteger(where, 'maxShapes', maxShapes, minShapes, 64);
  const { minRadius = size / 8, maxRadius = size / 3.5 } = options;
  assertNumberInRange(where, 'minRadius', minRadius, 0, size, '(]');
  assertNumberInRange(where, 'maxRadius', maxRadius, minRadius, size, '[]');
  assertNumberInRange(where, 'noiseStd', noiseStd, 0, 1, '[]');
  const pixels = size * size;
  if (numSamples * pixels > 2 ** 30) {
    throw new InfoBatchError('OUT_OF_RANGE', `'numSamples' passed to ${where} gives ${describeValue(numSamples * pixels)} pixels; keep numSamples × size² at most 2^30.`);
  }
  const images = new Float32Array(numSamples * pixels);
  const masks = new Int32Array(numSamples * pixels);
  const settings = { size, minShapes, maxShapes, minRadius, maxRadius, noiseStd };
  for (let i = 0; i < numSamples; i++) {
    const random = SeededRandom.derive(seed, STREAM, i);
    drawSample(random, images.subarray(i * pixels, (i + 1) * pixels), masks.subarray(i * pixels, (i + 1) * pixels), size, settings);
  }
  return { images, masks, numSamples, size, numClasses: SHAPE_CLASSES.length };
}
