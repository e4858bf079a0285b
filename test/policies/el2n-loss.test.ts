import { describe, expect, it } from 'vitest';
import { El2nLossPolicy, InfoBatch } from '../../src/index.js';
import { runEpochs } from '../core/helpers.js';
import { describePolicyContract, expectCode, sortedIds } from './contract.js';

/** Trains epochs [from, to) of `ib`, every planned sample getting `lossOf(i, epoch)`; returns the plans (ids ascending). */
function train(ib: InfoBatch, lossOf: (i: number, epoch: number) => number, from = 0, to = ib.numEpochs): number[][] {
  const plans: number[][] = [];
  for (let epoch = from; epoch < to; epoch++) {
    const plan = ib.beginEpoch(epoch);
    plans.push(sortedIds(plan.indices));
    for (const batch of plan.batches(16)) ib.recordLosses(batch.indices, Array.from(batch.indices, (i) => lossOf(i, epoch)));
  }
  return plans;
}

describe('El2nLossPolicy', () => {
  it('trains the full data in the scoring epochs, then keeps one fixed subset of round((1 − r)N) for the rest of the run', () => {
    const numSamples = 200;
    const ib = new InfoBatch({ numSamples, numEpochs: 8, seed: 1, policy: new El2nLossPolicy({ pruneRatio: 0.3, scoreEpochs: 2 }) });
    // After the scoring epochs the losses change completely: the subset must not follow them.
    const plans = train(ib, (i, epoch) => (epoch < 2 ? i : numSamples - i));
    expect(plans[0]).toHaveLength(numSamples);
    expect(plans[1]).toHaveLength(numSamples);
    for (const plan of plans.slice(2)) expect(plan).toEqual(plans[2]);
    expect(plans[2]).toHaveLength(140);
    const plan = ib.beginEpoch(5);
    expect(plan.pruning).toBe(true);
    expect(plan.weights.every((w) => w === 1)).toBe(true); // no rescale by default
    expect(ib.summary().savedFraction).toBeCloseTo((0.3 * 6) / 8, 12);
  });

  it('drops the samples with the lowest loss averaged over the scoring epochs, not the last loss', () => {
    // loss(i, 0) = 3·i, loss(i, 1) = 100 − i: the mean 50 + i increases with i, while the last
    // epoch's loss decreases with i, so ranking by the last loss would drop the other end.
    const numSamples = 100;
    const ib = new InfoBatch({ numSamples, numEpochs: 4, policy: new El2nLossPolicy({ pruneRatio: 0.25, scoreEpochs: 2 }) });
    const plans = train(ib, (i, epoch) => (epoch === 0 ? 3 * i : 100 - i));
    expect(plans[2]).toEqual(Array.from({ length: 75 }, (_, k) => 25 + k));
    const policy = ib.policy as El2nLossPolicy;
    expect(policy.meanEarlyLoss()[10]).toBeCloseTo(60, 5);
  });

  it('keeps samples the scoring epochs never saw, and breaks ties by id', () => {
    const ib = new InfoBatch({ numSamples: 10, numEpochs: 3, policy: new El2nLossPolicy({ pruneRatio: 0.5, scoreEpochs: 1 }) });
    ib.beginEpoch(0);
    // Only samples 0..7 are scored (all with loss 1); 8 and 9 never are.
    ib.recordLosses([0, 1, 2, 3, 4, 5, 6, 7], [1, 1, 1, 1, 1, 1, 1, 1]);
    expect(sortedIds(ib.beginEpoch(1).indices)).toEqual([5, 6, 7, 8, 9]);
  });

  it('depends on the losses alone: the same losses give the same subset under any seed', () => {
    const subset = (seed: number) => train(new InfoBatch({ numSamples: 300, numEpochs: 5, seed, policy: new El2nLossPolicy() }), (i, e) => ((i * 37) % 101) + e)[3];
    expect(subset(1)).toEqual(subset(2));
  });

  it('resumes from a checkpoint saved inside the scoring epochs with the same subset', () => {
    const make = () => new El2nLossPolicy({ pruneRatio: 0.4, scoreEpochs: 3 });
    const lossOf = (i: number, epoch: number) => ((i * 7919 + epoch * 104729) % 1000) / 100;
    const whole = new InfoBatch({ numSamples: 500, numEpochs: 6, seed: 4, policy: make() });
    const plans = train(whole, lossOf);
    const first = new InfoBatch({ numSamples: 500, numEpochs: 6, seed: 4, policy: make() });
    train(first, lossOf, 0, 2);
    const resumed = InfoBatch.loadState(first.saveState());
    expect(train(resumed, lossOf, 2, 6)).toEqual(plans.slice(2));
    expect(resumed.saveState()).toEqual(whole.saveState());
  });

  it('rejects bad options, a run too short to prune, and corrupt state', () => {
    expectCode(() => new El2nLossPolicy({ scoreEpochs: 0 }), 'OUT_OF_RANGE', /'scoreEpochs' passed to new El2nLossPolicy\(\) must be >= 1 but got 0/);
    expectCode(() => new El2nLossPolicy({ scoreEpochs: 1.5 }), 'INVALID_TYPE', /'scoreEpochs'.*integer.*1.5/);
    expectCode(() => new El2nLossPolicy({ pruneRatio: 1 }), 'OUT_OF_RANGE', /'pruneRatio'.*\[0, 1\).*1/);
    expectCode(() => new El2nLossPolicy({ rescale: 'no' } as never), 'INVALID_TYPE', /'rescale'.*boolean/);
    expectCode(() => new El2nLossPolicy({ k: 2 } as never), 'INVALID_OPTION', /Unknown option 'k'/);
    expectCode(() => new InfoBatch({ numSamples: 10, numEpochs: 2, policy: new El2nLossPolicy({ scoreEpochs: 2 }) }), 'OUT_OF_RANGE', /'scoreEpochs' 2 of El2nLossPolicy must be below the run's 2 epochs/);
    const ib = new InfoBatch({ numSamples: 10, numEpochs: 4, policy: new El2nLossPolicy() });
    const policy = ib.policy as El2nLossPolicy;
    const good = policy.saveState();
    expectCode(() => policy.loadState(good.subarray(0, 20)), 'CORRUPT_CHECKPOINT', /is 20 bytes long but 10 samples need 92/);
    const bad = good.slice();
    new DataView(bad.buffer).setFloat32(12, Number.NaN, true);
    expectCode(() => policy.loadState(bad), 'CORRUPT_CHECKPOINT', /loss sum NaN and count 0 for sample 0/);
    expect(policy.saveState()).toEqual(good); // unchanged
  });
});

describePolicyContract('el2n-loss', () => new El2nLossPolicy({ pruneRatio: 0.4, scoreEpochs: 2 }));

it('el2n-loss runs the shared helper loop', () => {
  const ib = new InfoBatch({ numSamples: 100, numEpochs: 4, policy: new El2nLossPolicy() });
  expect(runEpochs(ib, 0, 4).map((p) => p.length)).toEqual([100, 100, 50, 50]);
});
