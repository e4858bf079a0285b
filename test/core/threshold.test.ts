import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeThreshold } from '../../src/index.js';

describe('computeThreshold', () => {
  it('is the mean of the scored values, ignoring NaN, and NaN when nothing is scored', () => {
    expect(computeThreshold(Float32Array.from([1, Number.NaN, 3]), 'mean')).toBe(2);
    expect(computeThreshold(Float32Array.from([Number.NaN]), 'mean')).toBeNaN();
    expect(computeThreshold(Float32Array.from([Number.NaN]), { quantile: 0.5 })).toBeNaN();
  });

  it('gives the nearest-rank quantile, the same as sorting', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.float({ min: -100, max: 100, noNaN: true }), fc.constant(Number.NaN)), { minLength: 1, maxLength: 200 }),
        fc.double({ min: 0.001, max: 0.999, noNaN: true }),
        (raw, q) => {
          const scores = Float32Array.from(raw);
          const scored = Array.from(scores).filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
          const expected = scored.length === 0 ? Number.NaN : scored[Math.max(0, Math.ceil(q * scored.length) - 1)];
          const actual = computeThreshold(scores, { quantile: q });
          if (expected === undefined || Number.isNaN(expected)) expect(actual).toBeNaN();
          else expect(actual === expected).toBe(true); // numeric equality: -0 and 0 are the same threshold
        },
      ),
      { numRuns: 300, seed: 6 },
    );
  });
});
