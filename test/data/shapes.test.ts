import { describe, expect, it } from 'vitest';
import { InfoBatchError } from '../../src/core/errors.js';
import { makeShapesDataset, SHAPE_CLASSES } from '../../src/data/shapes.js';

describe('makeShapesDataset', () => {
  const ds = makeShapesDataset({ numSamples: 200, seed: 1 });

  it('has 32x32 images in [0, 1] and class ids 0..3, every class present', () => {
    expect(SHAPE_CLASSES).toEqual(['background', 'circle', 'square', 'triangle']);
    expect(ds.size).toBe(32);
    expect(ds.numClasses).toBe(4);
    expect(ds.images.length).toBe(200 * 1024);
    expect(ds.masks.length).toBe(200 * 1024);
    expect(ds.images.every((v) => v >= 0 && v <= 1)).toBe(true);
    const counts = [0, 0, 0, 0];
    for (const c of ds.masks) counts[c]!++;
    expect(counts.every((n) => n > 0)).toBe(true);
    // Background dominates; each shape class covers a fair share of the foreground.
    expect(counts[0]! / ds.masks.length).toBeGreaterThan(0.5);
    for (const c of [1, 2, 3]) expect(counts[c]! / (ds.masks.length - counts[0]!)).toBeGreaterThan(0.15);
    // Every image holds at least one shape pixel (1..3 shapes, radius >= 4, centre inside).
    for (let i = 0; i < ds.numSamples; i++) expect(ds.masks.subarray(i * 1024, (i + 1) * 1024).some((c) => c > 0)).toBe(true);
  });

  it('draws shapes brighter than the background on average, so pixels carry the mask', () => {
    let shape = 0;
    let shapeCount = 0;
    let background = 0;
    for (let p = 0; p < ds.images.length; p++) {
      if (ds.masks[p] === 0) background += ds.images[p]!;
      else {
        shape += ds.images[p]!;
        shapeCount++;
      }
    }
    expect(shape / shapeCount).toBeGreaterThan(background / (ds.images.length - shapeCount) + 0.3);
  });

  it('is a pure function of (seed, sample index): same seed same data, a prefix of a larger set, other seeds differ', () => {
    const bytes = (a: Float32Array | Int32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    const again = makeShapesDataset({ numSamples: 200, seed: 1 });
    expect(bytes(again.images).equals(bytes(ds.images))).toBe(true);
    expect(bytes(again.masks).equals(bytes(ds.masks))).toBe(true);
    const prefix = makeShapesDataset({ numSamples: 50, seed: 1 });
    expect(bytes(prefix.images).equals(bytes(ds.images.subarray(0, 50 * 1024)))).toBe(true);
    expect(bytes(prefix.masks).equals(bytes(ds.masks.subarray(0, 50 * 1024)))).toBe(true);
    const other = makeShapesDataset({ numSamples: 50, seed: 2 });
    expect(bytes(other.masks).equals(bytes(prefix.masks))).toBe(false);
  });

  it('honours size, shape count and noise options', () => {
    const clean = makeShapesDataset({ numSamples: 5, size: 16, seed: 4, minShapes: 0, maxShapes: 0, noiseStd: 0 });
    expect(clean.images.length).toBe(5 * 256);
    expect(clean.masks.every((c) => c === 0)).toBe(true);
    // No shape and no noise: each image is one flat background level in [0, 0.25].
    for (let i = 0; i < 5; i++) {
      const image = clean.images.subarray(i * 256, (i + 1) * 256);
      expect(new Set(image).size).toBe(1);
      expect(image[0]).toBeLessThanOrEqual(0.25);
    }
  });

  it('rejects bad options with a message naming the option', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(InfoBatchError);
        return `${(e as InfoBatchError).code}: ${(e as Error).message}`;
      }
      return 'no error';
    };
    expect(code(() => makeShapesDataset({ numSamples: -1 }))).toMatch(/^OUT_OF_RANGE: 'numSamples'/);
    expect(code(() => makeShapesDataset({ numSamples: 1, maxShapes: 0, minShapes: 1 }))).toMatch(/^OUT_OF_RANGE: 'maxShapes'/);
    expect(code(() => makeShapesDataset({ numSamples: 1, noiseStd: Number.NaN }))).toMatch(/'noiseStd'/);
    expect(code(() => makeShapesDataset({ numSamples: 1, colour: 1 } as never))).toMatch(/^INVALID_OPTION: Unknown option 'colour'/);
  });
});
