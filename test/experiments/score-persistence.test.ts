import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderHtmlReport } from '../../src/experiments/report-html.js';
import { renderMarkdownReport } from '../../src/experiments/report-markdown.js';
import type { BenchResults } from '../../src/experiments/results.js';
import { averageRanks, scorePersistence } from '../../src/experiments/score-persistence.js';
import { scorePersistenceRows } from '../../src/experiments/score-persistence-table.js';
import { syntheticResults } from './fixtures/synthetic-results.js';

const ids = (n: number) => Int32Array.from({ length: n }, (_, i) => i);
// Integers keep a nonlinear transform strictly increasing in floating point (tiny floats would collide).
const finiteScores = fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 3, maxLength: 60 });

describe('averageRanks', () => {
  it('ranks from 1 and gives tied values the mean of their ranks', () => {
    expect(Array.from(averageRanks([3, 1, 3, 2]))).toEqual([3.5, 1, 3.5, 2]);
    expect(Array.from(averageRanks([5, 5, 5]))).toEqual([2, 2, 2]);
  });

  it('keeps the rank sum n(n+1)/2 whatever the ties', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 40 }), (values) => {
        const n = values.length;
        expect(averageRanks(values).reduce((s, r) => s + r, 0)).toBeCloseTo((n * (n + 1)) / 2, 9);
      }),
    );
  });
});

describe('scorePersistence', () => {
  it('matches a hand computation', () => {
    // Ranks 1 2 3 4 against 2 1 4 3: Σd² = 4, Spearman = 1 − 6·4 / (4·15) = 0.6.
    // Below the mean (2.5) before: ids 0 and 1; after, both are below the mean (2.5) again.
    const p = scorePersistence([1, 2, 3, 4], [2, 1, 4, 3], ids(4))!;
    expect(p.samples).toBe(4);
    expect(p.rankCorrelation).toBeCloseTo(0.6, 12);
    expect(p.stayedBelowMean).toBe(1);
    expect(p.belowMeanAfter).toBe(0.5);
  });

  it('is 1 for unchanged or monotonically transformed scores and −1 for reversed ones', () => {
    fc.assert(
      fc.property(finiteScores, (scores) => {
        fc.pre(new Set(scores).size > 1);
        const same = scorePersistence(scores, scores, ids(scores.length))!;
        expect(same.rankCorrelation).toBeCloseTo(1, 9);
        expect(same.stayedBelowMean).toBe(1);
        expect(scorePersistence(scores, scores.map((s) => Math.exp(s / 50) + s * s), ids(scores.length))!.rankCorrelation).toBeCloseTo(1, 9);
        const reversed = scorePersistence(scores, scores.map((s) => -s), ids(scores.length))!;
        expect(reversed.rankCorrelation).toBeCloseTo(-1, 9);
        expect(reversed.stayedBelowMean).toBe(0);
      }),
    );
  });

  it('stays in range and is symmetric in its correlation', () => {
    fc.assert(
      fc.property(finiteScores, fc.array(fc.float({ min: 0, max: 100, noNaN: true }), { minLength: 60, maxLength: 60 }), (before, noise) => {
        const after = before.map((_, i) => noise[i]!);
        const p = scorePersistence(before, after, ids(before.length));
        fc.pre(p !== null);
        expect(p!.rankCorrelation).toBeGreaterThanOrEqual(-1);
        expect(p!.rankCorrelation).toBeLessThanOrEqual(1);
        for (const share of [p!.stayedBelowMean, p!.belowMeanAfter]) expect(share >= 0 && share <= 1).toBe(true);
        expect(scorePersistence(after, before, ids(before.length))!.rankCorrelation).toBeCloseTo(p!.rankCorrelation, 9);
      }),
    );
  });

  it('is near 0 for unrelated scores, with the stayed share near the base rate', () => {
    let state = 12345;
    const rand = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const n = 20000;
    const before = Float32Array.from({ length: n }, () => -Math.log(1 - rand())); // skewed like losses
    const after = Float32Array.from({ length: n }, () => -Math.log(1 - rand()));
    const p = scorePersistence(before, after, ids(n))!;
    expect(Math.abs(p.rankCorrelation)).toBeLessThan(0.03);
    expect(Math.abs(p.stayedBelowMean - p.belowMeanAfter)).toBeLessThan(0.03);
    expect(p.belowMeanAfter).toBeGreaterThan(0.55); // exponential: 1 − e⁻¹ ≈ 0.63 below the mean
  });

  it('compares only visited samples with finite scores on both sides', () => {
    const before = [Number.NaN, 1, 2, 3, 4, 100];
    const after = [0, 1, 2, Number.POSITIVE_INFINITY, 4, -100];
    // id 5 is not visited; id 0 was never scored; id 3 has no finite score after.
    const p = scorePersistence(before, after, [0, 1, 2, 3, 4])!;
    expect(p.samples).toBe(3);
    expect(p.rankCorrelation).toBeCloseTo(1, 12);
  });

  it('returns null when too few samples compare or one side has no spread', () => {
    expect(scorePersistence([1, 2], [1, 2], ids(2))).toBeNull();
    expect(scorePersistence([1, 2, 3], [5, 5, 5], ids(3))).toBeNull();
    expect(scorePersistence([Number.NaN, Number.NaN, Number.NaN, 1], [1, 2, 3, 4], ids(4))).toBeNull();
  });
});

describe('score persistence in the reports', () => {
  function withPersistence(): BenchResults {
    const results = syntheticResults();
    const run = results.runs.find((r) => r.label !== 'full')!;
    const epochs = run.epochs.map((e, i) => (i === 1 ? { ...e, scorePersistence: { samples: 500, rankCorrelation: 0.123, stayedBelowMean: 0.64, belowMeanAfter: 0.61 } } : e));
    return { ...results, runs: results.runs.map((r) => (r === run ? { ...run, epochs } : r)) };
  }

  it('lists each recorded epoch of the first run per label, counting epochs from 1', () => {
    const results = withPersistence();
    const label = results.runs.find((r) => r.epochs.some((e) => e.scorePersistence !== undefined))!.label;
    const rows = scorePersistenceRows(results, [...new Set(results.runs.map((r) => r.label))]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ label, epoch: 2, persistence: { rankCorrelation: 0.123 } });
  });

  it('shows the table in report.md and report.html only when a run recorded it', () => {
    const results = withPersistence();
    const md = renderMarkdownReport(results);
    expect(md).toContain('### How per-sample scores carry over from one epoch to the next');
    expect(md).toMatch(/\| 2 \| 500 \| 0\.12 \| 64\.0% \| 61\.0% \|/);
    const html = renderHtmlReport(results);
    expect(html).toContain('How per-sample scores carry over from one epoch to the next');
    expect(html).toContain('<td>0.12</td><td>64.0%</td><td>61.0%</td>');
    const plain = syntheticResults();
    expect(renderMarkdownReport(plain)).not.toContain('How per-sample scores carry over');
    expect(renderHtmlReport(plain)).not.toContain('How per-sample scores carry over');
  });
});
