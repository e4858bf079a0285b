import { describe, expect, it } from 'vitest';
import { InfoBatch, SetaPolicy } from '../../src/index.js';
import { describePolicyContract, expectCode, scoredRun, sortedIds } from './contract.js';

/** 100 samples in 5 well-separated loss clusters: sample i is in cluster i % 5 (loss ≈ 10 · cluster). */
const CLUSTERED = Array.from({ length: 100 }, (_, i) => 10 * (i % 5) + (i % 7) / 10);
const idsOfClusters = (clusters: number[]): number[] => Array.from({ length: 100 }, (_, i) => i).filter((i) => clusters.includes(i % 5));

describe('SetaPolicy', () => {
  it('slides a window of round(G · windowScale) loss groups from easy to hard, cyclically, after a full epoch 0', () => {
    // No random step (r = 0), 5 groups, window 3: starts 1, 2, 0, 1, 2, ... (epoch mod 3).
    const ib = scoredRun(new SetaPolicy({ pruneRatio: 0, numGroups: 5, windowScale: 0.6 }), CLUSTERED, 10);
    expect(sortedIds(ib.beginEpoch(0).indices)).toEqual(idsOfClusters([0, 1, 2, 3, 4]));
    const windows = [[1, 2, 3], [2, 3, 4], [0, 1, 2], [1, 2, 3], [2, 3, 4], [0, 1, 2], [1, 2, 3]];
    windows.forEach((clusters, e) => {
      const plan = ib.beginEpoch(e + 1);
      expect(plan.pruning).toBe(true);
      expect(sortedIds(plan.indices), `epoch ${e + 1}`).toEqual(idsOfClusters(clusters));
      expect(plan.weights.every((w) => w === 1)).toBe(true);
      expect(plan.stats.wellLearned).toBe(100);
    });
  });

  it('rounds the window half to even like the reference code: 5 groups at 0.9 give a window of 4', () => {
    const ib = scoredRun(new SetaPolicy({ pruneRatio: 0 }), CLUSTERED, 10);
    expect(sortedIds(ib.beginEpoch(1).indices)).toEqual(idsOfClusters([1, 2, 3, 4]));
    expect(sortedIds(ib.beginEpoch(2).indices)).toEqual(idsOfClusters([0, 1, 2, 3]));
    expect(sortedIds(ib.beginEpoch(3).indices)).toEqual(idsOfClusters([1, 2, 3, 4]));
  });

  it('first keeps a new uniform random round((1 - r)N) of all samples each epoch, every weight 1', () => {
    const numSamples = 1000;
    const losses = Array.from({ length: numSamples }, (_, i) => i % 10);
    const ib = scoredRun(new SetaPolicy({ pruneRatio: 0.3, windowScale: 1 }), losses, 10);
    const a = ib.beginEpoch(1);
    const b = ib.beginEpoch(2);
    expect(a.length).toBe(700);
    expect(b.length).toBe(700);
    expect(sortedIds(a.indices)).not.toEqual(sortedIds(b.indices));
    expect(a.weights.every((w) => w === 1)).toBe(true);
    // With a window, the plan is a part of that same random subset.
    const windowed = scoredRun(new SetaPolicy({ pruneRatio: 0.3, numGroups: 10, windowScale: 0.5 }), losses, 10);
    const subset = new Set(a.indices);
    const plan = windowed.beginEpoch(1);
    expect(plan.length).toBeLessThan(700);
    for (const i of plan.indices) expect(subset.has(i)).toBe(true);
  });

  it('keeps the unscored samples the random step drew, outside the groups', () => {
    const ib = new InfoBatch({ numSamples: 100, numEpochs: 10, policy: new SetaPolicy({ pruneRatio: 0, numGroups: 2, windowScale: 0.5 }) });
    const scored = Int32Array.from({ length: 50 }, (_, j) => 2 * j); // even ids: losses 0 (j < 25) or 10
    ib.recordLosses(scored, Array.from(scored, (i) => (i < 50 ? 0 : 10)));
    // Window of 1 group; epoch 1 starts at group 1 (the hard one), epoch 2 at group 0.
    const odd = Array.from({ length: 50 }, (_, j) => 2 * j + 1);
    expect(sortedIds(ib.beginEpoch(1).indices)).toEqual([...odd, ...Array.from({ length: 25 }, (_, j) => 50 + 2 * j)].sort((x, y) => x - y));
    expect(sortedIds(ib.beginEpoch(2).indices)).toEqual([...odd, ...Array.from({ length: 25 }, (_, j) => 2 * j)].sort((x, y) => x - y));
  });

  it('forms fewer groups when the losses take fewer values, and never plans an empty epoch', () => {
    const same = scoredRun(new SetaPolicy({ pruneRatio: 0, numGroups: 10, windowScale: 0.1 }), new Array(50).fill(2), 10);
    expect(same.beginEpoch(1).length).toBe(50);
    const tiny = scoredRun(new SetaPolicy({ pruneRatio: 0.9, numGroups: 5, windowScale: 0.2 }), [1, 2, 3], 10);
    for (let epoch = 0; epoch < 8; epoch++) expect(tiny.beginEpoch(epoch).length).toBe(1);
  });

  it('anneals partially by default (random step only), or to the full data when asked', () => {
    const partial = scoredRun(new SetaPolicy({ pruneRatio: 0.2, delta: 0.5 }), CLUSTERED, 8);
    expect(partial.beginEpoch(3).length).toBeLessThan(80);
    for (let epoch = 4; epoch < 8; epoch++) {
      const plan = partial.beginEpoch(epoch);
      expect(plan.pruning).toBe(true);
      expect(plan.length).toBe(80);
      expect(plan.weights.every((w) => w === 1)).toBe(true);
    }
    const full = scoredRun(new SetaPolicy({ pruneRatio: 0.2, delta: 0.5, annealing: 'full' }), CLUSTERED, 8);
    for (let epoch = 4; epoch < 8; epoch++) {
      const plan = full.beginEpoch(epoch);
      expect(plan.pruning).toBe(false);
      expect(plan.length).toBe(100);
    }
    const noRandomStep = scoredRun(new SetaPolicy({ pruneRatio: 0, delta: 0.5 }), CLUSTERED, 8);
    expect(noRandomStep.beginEpoch(5).pruning).toBe(false);
  });

  it('has a config with every option, defaulting to the reference CIFAR setting', () => {
    expect(new SetaPolicy().config).toEqual({ name: 'seta', pruneRatio: 0.1, numGroups: 5, windowScale: 0.9, delta: 0.875, annealing: 'partial' });
  });

  it.each([
    [{ pruneRatio: 1 }, 'OUT_OF_RANGE', /'pruneRatio' passed to new SetaPolicy\(\) must be in \[0, 1\) but got 1/],
    [{ numGroups: 0 }, 'OUT_OF_RANGE', /'numGroups'.*got 0/],
    [{ numGroups: 2.5 }, 'INVALID_TYPE', /'numGroups'.*integer.*2.5/],
    [{ windowScale: 0 }, 'OUT_OF_RANGE', /'windowScale'.*\(0, 1\].*got 0/],
    [{ windowScale: 0.1, numGroups: 5 }, 'OUT_OF_RANGE', /'windowScale'.*at least one group.*0.1 with numGroups 5/],
    [{ annealing: 'none' }, 'INVALID_OPTION', /'annealing'.*'partial' or 'full'.*"none"/],
    [{ window: 0.5 }, 'INVALID_OPTION', /Unknown option 'window'/],
  ])('rejects options %o', (options, code, message) => {
    expectCode(() => new SetaPolicy(options as never), code, message);
  });
});

describePolicyContract('seta', () => new SetaPolicy({ pruneRatio: 0.3, numGroups: 4, windowScale: 0.5, delta: 0.7 }));
