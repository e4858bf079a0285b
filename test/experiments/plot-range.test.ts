import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bulkRange } from '../../src/experiments/plot-range.js';

describe('bulkRange', () => {
  it('leaves a far outlier out and keeps what must be kept', () => {
    expect(bulkRange([0.1, -0.2, 0.3, -0.1, 0.2, -78], [0])).toEqual([-0.2, 0.3]);
    expect(bulkRange([0.1, -0.2, 0.3, -0.1, 0.2, -78], [-0.5, 0.5])).toEqual([-0.5, 0.5]);
  });

  it('clips nothing when the whole range is at most 4 times the bulk, and keeps moderate outliers', () => {
    expect(bulkRange([0.1, -0.2, 0.3, -0.1, 0.2, -1.5], [0])).toEqual([-1.5, 0.3]);
    // -78 is far; -0.9 is beyond the fences but within one bulk span of it, so it stays on the axis.
    expect(bulkRange([0.1, -0.2, 0.3, -0.1, 0.2, 0, 0.05, -0.9, -78], [0])).toEqual([-0.9, 0.3]);
  });

  it('clips nothing with fewer than 4 values or without outliers', () => {
    expect(bulkRange([1, -50, 3])).toEqual([-50, 3]);
    expect(bulkRange([1, 2, 3, 4, 5, 6])).toEqual([1, 6]);
    expect(bulkRange([], [0])).toEqual([0, 0]);
    expect(bulkRange([Number.NaN])).toBeNull();
  });

  it('does not call everything an outlier when the quartiles coincide, given a minimum spread', () => {
    expect(bulkRange([0, 0, 0, 0, 0, 0.3, -0.2], [], 0.2)).toEqual([-0.2, 0.3]);
  });

  it('always covers the kept values and the middle half of the values, and never reaches past them', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 0, maxLength: 40 }), fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { maxLength: 3 }), (values, keep) => {
        const range = bulkRange(values, keep);
        if (values.length + keep.length === 0) {
          expect(range).toBeNull();
          return;
        }
        const [lo, hi] = range!;
        for (const k of keep) expect(k >= lo && k <= hi).toBe(true);
        const all = [...values, ...keep];
        expect(lo).toBeGreaterThanOrEqual(Math.min(...all));
        expect(hi).toBeLessThanOrEqual(Math.max(...all));
        // Either the whole range, or one that leaves values out because the whole is far wider
        // (more than 4 bulk spans, while what is shown is at most 3 of them).
        const whole = Math.max(...all) - Math.min(...all);
        if (lo !== Math.min(...all) || hi !== Math.max(...all)) {
          expect(values.some((v) => v < lo || v > hi)).toBe(true);
          expect(whole).toBeGreaterThan((4 / 3) * (hi - lo));
        }
        const sorted = [...values].sort((a, b) => a - b);
        const middle = sorted.slice(Math.ceil(sorted.length / 4), Math.floor((3 * sorted.length) / 4));
        for (const v of middle) expect(v >= lo && v <= hi).toBe(true);
      }),
    );
  });
});
