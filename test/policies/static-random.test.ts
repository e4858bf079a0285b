import { describe, expect, it } from 'vitest';
import { InfoBatch, StaticRandomPolicy } from '../../src/index.js';
import { runEpochs } from '../core/helpers.js';
import { describePolicyContract, expectCode, scoredRun, sortedIds } from './contract.js';

describe('StaticRandomPolicy', () => {
  it('uses one random subset of round((1 - r)N) samples in every epoch, weighted N/k', () => {
    const numSamples = 1000;
    const ib = new InfoBatch({ numSamples, numEpochs: 6, seed: 3, policy: new StaticRandomPolicy({ pruneRatio: 0.3 }) });
    const plans = runEpochs(ib, 0, 6);
    const subset = sortedIds(plans[0]!);
    expect(subset).toHaveLength(700);
    expect(new Set(subset).size).toBe(700);
    for (const plan of plans) expect(sortedIds(plan)).toEqual(subset);
    const plan = ib.beginEpoch(5);
    expect(plan.pruning).toBe(true);
    expect(plan.weights.every((w) => w === Math.fround(1000 / 700))).toBe(true);
    expect(plan.stats).toEqual({ kept: 700, pruned: 300, wellLearned: 1000, threshold: Number.NaN });
  });

  it('draws the subset from the seed alone: losses do not change it, the seed does', () => {
    const policy = () => new StaticRandomPolicy({ pruneRatio: 0.5 });
    const a = scoredRun(policy(), Array.from({ length: 400 }, (_, i) => i), 5, 9);
    const b = scoredRun(policy(), Array.from({ length: 400 }, (_, i) => 400 - i), 5, 9);
    const c = scoredRun(policy(), Array.from({ length: 400 }, (_, i) => i), 5, 10);
    expect(sortedIds(a.beginEpoch(2).indices)).toEqual(sortedIds(b.beginEpoch(3).indices));
    expect(sortedIds(a.beginEpoch(2).indices)).not.toEqual(sortedIds(c.beginEpoch(2).indices));
  });

  it('picks each sample with probability k/N over seeds', () => {
    const numSamples = 50;
    const seeds = 2000;
    const counts = new Float64Array(numSamples);
    for (let seed = 0; seed < seeds; seed++) {
      const ib = new InfoBatch({ numSamples, numEpochs: 1, seed, policy: new StaticRandomPolicy({ pruneRatio: 0.6 }) });
      for (const i of ib.beginEpoch(0).indices) counts[i]!++;
    }
    // Binomial(seeds, 0.4): standard deviation sqrt(2000 · 0.24) ≈ 21.9 around 800.
    for (const count of counts) expect(Math.abs(count - 800)).toBeLessThan(5 * 21.9);
  });

  it('weights 1 without rescale, and anneals to the full data only when delta < 1', () => {
    const numSamples = 200;
    const plain = new InfoBatch({ numSamples, numEpochs: 10, policy: new StaticRandomPolicy({ rescale: false }) });
    for (let epoch = 0; epoch < 10; epoch++) {
      const plan = plain.beginEpoch(epoch);
      expect(plan.pruning).toBe(true);
      expect(plan.length).toBe(100);
      expect(plan.weights.every((w) => w === 1)).toBe(true);
    }
    const annealed = new InfoBatch({ numSamples, numEpochs: 10, policy: new StaticRandomPolicy({ delta: 0.75 }) });
    for (let epoch = 0; epoch < 10; epoch++) {
      const plan = annealed.beginEpoch(epoch);
      expect(plan.pruning, `epoch ${epoch}`).toBe(epoch < 7);
      expect(plan.length).toBe(epoch < 7 ? 100 : numSamples);
      if (epoch >= 7) expect(plan.weights.every((w) => w === 1)).toBe(true);
    }
  });

  it('keeps one sample when round((1 - r)N) would be 0', () => {
    const ib = new InfoBatch({ numSamples: 3, numEpochs: 2, policy: new StaticRandomPolicy({ pruneRatio: 0.9 }) });
    const plan = ib.beginEpoch(0);
    expect(plan.length).toBe(1);
    expect(plan.weights[0]).toBe(3);
  });

  it('has a config with every option', () => {
    expect(new StaticRandomPolicy().config).toEqual({ name: 'static-random', pruneRatio: 0.5, rescale: true, delta: 1 });
  });

  it.each([
    [{ pruneRatio: 1 }, 'OUT_OF_RANGE', /'pruneRatio' passed to new StaticRandomPolicy\(\) must be in \[0, 1\) but got 1/],
    [{ pruneRatio: '0.5' }, 'INVALID_TYPE', /'pruneRatio'.*finite number.*"0.5"/],
    [{ delta: -0.1 }, 'OUT_OF_RANGE', /'delta'.*\[0, 1\].*-0.1/],
    [{ rescale: 1 }, 'INVALID_TYPE', /'rescale'.*boolean.*1/],
    [{ ratio: 0.5 }, 'INVALID_OPTION', /Unknown option 'ratio'/],
  ])('rejects options %o', (options, code, message) => {
    expectCode(() => new StaticRandomPolicy(options as never), code, message);
  });
});

describePolicyContract('static-random', () => new StaticRandomPolicy({ pruneRatio: 0.4 }));
