import { describe, expect, it } from 'vitest';
import { renderHtmlReport } from '../../../src/experiments/report-html.js';
import { renderMarkdownReport } from '../../../src/experiments/report-markdown.js';
import { metricFormat, summarizeResults, type BenchResults, type RunResult } from '../../../src/experiments/results.js';

function run(label: string, seed: number, value: number, savedFraction: number): RunResult {
  return {
    label,
    policy: { name: label },
    seed,
    epochs: [
      { epoch: 0, testAccuracy: value + 1, testLoss: Math.log(value + 1), trainLoss: 2, planLength: 100, keptFraction: 1, threshold: null, trainSeconds: 5, pruneSeconds: 0 },
      { epoch: 1, testAccuracy: value, testLoss: Math.log(value), trainLoss: 1, planLength: 60, keptFraction: 0.6, threshold: 0.7, trainSeconds: 5, pruneSeconds: 0.1 },
    ],
    final: { testAccuracy: value, testLoss: Math.log(value), samplesForwarded: 160, samplesBackpropagated: 160, fullDataSamples: 200, savedFraction, trainSeconds: 10, pruneSeconds: 0.1 },
  };
}

/** An LM bench: perplexity (lower is better, not a percentage) in final.testAccuracy. */
const LM: BenchResults = {
  schemaVersion: 1,
  name: 'lm',
  command: 'infobatch bench --task lm',
  createdAt: '2025-01-01T00:00:00.000Z',
  environment: { node: 'v20.0.0', backend: 'wasm', cpus: 2, platform: 'linux x64' },
  config: { task: 'lm', dataset: 'alpaca', model: 'char-transformer', epochs: 2, batchSize: 16, seeds: [0, 1], learningRate: 1e-3, metric: { name: 'held-out response perplexity', higherIsBetter: false } },
  runs: [run('full', 0, 9.5, 0), run('full', 1, 9.7, 0), run('infobatch', 0, 9.8, 0.3), run('infobatch', 1, 9.9, 0.3)],
};

describe('reports of task benches (config.metric)', () => {
  const summary = summarizeResults(LM);

  it('keeps a non-percent metric in its own unit and carries the metric in the summary', () => {
    expect(summary.metric).toEqual({ name: 'held-out response perplexity', higherIsBetter: false });
    const full = summary.policies.find((p) => p.label === 'full')!;
    expect(full.accuracy.mean).toBeCloseTo(9.6, 12);
    expect(summary.policies.find((p) => p.label === 'infobatch')!.deltaVsFull).toBeCloseTo(0.25, 12);
    expect(full.epochs[0]!.testAccuracy.mean).toBeCloseTo(10.6, 12);
    expect(metricFormat(summary)).toMatchObject({ percent: false, higherIsBetter: false, digits: 2, custom: true });
    // Classification results have no metric and keep accuracy in %.
    const { metric: _metric, ...classificationConfig } = LM.config;
    const classification = summarizeResults({ ...LM, config: classificationConfig });
    expect('metric' in classification).toBe(false);
    expect(classification.policies[0]!.accuracy.mean).toBeCloseTo(960, 10);
  });

  it('names the metric and its direction in report.md', () => {
    const md = renderMarkdownReport(LM);
    expect(md).toContain('| policy | seeds | final held-out response perplexity (mean ± std, lower is better) | Δ held-out response perplexity vs full | 95% CI of Δ | verdict | saved sample passes |');
    expect(md).toContain('| full | 2 | 9.60 ± 0.14 | baseline |');
    // Paired per seed: +0.30 and +0.20; t(0.975, 1) = 12.706 gives ±0.64 around +0.25, and 0.25 exceeds the 0.2% tolerance.
    expect(md).toContain('| infobatch | 2 | 9.85 ± 0.07 | +0.25 ± 0.07 | \\[−0.39, +0.89\\] | inconclusive | 30.0% |');
    expect(md).toContain('| infobatch | +0.30 | +0.20 | +0.25 | [−0.39, +0.89] |');
    expect(md).toContain('Held-out response perplexity, mean ± sample std over seeds, lower is better (results.json keeps it in final.testAccuracy).');
    expect(md).toContain('- full: baseline, 9.60 final held-out response perplexity');
    expect(md).toContain('- infobatch: +0.25 held-out response perplexity (lower is better) (paired std 0.07, 95% CI \\[−0.39, +0.89\\] over 2 paired seeds: inconclusive) at');
    expect(md).not.toContain('points');
  });

  it('labels the HTML plots and table with the metric', () => {
    const html = renderHtmlReport(LM);
    expect(html).toContain('Held-out response perplexity per epoch');
    expect(html).toContain('held-out response perplexity vs full against saved sample passes');
    expect(html).toContain('>Δ held-out response perplexity vs full</text>');
    expect(html).toContain('>held-out response perplexity − full, per seed (hollow), mean (filled) and 95% CI (bar)</text>');
    expect(html).not.toContain('test accuracy (%)');
    expect(html).not.toContain('Images (written beside');
  });

  it('shows small metrics with enough digits', () => {
    const mse: BenchResults = { ...LM, config: { ...LM.config, metric: { name: 'MSE', higherIsBetter: false } }, runs: [run('full', 0, 0.0512, 0), run('full', 1, 0.0534, 0)] };
    expect(renderMarkdownReport(mse)).toContain('| full | 2 | 0.0523 ± 0.0016 | baseline |');
  });
});
