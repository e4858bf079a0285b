import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SampleKind, makeSyntheticDataset, type Dataset } from '../../src/data/index.js';

function digest(...arrays: ArrayBufferView[]): string {
  const h = createHash('sha256');
  for (const a of arrays) h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return h.digest('hex');
}

function count(kinds: Uint8Array, kind: number): number {
  return kinds.reduce((n, k) => n + (k === kind ? 1 : 0), 0);
}

/** Multinomial logistic regression trained by plain SGD: a tiny, dependency-free stand-in for an MLP. */
function trainSoftmax(train: Dataset, epochs: number): (ds: Dataset, i: number) => number {
  const F = train.sampleShape[0]!;
  const C = train.numClasses;
  const w = new Float64Array(F * C);
  const b = new Float64Array(C);
  const p = new Float64Array(C);
  const predictProbs = (x: Float32Array, o: number): void => {
    let max = -Infinity;
    for (let c = 0; c < C; c++) {
      let a = b[c]!;
      for (let f = 0; f < F; f++) a += x[o + f]! * w[f * C + c]!;
      p[c] = a;
      max = Math.max(max, a);
    }
    let z = 0;
    for (let c = 0; c < C; c++) z += p[c] = Math.exp(p[c]! - max);
    for (let c = 0; c < C; c++) p[c]! /= z;
  };
  for (let e = 0; e < epochs; e++) {
    for (let i = 0; i < train.numSamples; i++) {
      predictProbs(train.x, i * F);
      for (let c = 0; c < C; c++) {
        const g = p[c]! - (c === train.y[i] ? 1 : 0);
        b[c]! -= 0.01 * g;
        for (let f = 0; f < F; f++) w[f * C + c]! -= 0.01 * g * train.x[i * F + f]!;
      }
    }
  }
  return (ds, i) => {
    predictProbs(ds.x, i * F);
    let best = 0;
    for (let c = 1; c < C; c++) if (p[c]! > p[best]!) best = c;
    return best;
  };
}

describe('makeSyntheticDataset', () => {
  const data = makeSyntheticDataset();

  it('has the default sizes, balanced classes and exact kind counts', () => {
    expect(data.train.numSamples).toBe(12000);
    expect(data.test.numSamples).toBe(3000);
    expect(data.train.sampleShape).toEqual([32]);
    expect(data.train.numClasses).toBe(4);
    expect(data.train.x.length).toBe(12000 * 32);
    expect(count(data.trainKind, SampleKind.Mislabeled)).toBe(600);
    // mislabeled samples are drawn from easy and hard alike, so easy + hard = 12000 - 600
    expect(count(data.trainKind, SampleKind.Easy) + count(data.trainKind, SampleKind.Hard)).toBe(11400);
    expect(count(data.testKind, SampleKind.Hard)).toBe(750);
    expect(count(data.testKind, SampleKind.Mislabeled)).toBe(0);
    for (let k = 0; k < 4; k++) expect(data.trainCleanY.filter((y) => y === k).length).toBe(3000);
    expect(data.train.x.every(Number.isFinite)).toBe(true);
  });

  it('flips labels exactly for the mislabeled training samples', () => {
    for (let i = 0; i < data.train.numSamples; i++) {
      const flipped = data.train.y[i] !== data.trainCleanY[i];
      expect(flipped).toBe(data.trainKind[i] === SampleKind.Mislabeled);
    }
  });

  it('is byte-identical for the same seed and differs for another seed', () => {
    const opts = { numSamples: 500, numTest: 100, seed: 42 };
    const a = makeSyntheticDataset(opts);
    const b = makeSyntheticDataset(opts);
    const c = makeSyntheticDataset({ ...opts, seed: 43 });
    const hash = (d: typeof a) => digest(d.train.x, d.train.y, d.test.x, d.test.y, d.trainKind, d.testKind);
    expect(hash(a)).toBe(hash(b));
    expect(hash(a)).not.toBe(hash(c));
    // the training set does not depend on numTest
    expect(digest(makeSyntheticDataset({ ...opts, numTest: 7 }).train.x)).toBe(digest(a.train.x));
  });

  it('is learnable: well above chance, not perfect, easy samples easier than hard ones', () => {
    const predict = trainSoftmax(data.train, 2);
    let correct = 0;
    const byKind = [
      [0, 0],
      [0, 0],
    ];
    for (let i = 0; i < data.test.numSamples; i++) {
      const ok = predict(data.test, i) === data.test.y[i] ? 1 : 0;
      correct += ok;
      byKind[data.testKind[i]!]![0]! += ok;
      byKind[data.testKind[i]!]![1]! += 1;
    }
    const acc = correct / data.test.numSamples;
    const easyAcc = byKind[0]![0]! / byKind[0]![1]!;
    const hardAcc = byKind[1]![0]! / byKind[1]![1]!;
    expect(acc).toBeGreaterThan(0.8);
    expect(acc).toBeLessThan(0.97);
    expect(easyAcc).toBeGreaterThan(0.98);
    expect(hardAcc).toBeLessThan(0.8);
    expect(hardAcc).toBeGreaterThan(0.4);
  });

  it('validates its options', () => {
    expect(() => makeSyntheticDataset({ numClasses: 1 })).toThrow(/numClasses must be an integer ≥ 2, got 1/);
    expect(() => makeSyntheticDataset({ hardFraction: 1.5 })).toThrow(/hardFraction must be in \[0, 1\]/);
    expect(() => makeSyntheticDataset({ noiseFraction: 1 })).toThrow(/noiseFraction must be in \[0, 1\)/);
    expect(() => makeSyntheticDataset({ seed: 1.5 })).toThrow(/'seed' passed to makeSyntheticDataset must be an integer but got 1.5/);
    expect(() => makeSyntheticDataset({ numSamples: 0 })).toThrow(/numSamples/);
  });

  it('works with more classes than features', () => {
    const d = makeSyntheticDataset({ numSamples: 50, numTest: 10, numFeatures: 2, numClasses: 5 });
    expect(d.train.x.every(Number.isFinite)).toBe(true);
    expect(d.centers.length).toBe(10);
  });
});
