import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../src/core/random.js';
import { BUCKET_ELEMENTS, shufflePlan } from '../../src/core/shuffle-plan.js';

/** Chi-square statistic of observed counts against a uniform expectation. */
function chiSquare(counts: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i]!;
  const expected = total / counts.length;
  let statistic = 0;
  for (let i = 0; i < counts.length; i++) statistic += (counts[i]! - expected) ** 2 / expected;
  return statistic;
}

/** A loose upper bound for chi-square with `df` degrees of freedom (mean df, sd sqrt(2 df)): 6 sd. */
function chiSquareLimit(df: number): number {
  return df + 6 * Math.sqrt(2 * df);
}

describe('SeededRandom', () => {
  it('gives the same sequence for the same seed and stream, and different ones otherwise', () => {
    fc.assert(
      fc.property(fc.nat(2 ** 32 - 1), fc.nat(1000), (seed, epoch) => {
        const draw = (s: number, e: number) => {
          const random = SeededRandom.derive(s, e);
          return Array.from({ length: 6 }, () => random.nextInt(1_000_000));
        };
        expect(draw(seed, epoch)).toEqual(draw(seed, epoch));
        expect(draw(seed, epoch)).not.toEqual(draw(seed, epoch + 1));
        expect(draw(seed, epoch)).not.toEqual(draw((seed + 1) % 2 ** 32, epoch));
      }),
      { numRuns: 100, seed: 5 },
    );
  });

  it.each([1, 2, 3, 7, 10, 1000, 2 ** 21, 2 ** 21 + 1, 3_000_000_017])('nextInt(%i) stays in range and is uniform', (bound) => {
    const random = SeededRandom.derive(1, bound % 1000);
    const cells = Math.min(bound, 50);
    const counts = new Float64Array(cells);
    const draws = 100_000;
    for (let i = 0; i < draws; i++) {
      const value = random.nextInt(bound);
      expect(Number.isInteger(value) && value >= 0 && value < bound).toBe(true);
      counts[Math.floor((value * cells) / bound)]!++;
    }
    if (cells > 1 && bound % cells === 0) expect(chiSquare(counts)).toBeLessThan(chiSquareLimit(cells - 1));
  });

  it('nextFloat is in [0, 1) and nextGaussian has mean 0 and variance 1', () => {
    const random = SeededRandom.derive(3);
    let sum = 0;
    let squares = 0;
    const n = 50_000;
    for (let i = 0; i < n; i++) {
      const u = random.nextFloat();
      expect(u >= 0 && u < 1).toBe(true);
      const g = random.nextGaussian();
      sum += g;
      squares += g * g;
    }
    expect(Math.abs(sum / n)).toBeLessThan(6 / Math.sqrt(n));
    expect(Math.abs(squares / n - 1)).toBeLessThan(6 * Math.sqrt(2 / n));
  });
});

describe('shufflePlan', () => {
  it.each([5, BUCKET_ELEMENTS, 5 * BUCKET_ELEMENTS + 3])('permutes %i entries, moving weights along with indices', (length) => {
    const indices = Int32Array.from({ length }, (_, i) => i);
    const weights = Float32Array.from({ length }, (_, i) => i);
    const shuffled = { indices: new Int32Array(length), weights: new Float32Array(length) };
    shufflePlan(SeededRandom.derive(1), { indices, weights }, shuffled);
    expect(shuffled.indices.length).toBe(length);
    expect(Array.from(shuffled.indices).sort((a, b) => a - b)).toEqual(Array.from({ length }, (_, i) => i));
    for (let p = 0; p < length; p++) expect(shuffled.weights[p]).toBe(shuffled.indices[p]);
  });

  it('sends every element to every position with equal probability (bucketed path)', () => {
    // 4 buckets; track where elements 0 and length-1 land, in 16 position cells, over many seeds.
    const length = 4 * BUCKET_ELEMENTS;
    const cells = 16;
    const firstCounts = new Float64Array(cells);
    const lastCounts = new Float64Array(cells);
    const runs = 800;
    const weights = new Float32Array(length);
    const scratch = {};
    for (let seed = 0; seed < runs; seed++) {
      const indices = Int32Array.from({ length }, (_, i) => i);
      const shuffled = new Int32Array(length);
      shufflePlan(SeededRandom.derive(seed), { indices, weights }, { indices: shuffled, weights: new Float32Array(length) }, scratch);
      const first = shuffled.indexOf(0);
      const last = shuffled.indexOf(length - 1);
      firstCounts[Math.floor((first * cells) / length)]!++;
      lastCounts[Math.floor((last * cells) / length)]!++;
    }
    expect(chiSquare(firstCounts)).toBeLessThan(chiSquareLimit(cells - 1));
    expect(chiSquare(lastCounts)).toBeLessThan(chiSquareLimit(cells - 1));
  });
});
