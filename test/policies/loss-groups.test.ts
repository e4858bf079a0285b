import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lossGroupBoundaries, lossGroupScratch } from '../../src/policies/loss-groups.js';

function groupsOf(values: number[], k: number): { bounds: number[]; groups: number[][] } {
  const input = Float32Array.from(values);
  const copy = input.slice();
  const bounds = Array.from(lossGroupBoundaries(input, input.length, k, lossGroupScratch(input.length)));
  expect(input).toEqual(copy); // the input is read only
  const groups: number[][] = bounds.map(() => []).concat([[]]);
  for (const v of input) groups[bounds.filter((b) => b <= v).length]!.push(v);
  return { bounds, groups };
}

describe('lossGroupBoundaries (1-D k-means)', () => {
  it('finds well-separated clusters exactly, easiest first', () => {
    const values = Array.from({ length: 500 }, (_, i) => 10 * (i % 5) + ((i * 7919) % 100) / 100);
    const { bounds, groups } = groupsOf(values, 5);
    expect(bounds).toHaveLength(4);
    groups.forEach((group, g) => {
      expect(group).toHaveLength(100);
      for (const v of group) expect(Math.floor(v / 10)).toBe(g);
    });
  });

  it('sorts negative values, -0 and +0 correctly', () => {
    const values = [-5, -5.5, -4.5, 0, -0, 0.5, 20, 21, -0.25];
    const { groups } = groupsOf(values, 3);
    const sorted = groups.map((g) => g.sort((a, b) => a - b).map((v) => v + 0)); // -0 + 0 is 0
    expect(sorted).toEqual([[-5.5, -5, -4.5], [-0.25, 0, 0, 0.5], [20, 21]]);
  });

  it('forms fewer groups when there are fewer distinct values', () => {
    expect(groupsOf([3, 3, 3, 3], 5).bounds).toEqual([]);
    expect(groupsOf([1, 2, 2, 1, 2], 5).bounds).toEqual([2]);
    expect(groupsOf([7], 3).bounds).toEqual([]);
  });

  it('returns a Lloyd fixed point: non-empty value intervals, each value nearest its own group mean', () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: 0, max: 100, noNaN: true }), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 1, max: 12 }),
        (values, k) => {
          const { bounds, groups } = groupsOf(values, k);
          const distinct = new Set(values.map((v) => Math.fround(v) + 0)).size;
          expect(groups.length).toBeLessThanOrEqual(Math.min(k, distinct));
          for (let j = 1; j < bounds.length; j++) expect(bounds[j]!).toBeGreaterThan(bounds[j - 1]!);
          const means = groups.map((g) => {
            expect(g.length).toBeGreaterThan(0);
            return g.reduce((s, v) => s + v, 0) / g.length;
          });
          for (let j = 0; j + 1 < groups.length; j++) {
            const midpoint = (means[j]! + means[j + 1]!) / 2;
            expect(Math.max(...groups[j]!)).toBeLessThan(midpoint + 1e-9);
            expect(Math.min(...groups[j + 1]!)).toBeGreaterThanOrEqual(midpoint - 1e-9);
          }
        },
      ),
      { numRuns: 300, seed: 5 },
    );
  });
});
