import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { convergenceCheck, convergenceSentence } from '../../src/experiments/convergence.js';
import { renderHtmlReport } from '../../src/experiments/report-html.js';
import { renderMarkdownReport } from '../../src/experiments/report-markdown.js';
import { ACCURACY_FORMAT, type BenchResults, type EpochRecord, type RunResult } from '../../src/experiments/results.js';
import { syntheticResults } from './fixtures/synthetic-results.js';

/** A run whose per-epoch test accuracies are `curve` (fractions). */
function run(label: string, seed: number, curve: readonly number[]): RunResult {
  const base = syntheticResults().runs[0]!;
  const template = base.epochs[0]!;
  const epochs: EpochRecord[] = curve.map((testAccuracy, epoch) => ({ ...template, epoch, testAccuracy }));
  return { ...base, label, seed, epochs, final: { ...base.final, testAccuracy: curve[curve.length - 1]! } };
}

function results(runs: RunResult[]): BenchResults {
  return { ...syntheticResults(), runs };
}

describe('convergenceCheck', () => {
  it('calls a curve converged when its last three epochs move less than the seeds differ, and names the numbers', () => {
    // Finals 0.880, 0.890, 0.900: sample std 1.00 point. Changes over the last 3 epochs: +0.2, −0.1, +0.3 points.
    const flat = results([
      run('full', 0, [0.5, 0.7, 0.878, 0.879, 0.88]),
      run('full', 1, [0.5, 0.7, 0.891, 0.892, 0.89]),
      run('full', 2, [0.5, 0.7, 0.897, 0.899, 0.9]),
      run('infobatch', 0, [0.5, 0.6, 0.7]),
    ]);
    const check = convergenceCheck(flat, 'full', ACCURACY_FORMAT)!;
    expect(check.epochs).toEqual([3, 5]);
    expect(check.perSeed.map((s) => Number(s.change.toFixed(6)))).toEqual([0.2, -0.1, 0.3]);
    expect(check.meanAbsChange).toBeCloseTo(0.2, 9);
    expect(check.seedSpread).toBeCloseTo(1, 9);
    expect(check.converged).toBe(true);
    expect(convergenceSentence(check, ACCURACY_FORMAT)).toBe(
      'Convergence of full: over epochs 3–5 its test accuracy changed by +0.20 (seed 0), −0.10 (seed 1), +0.30 (seed 2); mean |change| 0.20 points against a seed spread (sample std of the final values) of 1.00 points: converged: it moves less than the seeds differ.',
    );
  });

  it('calls a curve that still climbs not converged', () => {
    const climbing = results([run('full', 0, [0.5, 0.8, 0.85, 0.88]), run('full', 1, [0.5, 0.8, 0.851, 0.882])]);
    const check = convergenceCheck(climbing, 'full', ACCURACY_FORMAT)!;
    expect(check.meanAbsChange).toBeCloseTo(8.1, 9); // +8.0 and +8.2 points, against a spread of 0.14
    expect(check.converged).toBe(false);
    expect(convergenceSentence(check, ACCURACY_FORMAT)).toMatch(/not converged/);
  });

  it('leaves the verdict open with one seed, skips short or non-finite runs, and is null without runs', () => {
    expect(convergenceCheck(results([run('full', 0, [0.5, 0.6, 0.7])]), 'full', ACCURACY_FORMAT)).toMatchObject({ seedSpread: null, converged: null });
    expect(convergenceCheck(results([run('full', 0, [0.5, 0.6])]), 'full', ACCURACY_FORMAT)).toBeNull();
    expect(convergenceCheck(results([run('full', 0, [0.5, Number.NaN, 0.7])]), 'full', ACCURACY_FORMAT)).toBeNull();
    expect(convergenceCheck(results([run('infobatch', 0, [0.5, 0.6, 0.7])]), 'full', ACCURACY_FORMAT)).toBeNull();
  });

  it('property: the verdict is exactly mean |last − first of the window| < sample std of the finals', () => {
    const curve = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 3, maxLength: 8 });
    fc.assert(fc.property(fc.array(curve, { minLength: 2, maxLength: 5 }), (curves) => {
      const check = convergenceCheck(results(curves.map((c, seed) => run('full', seed, c))), 'full', { percent: false })!;
      const changes = curves.map((c) => c[c.length - 1]! - c[c.length - 3]!);
      const finals = curves.map((c) => c[c.length - 1]!);
      const mean = finals.reduce((a, b) => a + b, 0) / finals.length;
      const std = Math.sqrt(finals.reduce((s, v) => s + (v - mean) ** 2, 0) / (finals.length - 1));
      const meanAbs = changes.reduce((s, v) => s + Math.abs(v), 0) / changes.length;
      expect(check.meanAbsChange).toBeCloseTo(meanAbs, 12);
      expect(check.seedSpread).toBeCloseTo(std, 12);
      expect(check.converged).toBe(check.meanAbsChange < check.seedSpread!);
    }));
  });
});

describe('reports', () => {
  it('state the baseline\'s convergence in report.md and report.html', () => {
    const synthetic = syntheticResults();
    const sentence = convergenceSentence(convergenceCheck(synthetic, 'full', ACCURACY_FORMAT)!, ACCURACY_FORMAT);
    expect(sentence).toMatch(/^Convergence of full: over epochs 8–10 its test accuracy changed by /);
    expect(renderMarkdownReport(synthetic)).toContain(sentence.replace(/\|/g, '\\|'));
    expect(renderHtmlReport(synthetic)).toContain(`<p class="notes convergence">${sentence}</p>`);
  });
});

describe('convergenceSentence', () => {
  it('shows a tiny seed spread with two significant digits instead of 0', () => {
    const mse = results([run('full', 0, [0.2, 0.13, 0.1263, 0.1198, 0.1157]), run('full', 1, [0.2, 0.13, 0.1272, 0.1205, 0.1158])]);
    const format = { percent: false, digits: 3, name: 'held-out denoising MSE' };
    const sentence = convergenceSentence(convergenceCheck(mse, 'full', format)!, format);
    expect(sentence).toContain('mean |change| 0.011 against a seed spread (sample std of the final values) of 0.000071: not converged');
  });
});
