import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DynamicRandomPolicy, InfoBatch } from '../../src/index.js';
import { runEpochs } from '../core/helpers.js';
import { describePolicyContract, expectCode, scoredRun, sortedIds } from './contract.js';

describe('DynamicRandomPolicy', () => {
  it('visits a new uniform random round((1 - r)N) of all samples each pruning epoch, weighted N/k', () => {
    const numSamples = 1000;
    const ib = new InfoBatch({ numSamples, numEpochs: 8, seed: 4, policy: new DynamicRandomPolicy({ pruneRatio: 0.35 }) });
    const plans = runEpochs(ib, 0, 7);
    for (const plan of plans) {
      expect(plan).toHaveLength(650);
      expect(new Set(plan).size).toBe(650);
    }
    expect(sortedIds(plans[1]!)).not.toEqual(sortedIds(plans[2]!));
    const plan = ib.beginEpoch(3);
    expect(plan.pruning).toBe(true);
    expect(plan.weights.every((w) => w === Math.fround(1000 / 650))).toBe(true);
    expect(plan.stats).toEqual({ kept: 650, pruned: 350, wellLearned: 1000, threshold: Number.NaN });
  });

  it('ignores the scores: unscored samples are pruned like any other', () => {
    const ib = new InfoBatch({ numSamples: 100, numEpochs: 4, policy: new DynamicRandomPolicy() });
    expect(ib.beginEpoch(0).length).toBe(50);
    const scored = scoredRun(new DynamicRandomPolicy(), Array.from({ length: 100 }, (_, i) => i));
    expect(scored.beginEpoch(0).indices).toEqual(ib.beginEpoch(0).indices);
  });

  it.each([
    [10, 0.875, 8],
    [90, 0.875, 78],
    [10, 1, 10],
    [10, 0, 0],
  ])('with %i epochs and delta %f prunes in epochs 0..%i-1, then uses the full data with weight 1', (numEpochs, delta, firstFull) => {
    const numSamples = 40;
    const ib = new InfoBatch({ numSamples, numEpochs, policy: new DynamicRandomPolicy({ delta }) });
    for (let epoch = 0; epoch < numEpochs; epoch++) {
      const plan = ib.beginEpoch(epoch);
      expect(plan.pruning, `epoch ${epoch}`).toBe(epoch < firstFull);
      expect(plan.length, `epoch ${epoch}`).toBe(epoch < firstFull ? 20 : numSamples);
      if (epoch >= firstFull) expect(plan.weights.every((w) => w === 1)).toBe(true);
    }
  });

  it('weights 1 without rescale', () => {
    const ib = new InfoBatch({ numSamples: 30, numEpochs: 2, policy: new DynamicRandomPolicy({ rescale: false }) });
    expect(ib.beginEpoch(0).weights.every((w) => w === 1)).toBe(true);
  });

  it('the mean over seeds of the weighted sum of a plan equals the full-data sum', () => {
    const seeds = 300;
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: 0, max: 10, noNaN: true, noDefaultInfinity: true }), { minLength: 2, maxLength: 40 }),
        fc.constantFrom(0.2, 0.5, 0.8),
        (raw, pruneRatio) => {
          const values = Float32Array.from(raw);
          const n = values.length;
          const fullSum = values.reduce((s, v) => s + v, 0);
          let total = 0;
          let keep = 0;
          for (let seed = 0; seed < seeds; seed++) {
            const ib = new InfoBatch({ numSamples: n, numEpochs: 2, seed, policy: new DynamicRandomPolicy({ pruneRatio }) });
            const plan = ib.beginEpoch(0);
            keep = plan.length;
            for (let p = 0; p < plan.length; p++) total += plan.weights[p]! * values[plan.indices[p]!]!;
          }
          // Variance of the without-replacement total estimator: N^2 (1 - k/N) S^2 / k.
          const mean = fullSum / n;
          const s2 = values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1);
          const variance = (n * n * (1 - keep / n) * s2) / keep;
          const tolerance = 5 * Math.sqrt(variance / seeds) + 1e-5 * (1 + fullSum);
          expect(Math.abs(total / seeds - fullSum)).toBeLessThanOrEqual(tolerance);
        },
      ),
      { numRuns: 30, seed: 7 },
    );
  });

  it('has a config with every option', () => {
    expect(new DynamicRandomPolicy().config).toEqual({ name: 'dynamic-random', pruneRatio: 0.5, delta: 0.875, rescale: true });
  });

  it.each([
    [{ pruneRatio: 1.5 }, 'OUT_OF_RANGE', /'pruneRatio' passed to new DynamicRandomPolicy\(\) must be in \[0, 1\) but got 1.5/],
    [{ pruneRatio: Number.NaN }, 'OUT_OF_RANGE', /'pruneRatio'.*NaN/],
    [{ delta: 2 }, 'OUT_OF_RANGE', /'delta'.*got 2/],
    [{ rescale: 'yes' }, 'INVALID_TYPE', /'rescale'.*boolean/],
    [{ epsilon: 0.1 }, 'INVALID_OPTION', /Unknown option 'epsilon'.*pruneRatio, delta, rescale/],
  ])('rejects options %o', (options, code, message) => {
    expectCode(() => new DynamicRandomPolicy(options as never), code, message);
  });
});

describePolicyContract('dynamic-random', () => new DynamicRandomPolicy({ pruneRatio: 0.4 }));
