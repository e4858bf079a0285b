import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createPolicy, InfoBatch, InfoBatchPolicy } from '../../src/index.js';
import { describePolicyContract, expectCode } from './contract.js';

/** A deterministic loss in [0, 1 + i % 5) for sample i in epoch e of run `run`. */
function loss(i: number, epoch: number, run: number): number {
  const x = Math.sin(i * 12.9898 + epoch * 78.233 + run * 37.719) * 43758.5453;
  return (x - Math.floor(x)) * (1 + (i % 5));
}

/** Trains `numEpochs` epochs on `lossOf`, recording the losses of each plan; returns the plans' lengths. */
function simulate(ib: InfoBatch, lossOf: (i: number, epoch: number) => number): number[] {
  const lengths: number[] = [];
  for (let epoch = 0; epoch < ib.numEpochs; epoch++) {
    const plan = ib.beginEpoch(epoch);
    lengths.push(plan.length);
    ib.recordLosses(plan.indices, Array.from(plan.indices, (i) => lossOf(i, epoch)));
  }
  return lengths;
}

describe('InfoBatchPolicy targetSaving', () => {
  it('reaches the target saving over the run within one sample when it is reachable', () => {
    fc.assert(
      fc.property(fc.constantFrom(0.05, 0.1, 0.2, 0.3), fc.nat(1000), fc.constantFrom(0.875, 1), (targetSaving, run, delta) => {
        const numSamples = 2000;
        const numEpochs = 20;
        const ib = new InfoBatch({ numSamples, numEpochs, seed: run, policy: new InfoBatchPolicy({ targetSaving, delta }) });
        const lengths = simulate(ib, (i, epoch) => loss(i, epoch, run));
        const { samplesSkipped, savedFraction } = ib.summary();
        expect(Math.abs(samplesSkipped - targetSaving * numSamples * numEpochs)).toBeLessThanOrEqual(1);
        expect(savedFraction).toBeCloseTo(targetSaving, 4);
        expect(lengths[0]).toBe(numSamples); // nothing scored yet
        if (delta < 1) expect(lengths.slice(17)).toEqual([2000, 2000, 2000]);
      }),
      { numRuns: 12, seed: 31 },
    );
  });

  it('spreads the saving still needed evenly over the pruning epochs left, with the unbiased weight |D1|/k', () => {
    // Losses 0..9 repeated: D1 (below the mean 4.5) is samples with loss 0..4, 500 of 1000.
    const numSamples = 1000;
    const ib = new InfoBatch({ numSamples, numEpochs: 10, policy: new InfoBatchPolicy({ targetSaving: 0.16, delta: 1 }) });
    const lengths = simulate(ib, (i) => i % 10);
    // Epoch 0 skips nothing; then 1600 visits over 9 epochs: 177.8 each, rounded, adapting to reach 1600.
    expect(lengths[0]).toBe(1000);
    expect(lengths.slice(1).every((length) => length === 822 || length === 823)).toBe(true);
    expect(ib.summary().samplesSkipped).toBe(1600);
    const plan = ib.beginEpoch(9);
    expect(plan.stats.wellLearned).toBe(500);
    const kept = 500 - (numSamples - plan.length);
    expect(plan.weights.filter((w) => w !== 1).every((w) => w === Math.fround(500 / kept))).toBe(true);
  });

  it('saves what it can when the target is unreachable: maxPruneRatio of a small D1, reported by summary()', () => {
    // 10% of the samples have loss 0, the rest 1: D1 is 200 of 2000, at most 180 skipped per epoch.
    const ib = new InfoBatch({ numSamples: 2000, numEpochs: 20, policy: new InfoBatchPolicy({ targetSaving: 0.3 }) });
    const lengths = simulate(ib, (i) => (i % 10 === 0 ? 0 : 1));
    expect(lengths.slice(1, 17).every((length) => length === 2000 - 180)).toBe(true);
    expect(ib.summary().savedFraction).toBeCloseTo((16 * 180) / 40_000, 10);
    const plan = ib.beginEpoch(5);
    expect(plan.weights.filter((w) => w !== 1).every((w) => w === 10)).toBe(true); // 200 / 20
  });

  it('refuses a target above maxPruneRatio · floor(delta · numEpochs) / numEpochs', () => {
    expectCode(
      () => new InfoBatch({ numSamples: 10, numEpochs: 20, policy: new InfoBatchPolicy({ targetSaving: 0.8 }) }),
      'OUT_OF_RANGE',
      /'targetSaving' 0.8 of InfoBatchPolicy cannot be reached.*20 epochs with delta 0.875 and maxPruneRatio 0.9.*at most .* = 0.765/,
    );
    expect(() => new InfoBatch({ numSamples: 10, numEpochs: 20, policy: new InfoBatchPolicy({ targetSaving: 0.76 }) })).not.toThrow();
  });

  it('has a config without pruneRatio that createPolicy rebuilds, and keeps the fixed-ratio config unchanged', () => {
    const policy = new InfoBatchPolicy({ targetSaving: 0.25, maxPruneRatio: 0.8, threshold: { quantile: 0.4 } });
    expect(policy.config).toEqual({ name: 'infobatch', delta: 0.875, threshold: { quantile: 0.4 }, rescale: true, targetSaving: 0.25, maxPruneRatio: 0.8 });
    expect(createPolicy(JSON.parse(JSON.stringify(policy.config))).config).toEqual(policy.config);
    expect(new InfoBatchPolicy({ targetSaving: 0.25 }).config.maxPruneRatio).toBe(0.9);
    expect(new InfoBatchPolicy().config).toEqual({ name: 'infobatch', pruneRatio: 0.5, delta: 0.875, threshold: 'mean', rescale: true });
  });

  it.each([
    [{ targetSaving: 0.3, pruneRatio: 0.5 }, 'INVALID_OPTION', /got both 'pruneRatio' and 'targetSaving'/],
    [{ maxPruneRatio: 0.5 }, 'INVALID_OPTION', /'maxPruneRatio'.*only applies with 'targetSaving'/],
    [{ targetSaving: 0 }, 'OUT_OF_RANGE', /'targetSaving' passed to new InfoBatchPolicy\(\) must be in \(0, 1\) but got 0/],
    [{ targetSaving: 1 }, 'OUT_OF_RANGE', /'targetSaving'.*got 1/],
    [{ targetSaving: '0.3' }, 'INVALID_TYPE', /'targetSaving'.*"0.3"/],
    [{ targetSaving: 0.3, maxPruneRatio: 1 }, 'OUT_OF_RANGE', /'maxPruneRatio'.*\(0, 1\).*got 1/],
  ])('rejects options %o', (options, code, message) => {
    expectCode(() => new InfoBatchPolicy(options as never), code, message);
  });
});

describePolicyContract('infobatch', () => new InfoBatchPolicy({ targetSaving: 0.2, delta: 0.8 }), 'infobatch with targetSaving');
describePolicyContract('infobatch', () => new InfoBatchPolicy({ pruneRatio: 0.6, threshold: { quantile: 0.7 } }), 'infobatch with pruneRatio');
