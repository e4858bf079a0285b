import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { runDemo } from '../../src/experiments/demo.js';
import { demoTiming, formatDemoReport, matchedEpochs } from '../../src/experiments/demo-table.js';
import type { EpochRecord, RunResult } from '../../src/experiments/results.js';
import { selectBackend } from '../../src/tfjs/backend.js';

/** A run whose epochs each take `seconds[i]` for `passes[i]` sample passes. */
function run(label: string, passes: number[], seconds: number[], accuracy: number): RunResult {
  const epochs: EpochRecord[] = passes.map((planLength, epoch) => ({
    epoch, testAccuracy: accuracy, testLoss: 1, trainLoss: 1, planLength, keptFraction: planLength / 1000, threshold: null, trainSeconds: seconds[epoch]!, pruneSeconds: 0,
  }));
  const forwarded = passes.reduce((a, b) => a + b, 0);
  return {
    label, policy: { name: label }, seed: 0, epochs,
    final: { testAccuracy: accuracy, testLoss: 1, samplesForwarded: forwarded, samplesBackpropagated: forwarded, fullDataSamples: 1000 * passes.length, savedFraction: 0, trainSeconds: seconds.reduce((a, b) => a + b, 0), pruneSeconds: 0 },
  };
}

describe('the demo comparison', () => {
  const full = run('full', [1000, 1000, 1000, 1000], [1.0, 1.02, 0.98, 1.0], 0.8);

  it('headline: passes saved with the time saved beside it; no note when time follows passes', () => {
    const infobatch = run('infobatch', [1000, 600, 600, 1000], [1.0, 0.6, 0.61, 0.99], 0.801);
    const matched = run('full-matched', [1000, 1000, 1000], [1, 1, 1], 0.79);
    const lines = formatDemoReport({ full, infobatch, matched });
    expect(lines[0]).toMatch(/epochs\s+test accuracy\s+sample passes\s+wall-clock \(s\)\s+passes saved\s+time saved/);
    expect(lines[3]).toMatch(/^InfoBatch\s+4\s+80\.1%\s+3,200\s+3\.2\s+20\.0%\s+20\.0%$/);
    expect(lines[4]).toMatch(/^full data, fewer epochs\s+3\s+79\.0%\s+3,000\s+3\.0\s+25\.0%\s+25\.0%$/);
    expect(lines.join('\n')).toContain('InfoBatch saved 20.0% of the sample passes (20.0% of the training time) and reached 80.1% test accuracy against 80.0% with full data (+0.1 points).');
    expect(lines.join('\n')).toContain('Full data for 3 instead of 4 epochs, at about the same number of passes, reached 79.0%.');
    expect(lines.join('\n')).toMatch(/Time saved matches passes saved within the epoch-to-epoch timing noise/);
  });

  it('says so when time saved and passes saved differ by more than timing noise', () => {
    // The same passes, but every InfoBatch pass costs 50% more, steadily.
    const infobatch = run('infobatch', [1000, 600, 600, 1000], [1.5, 0.9, 0.9, 1.5], 0.8);
    const t = demoTiming(full, infobatch);
    expect(t.passesSaved).toBeCloseTo(0.2, 10);
    expect(t.timeSaved).toBeCloseTo(-0.2, 10);
    expect(t.beyondNoise).toBe(true);
    expect(formatDemoReport({ full, infobatch }).join('\n')).toMatch(/differ by 40\.0 points, more than the epoch-to-epoch timing noise .* cost more under InfoBatch/);
  });

  it('does not flag a gap that the epoch-to-epoch spread explains', () => {
    const noisyFull = run('full', [1000, 1000, 1000, 1000], [0.5, 1.5, 0.6, 1.4], 0.8);
    const infobatch = run('infobatch', [1000, 600, 600, 1000], [1.4, 0.3, 0.9, 0.9], 0.8);
    const t = demoTiming(noisyFull, infobatch);
    expect(Math.abs(t.gap)).toBeGreaterThan(0.01);
    expect(t.beyondNoise).toBe(false);
  });

  it('explains a run too short to prune instead of comparing equal budgets', () => {
    const short = run('full', [1000, 1000], [1, 1], 0.7);
    const same = run('infobatch', [1000, 1000], [1, 1], 0.7);
    expect(formatDemoReport({ full: short, infobatch: same, matched: run('full-matched', [1000, 1000], [1, 1], 0.7) }).join('\n')).toContain('With 2 epochs InfoBatch had no epoch to prune');
  });

  it('says when the saving is too small for fewer whole epochs', () => {
    const infobatch = run('infobatch', [1000, 900, 900, 1000], [1, 0.9, 0.9, 1], 0.8);
    const matched = run('full-matched', [1000, 1000, 1000, 1000], [1, 1, 1, 1], 0.8);
    expect(formatDemoReport({ full, infobatch, matched }).join('\n')).toContain('The saving is under half an epoch, so "full data, fewer epochs" trained all 4 epochs too; it reached 80.0%.');
  });

  it('matchedEpochs rounds the saved budget to whole epochs, at least one', () => {
    expect(matchedEpochs(10, 0.218)).toBe(8);
    expect(matchedEpochs(2, 0)).toBe(2);
    expect(matchedEpochs(3, 0.99)).toBe(1);
  });
});

describe('runDemo on the embedded data (small)', () => {
  beforeAll(async () => {
    await selectBackend();
  });

  it('trains full data, InfoBatch and full data for fewer epochs from the same weights, leaking no tensors', async () => {
    const before = tf.memory().numTensors;
    const started: string[] = [];
    const result = await runDemo({ dataset: 'fashion-mnist-small', epochs: 4, seed: 0, model: 'mlp', trainLimit: 640, onRunStart: (name, epochs) => started.push(`${name}:${epochs}`) });
    expect(tf.memory().numTensors).toBe(before);
    expect(result.numSamples).toBe(640);
    expect(result.numTest).toBe(2000);
    expect(result.full.final.samplesForwarded).toBe(640 * 4);
    expect(result.infobatch.final.samplesForwarded).toBeLessThan(640 * 4);
    const matchedCount = matchedEpochs(4, result.infobatch.final.savedFraction);
    expect(started).toEqual(['full:4', 'infobatch:4', `full-matched:${matchedCount}`]);
    expect(result.matched.epochs).toHaveLength(matchedCount);
    // Same initial weights and data order in epoch 0 (InfoBatch has no scores yet): the same first epoch.
    expect(result.infobatch.epochs[0]!.testAccuracy).toBe(result.full.epochs[0]!.testAccuracy);
    // The embedded data is learnable: well above chance after 4 epochs.
    expect(result.full.final.testAccuracy).toBeGreaterThan(0.5);
  }, 120_000);
});
