import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pairedDelta, verdictOf } from '../../src/experiments/paired-stats.js';
import { readingLine, summaryRowText, summarizeResults, type RunResult } from '../../src/experiments/results.js';
import { bench, run } from './fixtures/one-epoch-runs.js';
import { studentTQuantile } from '../../src/experiments/student-t.js';

const bySeed = (values: number[], seeds = values.map((_, i) => i)) => new Map(seeds.map((s, i) => [s, values[i]!]));

describe('pairedDelta', () => {
  it('pairs by seed, not by position, and skips seeds missing or non-finite on either side', () => {
    const d = pairedDelta(new Map([[4, 91], [2, 90], [7, 80], [9, Number.NaN]]), new Map([[2, 89.5], [4, 91.5], [9, 90]]))!;
    expect(d.perSeed).toEqual([{ seed: 2, difference: 0.5 }, { seed: 4, difference: -0.5 }]);
    expect(d.n).toBe(2);
    expect(d.mean).toBe(0);
    expect(d.std).toBeCloseTo(Math.SQRT1_2, 12);
    // t(0.975, 1) = 12.7062; half-width = 12.7062 · 0.7071 / √2 = 6.3531.
    expect(d.ciHigh).toBeCloseTo(6.3531, 3);
    expect(d.ciLow).toBeCloseTo(-6.3531, 3);
  });

  it('has a 5-seed interval of mean ± 2.776·std/√5', () => {
    const d = pairedDelta(bySeed([0.1, -0.2, 0.3, 0.0, 0.05]), bySeed([0, 0, 0, 0, 0]))!;
    const mean = 0.05;
    const std = Math.sqrt([0.05, -0.25, 0.25, -0.05, 0].reduce((s, x) => s + x * x, 0) / 4);
    expect(d.mean).toBeCloseTo(mean, 12);
    expect(d.std).toBeCloseTo(std, 12);
    expect(d.ciHigh! - d.mean).toBeCloseTo((2.7764451 * std) / Math.sqrt(5), 6);
  });

  it('gives no interval for one seed and null when nothing pairs', () => {
    expect(pairedDelta(bySeed([1]), bySeed([0.5]))).toEqual({ n: 1, perSeed: [{ seed: 0, difference: 0.5 }], mean: 0.5, std: null, ciLow: null, ciHigh: null });
    expect(pairedDelta(bySeed([1], [3]), bySeed([1], [4]))).toBeNull();
  });

  it('property: the interval contains the mean, is symmetric, and shifting one side shifts it', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 2, maxLength: 8 }), fc.double({ min: -3, max: 3, noNaN: true }), (values, shift) => {
        const zero = values.map(() => 0);
        const d = pairedDelta(bySeed(values), bySeed(zero))!;
        const s = pairedDelta(bySeed(values.map((v) => v + shift)), bySeed(zero))!;
        expect(d.ciLow!).toBeLessThanOrEqual(d.mean + 1e-12);
        expect(d.ciHigh!).toBeGreaterThanOrEqual(d.mean - 1e-12);
        expect(d.ciHigh! - d.mean).toBeCloseTo(d.mean - d.ciLow!, 9);
        expect(s.ciLow! - d.ciLow!).toBeCloseTo(shift, 9);
        expect(d.ciHigh! - d.mean).toBeCloseTo((studentTQuantile(0.975, values.length - 1) * d.std!) / Math.sqrt(values.length), 9);
      }),
      { numRuns: 60, seed: 7 },
    );
  });
});

describe('verdictOf', () => {
  const delta = (mean: number, ciLow: number, ciHigh: number) => ({ n: 3, perSeed: [], mean, std: 1, ciLow, ciHigh });
  it('says lossless only with |mean| within the tolerance and an interval covering 0', () => {
    expect(verdictOf(delta(0.1, -0.3, 0.5), 0.2)).toBe('lossless');
    expect(verdictOf(delta(-0.2, -0.5, 0.1), 0.2)).toBe('lossless');
    expect(verdictOf(delta(-0.25, -0.6, 0.1), 0.2)).toBe('inconclusive');
    expect(verdictOf(delta(-0.1, -0.15, -0.05), 0.2)).toBe('worse');
    expect(verdictOf(delta(0.1, 0.05, 0.15), 0.2)).toBe('better');
  });
  it('follows the metric direction and needs an interval', () => {
    expect(verdictOf(delta(0.1, 0.05, 0.15), 0.2, false)).toBe('worse');
    expect(verdictOf(delta(-0.1, -0.15, -0.05), 0.2, false)).toBe('better');
    expect(verdictOf(null, 0.2)).toBeNull();
    expect(verdictOf({ n: 1, perSeed: [], mean: 0, std: null, ciLow: null, ciHigh: null }, 0.2)).toBeNull();
  });
});

