import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InfoBatch, UcbPolicy } from '../../src/index.js';
import { runEpochs } from '../core/helpers.js';
import { describePolicyContract, expectCode, scoredRun, sortedIds } from './contract.js';

/** The variance table inside a UcbPolicy's saved state. */
function varianceOf(policy: UcbPolicy): number[] {
  return Array.from(new Float32Array(policy.saveState().slice(8).buffer));
}

describe('UcbPolicy', () => {
  it('keeps a moving variance of each loss: var = (1 - a)(var + a (loss - mean)^2), 0 at the first loss', () => {
    const policy = new UcbPolicy({ emaAlpha: 0.5 });
    const ib = new InfoBatch({ numSamples: 2, numEpochs: 2, policy });
    ib.recordLosses([0], [4]);
    expect(varianceOf(policy)).toEqual([0, 0]);
    ib.recordLosses([0, 1], [8, 3]);
    expect(varianceOf(policy)).toEqual([4, 0]); // 0.5 · (0 + 0.5 · 4²)
    expect(Array.from(ib.scores)).toEqual([6, 3]);
    ib.recordLosses([0], [6]);
    expect(varianceOf(policy)).toEqual([2, 0]);
  });

  it('keeps the highest mean + c·sqrt(variance): an uncertain sample can beat a harder one', () => {
    // Sample 0: losses 0 then 2 -> mean 1, variance 1. Sample 1: 2.5 twice -> mean 2.5, variance 0.
    const run = (c: number): number[] => {
      const ib = new InfoBatch({ numSamples: 2, numEpochs: 3, policy: new UcbPolicy({ emaAlpha: 0.5, c }) });
      ib.recordLosses([0, 1], [0, 2.5]);
      ib.recordLosses([0, 1], [2, 2.5]);
      const plan = ib.beginEpoch(1);
      expect(plan.weights.every((w) => w === 1)).toBe(true);
      return Array.from(plan.indices);
    };
    expect(run(0)).toEqual([1]);
    expect(run(1)).toEqual([1]); // 1 + 1 < 2.5
    expect(run(2)).toEqual([0]); // 1 + 2 > 2.5
  });

  it('keeps round((1 - r)·S) of the S scored samples, the top ones, and breaks ties by the lower index', () => {
    const ib = scoredRun(new UcbPolicy({ pruneRatio: 0.7 }), Array.from({ length: 100 }, (_, i) => i % 10));
    const plan = ib.beginEpoch(1);
    expect(plan.length).toBe(30);
    expect(sortedIds(plan.indices)).toEqual(Array.from({ length: 30 }, (_, j) => (j < 10 ? 9 + 10 * j : j < 20 ? 8 + 10 * (j - 10) : 7 + 10 * (j - 20))).sort((a, b) => a - b));
    expect(plan.stats.threshold).toBe(7);
    expect(plan.stats.wellLearned).toBe(100);
  });

  it('always keeps unscored samples and keeps exactly the budget of the scored ones', () => {
    fc.assert(
      fc.property(
        fc.array(fc.option(fc.tuple(fc.float({ min: 0, max: 5, noNaN: true }), fc.float({ min: 0, max: 5, noNaN: true })), { freq: 3 }), { minLength: 1, maxLength: 60 }),
        fc.double({ min: 0, max: 0.95, noNaN: true }),
        fc.constantFrom(0, 0.5, 1, 3),
        (raw, pruneRatio, c) => {
          const ib = new InfoBatch({ numSamples: raw.length, numEpochs: 2, policy: new UcbPolicy({ pruneRatio, c }) });
          const scored = raw.flatMap((v, i) => (v === null ? [] : [i]));
          ib.recordLosses(scored, scored.map((i) => raw[i]![0]));
          ib.recordLosses(scored, scored.map((i) => raw[i]![1]));
          const plan = ib.beginEpoch(1);
          const ids = new Set(plan.indices);
          expect(ids.size).toBe(plan.length);
          raw.forEach((v, i) => {
            if (v === null) expect(ids.has(i)).toBe(true);
          });
          if (scored.length === 0) return;
          let keep = Math.round((1 - pruneRatio) * scored.length);
          if (keep === 0) keep = 1;
          expect(plan.length - (raw.length - scored.length)).toBe(keep);
        },
      ),
      { numRuns: 200, seed: 21 },
    );
  });

  it('uses the full data with weight 1 while nothing is scored, and from floor(delta · numEpochs) on', () => {
    const ib = new InfoBatch({ numSamples: 20, numEpochs: 4, policy: new UcbPolicy({ delta: 0.5 }) });
    expect(ib.beginEpoch(0).length).toBe(20);
    ib.recordLosses(Array.from({ length: 20 }, (_, i) => i), Array.from({ length: 20 }, (_, i) => i));
    expect(ib.beginEpoch(1).length).toBe(10);
    const full = ib.beginEpoch(2);
    expect(full.pruning).toBe(false);
    expect(full.length).toBe(20);
    expect(new UcbPolicy().scoreSmoothing).toEqual({ ema: 0.2 });
  });

  describe('state', () => {
    function trained(): { ib: InfoBatch; policy: UcbPolicy } {
      const policy = new UcbPolicy();
      const ib = new InfoBatch({ numSamples: 300, numEpochs: 6, policy });
      runEpochs(ib, 0, 3);
      return { ib, policy };
    }

    it('saves and loads the variance table', () => {
      const { policy } = trained();
      const other = new UcbPolicy();
      new InfoBatch({ numSamples: 300, numEpochs: 6, policy: other });
      other.loadState(policy.saveState());
      expect(other.saveState()).toEqual(policy.saveState());
      expect(varianceOf(policy).some((v) => v > 0)).toBe(true);
    });

    it('rejects bad bytes and leaves its state unchanged', () => {
      const { ib, policy } = trained();
      const before = policy.saveState();
      const planBefore = ib.beginEpoch(3);
      const withVersion = before.slice();
      withVersion[0] = 2;
      const withNegative = before.slice();
      new DataView(withNegative.buffer).setFloat32(8 + 4 * 7, -1, true);
      const withNaN = before.slice();
      new DataView(withNaN.buffer).setFloat32(8, Number.NaN, true);
      const small = new UcbPolicy();
      new InfoBatch({ numSamples: 10, numEpochs: 2, policy: small });
      expectCode(() => policy.loadState(before.subarray(0, 5)), 'CORRUPT_CHECKPOINT', /5 bytes long, shorter than its 8-byte header/);
      expectCode(() => policy.loadState(before.subarray(0, before.length - 4)), 'CORRUPT_CHECKPOINT', /1204 bytes long but 300 samples need 1208/);
      expectCode(() => policy.loadState(withVersion), 'CORRUPT_CHECKPOINT', /version 2.*reads version 1/);
      expectCode(() => policy.loadState(withNegative), 'CORRUPT_CHECKPOINT', /variance -1 for sample 7/);
      expectCode(() => policy.loadState(withNaN), 'CORRUPT_CHECKPOINT', /variance NaN for sample 0/);
      expectCode(() => policy.loadState(small.saveState()), 'CHECKPOINT_MISMATCH', /for 10 samples but this run has 300/);
      expectCode(() => policy.loadState('abc' as never), 'INVALID_TYPE', /Uint8Array/);
      expectCode(() => new UcbPolicy().loadState(before), 'INVALID_STATE', /before the policy was attached/);
      expect(policy.saveState()).toEqual(before);
      expect(ib.beginEpoch(3).indices).toEqual(planBefore.indices);
    });

    it('is part of the engine checkpoint: a run resumed without it would plan differently', () => {
      const { ib } = trained();
      const resumed = InfoBatch.loadState(ib.saveState());
      expect(resumed.beginEpoch(3).indices).toEqual(ib.beginEpoch(3).indices);
      const withoutVariance = new InfoBatch({ numSamples: 300, numEpochs: 6, policy: new UcbPolicy() });
      withoutVariance.recordLosses(Array.from({ length: 300 }, (_, i) => i), ib.scores);
      expect(sortedIds(withoutVariance.beginEpoch(3).indices)).not.toEqual(sortedIds(ib.beginEpoch(3).indices));
    });
  });

  it('has a config with every option', () => {
    expect(new UcbPolicy().config).toEqual({ name: 'ucb', pruneRatio: 0.5, c: 1, emaAlpha: 0.2, delta: 1 });
  });

  it.each([
    [{ c: -1 }, 'OUT_OF_RANGE', /'c' passed to new UcbPolicy\(\) must be in \[0, Infinity\) but got -1/],
    [{ c: Number.POSITIVE_INFINITY }, 'OUT_OF_RANGE', /'c'.*finite.*Infinity/],
    [{ emaAlpha: 1.5 }, 'OUT_OF_RANGE', /'emaAlpha'.*got 1.5/],
    [{ pruneRatio: 1 }, 'OUT_OF_RANGE', /'pruneRatio'.*\[0, 1\).*got 1/],
    [{ epsilon: 0.1 }, 'INVALID_OPTION', /Unknown option 'epsilon' passed to new UcbPolicy\(\); expected one of: pruneRatio, c, emaAlpha, delta/],
  ])('rejects options %o', (options, code, message) => {
    expectCode(() => new UcbPolicy(options as never), code, message);
  });
});

describePolicyContract('ucb', () => new UcbPolicy({ pruneRatio: 0.4, c: 0.5 }));
