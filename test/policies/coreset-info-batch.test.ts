import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CoresetInfoBatchPolicy, createPolicy, El2nLossPolicy, InfoBatch, StaticRandomPolicy, UcbPolicy } from '../../src/index.js';
import { syntheticLoss } from '../core/helpers.js';
import { describePolicyContract, expectCode, sortedIds, weightById } from './contract.js';

/** Trains every epoch of `ib` with syntheticLoss; returns each epoch's plan (indices and weights). */
function train(ib: InfoBatch, to = ib.numEpochs): { indices: Int32Array; weights: Float32Array; pruning: boolean }[] {
  const plans = [];
  for (let epoch = 0; epoch < to; epoch++) {
    const plan = ib.beginEpoch(epoch);
    plans.push({ indices: plan.indices.slice(), weights: plan.weights.slice(), pruning: plan.pruning });
    for (const batch of plan.batches(32)) ib.recordLosses(batch.indices, Array.from(batch.indices, (i) => syntheticLoss(i, epoch)));
  }
  return plans;
}

describe('CoresetInfoBatchPolicy', () => {
  it('never visits a sample outside the static coreset (property over seeds and ratios)', () => {
    fc.assert(
      fc.property(fc.nat(10_000), fc.constantFrom(0.2, 0.5, 0.8), fc.constantFrom(0.3, 0.5, 0.7), (seed, coresetRatio, pruneRatio) => {
        const numSamples = 300;
        const ib = new InfoBatch({ numSamples, numEpochs: 8, seed, policy: new CoresetInfoBatchPolicy({ coreset: new StaticRandomPolicy({ pruneRatio: coresetRatio }), pruneRatio }) });
        const plans = train(ib);
        const coreset = new Set(sortedIds(plans[0]!.indices)); // epoch 0: nothing scored, InfoBatch keeps the whole coreset
        expect(coreset.size).toBe(Math.round((1 - coresetRatio) * numSamples));
        for (const plan of plans) for (const i of plan.indices) expect(coreset.has(i)).toBe(true);
      }),
      { numRuns: 15, seed: 3 },
    );
  });

  it('is unbiased on the coreset: InfoBatch weights sum to the coreset weights, D1 taken against the coreset mean', () => {
    const numSamples = 400;
    const ib = new InfoBatch({ numSamples, numEpochs: 10, seed: 8, policy: new CoresetInfoBatchPolicy({ coreset: new StaticRandomPolicy({ pruneRatio: 0.5 }), pruneRatio: 0.6 }) });
    const plans = train(ib, 3);
    const coreset = sortedIds(plans[0]!.indices);
    const coresetWeight = numSamples / coreset.length; // static-random rescales by N / k
    const plan = ib.beginEpoch(3);
    const scores = ib.scores;
    const mean = coreset.reduce((s, i) => s + scores[i]!, 0) / coreset.length;
    const d1 = coreset.filter((i) => scores[i]! < mean);
    expect(plan.stats.threshold).toBeCloseTo(mean, 5);
    expect(plan.stats.wellLearned).toBe(d1.length);
    const weights = weightById(plan);
    // Every coreset sample outside D1 is kept with the coreset weight.
    for (const i of coreset) if (!(scores[i]! < mean)) expect(weights.get(i)).toBeCloseTo(coresetWeight, 5);
    // Kept D1 samples carry |D1|/k times the coreset weight, so their weights sum to the coreset's weight of D1.
    const keptD1 = d1.filter((i) => weights.has(i));
    expect(keptD1.length).toBe(Math.round(0.4 * d1.length));
    const sum = keptD1.reduce((s, i) => s + weights.get(i)!, 0);
    expect(sum).toBeCloseTo(d1.length * coresetWeight, 2);
  });

  it('keeps each well-learned coreset sample with probability k/|D1| over seeds (EL2N coreset, fixed by the losses)', () => {
    const numSamples = 60;
    const counts = new Map<number, number>();
    let wellLearned = 0;
    let k = 0;
    const runs = 1500;
    for (let seed = 0; seed < runs; seed++) {
      const ib = new InfoBatch({ numSamples, numEpochs: 8, seed, policy: new CoresetInfoBatchPolicy({ coreset: new El2nLossPolicy({ pruneRatio: 0.5, scoreEpochs: 1 }), pruneRatio: 0.5 }) });
      train(ib, 1);
      const plan = ib.beginEpoch(1);
      // The losses, hence the 30-sample EL2N coreset and its D1, are the same under every seed.
      if (seed === 0) {
        wellLearned = plan.stats.wellLearned;
        k = plan.length - (30 - wellLearned);
      }
      for (const i of plan.indices) counts.set(i, (counts.get(i) ?? 0) + 1);
    }
    const always = [...counts].filter(([, c]) => c === runs);
    const sometimes = [...counts].filter(([, c]) => c < runs);
    expect(always.length + sometimes.length).toBe(30); // nothing outside the coreset, every coreset sample outside D1 always
    expect(sometimes.length).toBe(wellLearned);
    expect(k).toBe(Math.round(0.5 * wellLearned));
    const p = k / wellLearned;
    const sd = Math.sqrt(runs * p * (1 - p));
    for (const [, c] of sometimes) expect(Math.abs(c - runs * p)).toBeLessThan(5 * sd);
  });

  it('waits for the coreset: EL2N scoring epochs use the full data unpruned, and annealing returns to the full coreset', () => {
    const numSamples = 200;
    const ib = new InfoBatch({ numSamples, numEpochs: 8, seed: 2, policy: new CoresetInfoBatchPolicy({ coreset: new El2nLossPolicy({ pruneRatio: 0.5, scoreEpochs: 2 }), pruneRatio: 0.5, delta: 0.75 }) });
    const plans = train(ib);
    expect(plans.slice(0, 2).map((p) => [p.indices.length, p.pruning])).toEqual([[200, false], [200, false]]);
    const coreset = sortedIds(plans[6]!.indices);
    expect(coreset).toHaveLength(100);
    for (const epoch of [2, 3, 4, 5]) {
      expect(plans[epoch]!.indices.length).toBeLessThan(100);
      for (const i of plans[epoch]!.indices) expect(coreset).toContain(i);
    }
    // floor(0.75 · 8) = 6: epochs 6 and 7 visit the whole coreset, every weight the coreset's (1).
    for (const epoch of [6, 7]) {
      expect(sortedIds(plans[epoch]!.indices)).toEqual(coreset);
      expect(plans[epoch]!.weights.every((w) => w === 1)).toBe(true);
    }
  });

  it('rebuilds from its JSON config through createPolicy, nested coreset included', () => {
    const config = { name: 'coreset-infobatch', coreset: { name: 'el2n-loss', pruneRatio: 0.3 }, pruneRatio: 0.4 };
    const policy = createPolicy(config) as CoresetInfoBatchPolicy;
    expect(policy.config).toEqual({ name: 'coreset-infobatch', coreset: { name: 'el2n-loss', pruneRatio: 0.3, scoreEpochs: 2, rescale: false, delta: 1 }, pruneRatio: 0.4, delta: 0.875, threshold: 'mean', rescale: true });
  });

  it('rejects a missing or smoothing coreset and bad InfoBatch options', () => {
    expectCode(() => new CoresetInfoBatchPolicy({ coreset: { name: 'el2n-loss' } } as never), 'INVALID_OPTION', /'coreset' passed to new CoresetInfoBatchPolicy\(\) must be a PruningPolicy \(e\.g\. new El2nLossPolicy\(\)\) but got/);
    expect(new CoresetInfoBatchPolicy().config.coreset).toEqual(new El2nLossPolicy().config);
    expectCode(() => new CoresetInfoBatchPolicy({ coreset: new UcbPolicy() }), 'INVALID_OPTION', /is ucb, which smooths scores/);
    expectCode(() => new CoresetInfoBatchPolicy({ coreset: new StaticRandomPolicy(), pruneRatio: 1 }), 'OUT_OF_RANGE', /'pruneRatio'.*\[0, 1\)/);
    expectCode(() => new CoresetInfoBatchPolicy({ coreset: new StaticRandomPolicy(), targetSaving: 0.3 } as never), 'INVALID_OPTION', /Unknown option 'targetSaving'/);
    expectCode(() => createPolicy({ name: 'coreset-infobatch', coreset: 'el2n-loss' }), 'INVALID_OPTION', /'coreset' of policy config "coreset-infobatch" passed to createPolicy\(\) must be a policy config/);
  });
});

describePolicyContract('coreset-infobatch', () => new CoresetInfoBatchPolicy({ coreset: new El2nLossPolicy({ pruneRatio: 0.3, scoreEpochs: 2 }), pruneRatio: 0.5 }), 'coreset-infobatch (el2n-loss coreset)');
describePolicyContract('coreset-infobatch', () => new CoresetInfoBatchPolicy({ coreset: new StaticRandomPolicy({ pruneRatio: 0.3 }), pruneRatio: 0.5 }), 'coreset-infobatch (static-random coreset)');
