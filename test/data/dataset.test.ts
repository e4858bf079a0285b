import { describe, expect, it } from 'vitest';
import { InfoBatchError } from '../../src/core/errors.js';
import { createDataset, sampleSize, subsetDataset, takeFirst, trainTestSplit } from '../../src/data/index.js';

const ds = createDataset({
  name: 'toy',
  x: Float32Array.from({ length: 10 }, (_, i) => i),
  y: Int32Array.of(0, 1, 2, 0, 1),
  numSamples: 5,
  sampleShape: [2],
  numClasses: 3,
});

describe('createDataset', () => {
  it('rejects arrays that disagree with the shape or labels out of range', () => {
    expect(() => createDataset({ ...ds, x: new Float32Array(9) })).toThrow(/x has 9 values/);
    expect(() => createDataset({ ...ds, y: Int32Array.of(0, 1) })).toThrow(/y has 2 labels/);
    expect(() => createDataset({ ...ds, y: Int32Array.of(0, 1, 3, 0, 1) })).toThrow(/y\[2\] = 3/);
    expect(sampleSize({ sampleShape: [28, 28] })).toBe(784);
  });
});

describe('subsetDataset / takeFirst', () => {
  it('copies the chosen rows in order', () => {
    const sub = subsetDataset(ds, [4, 1, 1]);
    expect(Array.from(sub.x)).toEqual([8, 9, 2, 3, 2, 3]);
    expect(Array.from(sub.y)).toEqual([1, 1, 1]);
    expect(sub.numSamples).toBe(3);
    sub.x[0] = -1;
    expect(ds.x[8]).toBe(8);
  });
  it('rejects bad indices with OUT_OF_RANGE', () => {
    try {
      subsetDataset(ds, [0, 5]);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InfoBatchError);
      expect((e as InfoBatchError).code).toBe('OUT_OF_RANGE');
      expect((e as Error).message).toMatch(/indices\[1\] = 5/);
    }
  });
  it('takeFirst keeps a prefix and checks n', () => {
    const t = takeFirst(ds, 2);
    expect(Array.from(t.x)).toEqual([0, 1, 2, 3]);
    expect(Array.from(t.y)).toEqual([0, 1]);
    expect(() => takeFirst(ds, 6)).toThrow(/0\.\.5/);
  });
});

describe('trainTestSplit', () => {
  const big = createDataset({
    name: 'big',
    x: Float32Array.from({ length: 100 }, (_, i) => i),
    y: Int32Array.from({ length: 100 }, (_, i) => i % 3),
    numSamples: 100,
    sampleShape: [1],
    numClasses: 3,
  });
  it('partitions the samples deterministically by seed', () => {
    const a = trainTestSplit(big, { seed: 3 });
    const b = trainTestSplit(big, { seed: 3 });
    const c = trainTestSplit(big, { seed: 4 });
    expect(a.test.numSamples).toBe(20);
    expect(a.train.numSamples).toBe(80);
    expect(Array.from(a.test.x)).toEqual(Array.from(b.test.x));
    expect(Array.from(a.test.x)).not.toEqual(Array.from(c.test.x));
    const all = [...a.train.x, ...a.test.x].sort((p, q) => p - q);
    expect(all).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(a.train.name).toBe('big/train');
  });
  it('validates its options', () => {
    expect(() => trainTestSplit(big, { testFraction: 1 })).toThrow(/testFraction/);
    expect(() => trainTestSplit(big, { seed: -1 })).toThrow(/seed/);
  });
});