describe('summarizeResults: paired statistics', () => {
  it('gives the paired interval and verdict per policy, and saved CPU over the seeds where both runs have CPU seconds', () => {
    const summary = summarizeResults(
      bench([run('full', 0, 0.9, 100), run('full', 1, 0.91, 100), run('full', 2, 0.92, 100), run('a', 0, 0.901, 60), run('a', 1, 0.909, 60), run('a', 2, 0.921, 60), run('b', 0, 0.89), run('b', 1, 0.9, 50), run('b', 2, 0.91, 50)]),
    );
    const a = summary.policies.find((p) => p.label === 'a')!;
    expect(summary.losslessTolerance).toBe(0.2);
    expect(a.pairedDelta!.perSeed.map((d) => d.difference)).toEqual([expect.closeTo(0.1, 9), expect.closeTo(-0.1, 9), expect.closeTo(0.1, 9)]);
    expect(a.verdict).toBe('lossless');
    expect(a.savedCpu).toBeCloseTo(0.4, 12);
    const b = summary.policies.find((p) => p.label === 'b')!;
    expect(b.pairedDelta!.mean).toBeCloseTo(-1, 9);
    expect(b.pairedDelta!.std).toBeCloseTo(0, 9);
    expect(b.verdict).toBe('worse');
    // Seed 0 of b has no CPU seconds: the saving pairs seeds 1 and 2 only, (200 − 100) / 200.
    expect(b.savedCpu).toBeCloseTo(0.5, 12);
    expect(b.savedCpuSeeds).toBe(2);
    expect(summaryRowText(b).savedCpu).toBe('50.0% (2 paired)');
    expect(summaryRowText(a).savedCpu).toBe('40.0%');
    expect(readingLine(b, 'full')).toMatch(/, 50\.0% \(2 paired\) saved CPU time \(3 seeds\)\.$/);
    expect(b.trainCpuSeconds.n).toBe(2);
  });

  it('pairs savings only between runs on the same CPU, and is n/a where none pairs', () => {
    const on = (r: RunResult, cpuModel: string): RunResult => ({ ...r, machine: { cpuModel, cores: 2, finishedAt: '2026-01-01T00:00:00Z' } });
    const summary = summarizeResults(
      bench([on(run('full', 0, 0.9, 100), 'X'), on(run('full', 1, 0.9, 100), 'Y'), on(run('a', 0, 0.9, 70), 'X'), on(run('a', 1, 0.9, 10), 'Z'), run('c', 0, 0.9, 50), run('c', 1, 0.9, 50)]),
    );
    const a = summary.policies.find((p) => p.label === 'a')!;
    expect(a.savedCpu).toBeCloseTo(0.3, 12); // seed 1 ran on another CPU than full's seed 1
    expect(a.savedCpuSeeds).toBe(1);
    const c = summary.policies.find((p) => p.label === 'c')!;
    expect(c.savedCpu).toBeNull(); // no recorded CPU on c's side, a recorded one on full's
    expect(summaryRowText(c).savedCpu).toBe('n/a');
  });

  it('uses 0.2% of the baseline mean as tolerance for a metric that is not a percent, and its direction', () => {
    const metric = { name: 'perplexity', higherIsBetter: false };
    const summary = summarizeResults(bench([run('full', 0, 50), run('full', 1, 52), run('full', 2, 54), run('a', 0, 51), run('a', 1, 53.2), run('a', 2, 55.1)], metric));
    expect(summary.losslessTolerance).toBeCloseTo(0.104, 12);
    const a = summary.policies.find((p) => p.label === 'a')!;
    expect(a.pairedDelta!.mean).toBeCloseTo(1.1, 9);
    expect(a.verdict).toBe('worse'); // higher perplexity, interval above 0
  });
});
