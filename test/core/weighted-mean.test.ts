import { describe, expect, it } from 'vitest';
import { InfoBatch, weightedMean } from '../../src/index.js';
import { expectCode } from './helpers.js';

describe('weightedMean', () => {
  it('is sum(w·l) / B', () => {
    expect(weightedMean([0.2, 0.4], [2, 1])).toBeCloseTo(0.4, 12);
    expect(weightedMean(Float32Array.of(-1, 3), Float32Array.of(1, 1))).toBe(1); // negative losses are an objective's business
  });

  it('refuses NaN or infinite losses and weights', () => {
    expectCode(() => weightedMean([NaN], [1]), 'NON_FINITE_LOSS', /'losses\[0\]' passed to weightedMean must be a finite number but got NaN/);
    expectCode(() => weightedMean([1, Infinity], [1, 1]), 'NON_FINITE_LOSS', /'losses\[1\]'.*Infinity/);
    expectCode(() => weightedMean([1], [NaN]), 'OUT_OF_RANGE', /'weights\[0\]' passed to weightedMean must be a finite number >= 0 but got NaN/);
  });

  it('refuses negative weights', () => {
    expectCode(() => weightedMean([1, 2], [1, -0.5]), 'OUT_OF_RANGE', /'weights\[1\]'.*>= 0 but got -0.5/);
    expectCode(() => new InfoBatch({ numSamples: 2, numEpochs: 2 }).weightedMean([1], [-1]), 'OUT_OF_RANGE', /'weights\[0\]'/);
  });

  it('refuses arrays that do not hold numbers (BigInt64Array, strings)', () => {
    expectCode(() => weightedMean(BigInt64Array.of(1n) as never, [1]), 'INVALID_TYPE', /'losses\[0\]' passed to weightedMean must be a number but got bigint 1/);
    expectCode(() => weightedMean([1], BigUint64Array.of(2n) as never), 'INVALID_TYPE', /'weights\[0\]'.*bigint 2/);
    expectCode(() => weightedMean(['1'] as never, [1]), 'INVALID_TYPE', /'losses\[0\]'.*"1"/);
  });
});
