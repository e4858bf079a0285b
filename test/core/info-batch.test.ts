import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InfoBatch, InfoBatchError, InfoBatchPolicy } from '../../src/index.js';
import { expectCode, runEpochs, scoreAll, syntheticLoss } from './helpers.js';

function sorted(values: Int32Array): number[] {
  return Array.from(values).sort((a, b) => a - b);
}

describe('InfoBatch plan', () => {
  it('uses the full data with weight 1 in epoch 0, where nothing is scored', () => {
    const ib = new InfoBatch({ numSamples: 100, numEpochs: 10 });
    const plan = ib.beginEpoch(0);
    expect(plan.length).toBe(100);
    expect(sorted(plan.indices)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(Array.from(plan.weights).every((w) => w === 1)).toBe(true);
    expect(plan.pruning).toBe(true);
    expect(plan.stats).toEqual({ kept: 100, pruned: 0, wellLearned: 0, threshold: Number.NaN });
  });

  it('prunes round((1 - r)|D1|) of the samples strictly below the mean and weights them |D1|/k', () => {
    const numSamples = 10;
    const ib = new InfoBatch({ numSamples, numEpochs: 10, pruneRatio: 0.5 });
    // Mean 4.5: samples 0..4 are below it (D1, size 5); keep round(2.5) = 3, weight 5/3.
    scoreAll(ib, Array.from({ length: numSamples }, (_, i) => i));
    const plan = ib.beginEpoch(1);
    expect(plan.stats).toEqual({ kept: 8, pruned: 2, wellLearned: 5, threshold: 4.5 });
    const byIndex = new Map(Array.from(plan.indices, (index, p) => [index, plan.weights[p]!]));
    for (let i = 5; i < 10; i++) expect(byIndex.get(i)).toBe(1);
    const keptWellLearned = [0, 1, 2, 3, 4].filter((i) => byIndex.has(i));
    expect(keptWellLearned).toHaveLength(3);
    for (const i of keptWellLearned) expect(byIndex.get(i)).toBe(Math.fround(5 / 3));
  });

  it('keeps one well-learned sample when round((1 - r)|D1|) would be 0', () => {
    const ib = new InfoBatch({ numSamples: 4, numEpochs: 10, pruneRatio: 0.9 });
    scoreAll(ib, [0, 1, 5, 5]); // mean 2.75: D1 = {0, 1}, round(0.2) = 0 -> keep 1 with weight 2
    const plan = ib.beginEpoch(1);
    expect(plan.length).toBe(3);
    expect(plan.stats.wellLearned).toBe(2);
    expect(Array.from(plan.weights).sort()).toEqual([1, 1, 2]);
  });

  it('always keeps unscored samples with weight 1, and they do not enter the mean', () => {
    const numSamples = 200;
    const ib = new InfoBatch({ numSamples, numEpochs: 10, pruneRatio: 0.7 });
    const scored = Int32Array.from({ length: 100 }, (_, i) => i * 2); // even ids scored
    ib.recordLosses(scored, Array.from(scored, (i) => i / 100));
    const plan = ib.beginEpoch(1);
    const weightOf = new Map(Array.from(plan.indices, (index, p) => [index, plan.weights[p]!]));
    for (let i = 1; i < numSamples; i += 2) expect(weightOf.get(i)).toBe(1);
    const evenMean = scored.reduce((s, i) => s + Math.fround(i / 100), 0) / 100;
    expect(plan.stats.threshold).toBeCloseTo(evenMean, 6);
  });

  it.each([
    [200, 0.875, 175],
    [90, 0.875, 78],
    [10, 1, 10],
    [10, 0, 0],
    [100, 0.57, 57],
  ])('with %i epochs and delta %f prunes in epochs 0..%i-1 and then uses the full data with weight 1', (numEpochs, delta, firstFull) => {
    const numSamples = 64;
    const ib = new InfoBatch({ numSamples, numEpochs, delta });
    scoreAll(ib, Array.from({ length: numSamples }, (_, i) => i % 8));
    for (let epoch = 0; epoch < numEpochs; epoch++) {
      const plan = ib.beginEpoch(epoch);
      if (epoch < firstFull) {
        expect(plan.pruning, `epoch ${epoch}`).toBe(true);
        expect(plan.length, `epoch ${epoch}`).toBeLessThan(numSamples);
      } else {
        expect(plan.pruning, `epoch ${epoch}`).toBe(false);
        expect(plan.length).toBe(numSamples);
        expect(plan.weights.every((w) => w === 1), `epoch ${epoch}`).toBe(true);
      }
    }
  });

  it('gives the same plan for the same epoch asked twice, and for the same seed and scores', () => {
    const make = (seed: number) => {
      const ib = new InfoBatch({ numSamples: 500, numEpochs: 20, seed });
      runEpochs(ib, 0, 3);
      return ib;
    };
    const a = make(7);
    const b = make(7);
    const first = a.beginEpoch(3);
    const again = a.beginEpoch(3);
    expect(again.indices).toEqual(first.indices);
    expect(again.weights).toEqual(first.weights);
    expect(b.beginEpoch(3).indices).toEqual(first.indices);
    expect(make(8).beginEpoch(3).indices).not.toEqual(first.indices);
  });

  it('gives different orders in different epochs (the epoch feeds the generator)', () => {
    const ib = new InfoBatch({ numSamples: 100, numEpochs: 10, delta: 0 });
    expect(ib.beginEpoch(1).indices).not.toEqual(ib.beginEpoch(2).indices);
  });

  it('keeps the seeded order of earlier versions (no-regression)', () => {
    // Plans must be identical on every machine and every version: a changed order breaks resumed
    // and data-parallel runs. Update these values only with a deliberate, documented change.
    const ib = new InfoBatch({ numSamples: 1000, numEpochs: 10, seed: 42 });
    expect(Array.from(ib.beginEpoch(0).indices.subarray(0, 8))).toEqual(REGRESSION_EPOCH0);
    scoreAll(ib, Array.from({ length: 1000 }, (_, i) => syntheticLoss(i, 0)));
    const plan = ib.beginEpoch(1);
    expect([plan.length, ...plan.indices.subarray(0, 8)]).toEqual(REGRESSION_EPOCH1);
  });

  describe('output buffers (into)', () => {
    it('writes the same plan into caller-owned buffers, as views of them', () => {
      const make = (): InfoBatch => new InfoBatch({ numSamples: 500, numEpochs: 6, seed: 3 });
      const a = make();
      const b = make();
      const into = { indices: new Int32Array(600), weights: new Float32Array(600) };
      for (let epoch = 0; epoch < 6; epoch++) {
        const fresh = a.beginEpoch(epoch);
        const reused = b.beginEpoch(epoch, { into });
        expect(reused.indices.buffer).toBe(into.indices.buffer);
        expect(reused.weights.buffer).toBe(into.weights.buffer);
        expect(reused.indices).toEqual(fresh.indices);
        expect(reused.weights).toEqual(fresh.weights);
        expect(reused.stats).toEqual(fresh.stats);
        const losses = Array.from(fresh.indices, (i) => syntheticLoss(i, epoch));
        a.recordLosses(fresh.indices, losses);
        b.recordLosses(reused.indices, losses);
      }
    });

    it('rejects bad buffers with a clear error and plans nothing', () => {
      const ib = new InfoBatch({ numSamples: 100, numEpochs: 4 });
      expectCode(() => ib.beginEpoch(0, { into: { indices: new Float32Array(100), weights: new Float32Array(100) } as never }), 'INVALID_TYPE', /'into' passed to InfoBatch.beginEpoch must be \{ indices: Int32Array, weights: Float32Array \}/);
      expectCode(() => ib.beginEpoch(0, { into: { indices: new Int32Array(99), weights: new Float32Array(100) } }), 'SHAPE_MISMATCH', /at least numSamples \(100\) entries .* got 99 indices and 100 weights/);
      const shared = new ArrayBuffer(800);
      expectCode(() => ib.beginEpoch(0, { into: { indices: new Int32Array(shared, 0, 100), weights: new Float32Array(shared, 200, 100) } }), 'INVALID_OPTION', /share memory/);
      expectCode(() => ib.beginEpoch(0, { intoo: {} } as never), 'INVALID_OPTION', /intoo/);
      expect(ib.summary().epochsPlanned).toBe(0);
      // Disjoint halves of one buffer are fine.
      expect(ib.beginEpoch(0, { into: { indices: new Int32Array(shared, 0, 100), weights: new Float32Array(shared, 400, 100) } }).length).toBe(100);
    });
  });

  describe('never reads global random state', () => {
    afterEach(() => vi.restoreAllMocks());
    it('plans and records with Math.random stubbed to throw', () => {
      vi.spyOn(Math, 'random').mockImplementation(() => {
        throw new Error('Math.random must not be used');
      });
      const ib = new InfoBatch({ numSamples: 40_000, numEpochs: 4 });
      expect(() => runEpochs(ib, 0, 4, 256)).not.toThrow();
      expect(Math.random).not.toHaveBeenCalled();
    });
  });
});

describe('unbiasedness', () => {
  it('the mean over seeds of the weighted sum of a plan equals the full-data sum', () => {
    const seeds = 400;
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: 0, max: 10, noNaN: true, noDefaultInfinity: true }), { minLength: 2, maxLength: 40 }),
        fc.constantFrom(0.3, 0.5, 0.7),
        (rawScores, pruneRatio) => {
          const scores = Float32Array.from(rawScores);
          const n = scores.length;
          const fullSum = scores.reduce((s, v) => s + v, 0);
          let total = 0;
          let d1 = 0;
          let keep = 0;
          let d1Values: number[] = [];
          for (let seed = 0; seed < seeds; seed++) {
            const ib = new InfoBatch({ numSamples: n, numEpochs: 2, pruneRatio, seed, delta: 1 });
            scoreAll(ib, scores);
            const plan = ib.beginEpoch(1);
            let sum = 0;
            for (let p = 0; p < plan.length; p++) sum += plan.weights[p]! * scores[plan.indices[p]!]!;
            total += sum;
            d1 = plan.stats.wellLearned;
            keep = plan.length - (n - d1);
            d1Values = Array.from(scores).filter((v) => v < plan.stats.threshold);
          }
          // Standard error of the mean of a without-replacement total estimator over `seeds`
          // independent plans: Var = |D1|^2 (1 - k/|D1|) S^2 / k, S^2 the D1 sample variance.
          let variance = 0;
          if (d1 > 1 && keep < d1) {
            const mean = d1Values.reduce((s, v) => s + v, 0) / d1;
            const s2 = d1Values.reduce((s, v) => s + (v - mean) ** 2, 0) / (d1 - 1);
            variance = (d1 * d1 * (1 - keep / d1) * s2) / keep;
          }
          const tolerance = 5 * Math.sqrt(variance / seeds) + 1e-6 * (1 + fullSum);
          expect(Math.abs(total / seeds - fullSum)).toBeLessThanOrEqual(tolerance);
        },
      ),
      { numRuns: 40, seed: 1 },
    );
  });

  it('the weights of every pruning plan sum exactly to numSamples (up to float rounding)', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(1000), { minLength: 1, maxLength: 300 }), fc.double({ min: 0, max: 0.95, noNaN: true }), fc.nat(1000), (raw, pruneRatio, seed) => {
        const ib = new InfoBatch({ numSamples: raw.length, numEpochs: 3, pruneRatio, seed });
        scoreAll(ib, raw);
        const plan = ib.beginEpoch(1);
        const sum = plan.weights.reduce((s, w) => s + w, 0);
        expect(sum).toBeCloseTo(raw.length, 2);
        expect(new Set(plan.indices).size).toBe(plan.length); // each sample at most once
      }),
      { numRuns: 100, seed: 2 },
    );
  });
});

describe('resume', () => {
  it('continues bit for bit after save and load', () => {
    const options = { numSamples: 3000, numEpochs: 10, seed: 11 };
    const a = new InfoBatch(options);
    const plansA = runEpochs(a, 0, 10);

    const b = new InfoBatch(options);
    const plansB = runEpochs(b, 0, 4);
    const bytes = b.saveState();
    const resumed = InfoBatch.loadState(bytes);
    plansB.push(...runEpochs(resumed, 4, 6));

    expect(plansB).toEqual(plansA);
    expect(new Uint8Array(resumed.scores.buffer)).toEqual(new Uint8Array(a.scores.buffer));
    expect(resumed.summary()).toEqual(a.summary());
  });

  it('restores into an instance built with the same options, and keeps the policy options', () => {
    const policy = () => new InfoBatchPolicy({ pruneRatio: 0.3, threshold: { quantile: 0.4 } });
    const a = new InfoBatch({ numSamples: 500, numEpochs: 6, policy: policy(), scoreSmoothing: { ema: 0.5 } });
    runEpochs(a, 0, 3);
    const b = new InfoBatch({ numSamples: 500, numEpochs: 6, policy: policy(), scoreSmoothing: { ema: 0.5 } });
    b.restoreState(a.saveState());
    expect(b.beginEpoch(3).indices).toEqual(a.beginEpoch(3).indices);
    expect(InfoBatch.loadState(a.saveState()).policy.config).toEqual(policy().config);
  });
});

describe('score smoothing and thresholds', () => {
  it('keeps the last loss by default and an exponential moving average when asked', () => {
    const last = new InfoBatch({ numSamples: 2, numEpochs: 2 });
    const ema = new InfoBatch({ numSamples: 2, numEpochs: 2, scoreSmoothing: { ema: 0.25 } });
    for (const ib of [last, ema]) {
      ib.recordLosses([0, 1], [4, 8]);
      ib.recordLosses([0], [0]);
    }
    expect(Array.from(last.scores)).toEqual([0, 8]);
    expect(Array.from(ema.scores)).toEqual([3, 8]); // 0.25·0 + 0.75·4
  });

  it('records scores apart from losses: the same plans as recording those values as losses, with smoothing', () => {
    fc.assert(
      fc.property(fc.array(fc.float({ min: 0, max: 100, noNaN: true }), { minLength: 12, maxLength: 12 }), fc.constantFrom<'last' | { ema: number }>('last', { ema: 0.5 }), (values, scoreSmoothing) => {
        const byScores = new InfoBatch({ numSamples: 12, numEpochs: 4, seed: 7, scoreSmoothing });
        const byLosses = new InfoBatch({ numSamples: 12, numEpochs: 4, seed: 7, scoreSmoothing });
        const ids = Int32Array.from({ length: 12 }, (_, i) => i);
        byScores.recordScores(ids, values);
        byLosses.recordLosses(ids, values);
        byScores.recordScores(ids.subarray(0, 6), values.slice(6));
        byLosses.recordLosses(ids.subarray(0, 6), values.slice(6));
        expect(Float32Array.from(byScores.scores)).toEqual(Float32Array.from(byLosses.scores));
        expect(byScores.beginEpoch(1).indices).toEqual(byLosses.beginEpoch(1).indices);
        expect(byScores.summary().lossesRecorded).toBe(18);
      }),
      { numRuns: 50, seed: 11 },
    );
  });

  it('uses the nearest-rank quantile as threshold when asked', () => {
    const ib = new InfoBatch({ numSamples: 10, numEpochs: 4, threshold: { quantile: 0.3 } });
    scoreAll(ib, [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    const plan = ib.beginEpoch(1);
    expect(plan.stats.threshold).toBe(2); // 3rd smallest of 0..9
    expect(plan.stats.wellLearned).toBe(2); // 0 and 1 are strictly below
  });
});

describe('targetSaving and maxPruneRatio as InfoBatch options', () => {
  it('build the same default policy, and the same plans, as an InfoBatchPolicy given them', () => {
    const scores = Array.from({ length: 40 }, (_, i) => (i * 37) % 11);
    const viaOptions = new InfoBatch({ numSamples: 40, numEpochs: 8, seed: 5, targetSaving: 0.3, maxPruneRatio: 0.8 });
    const viaPolicy = new InfoBatch({ numSamples: 40, numEpochs: 8, seed: 5, policy: new InfoBatchPolicy({ targetSaving: 0.3, maxPruneRatio: 0.8 }) });
    expect(viaOptions.policy.config).toEqual(viaPolicy.policy.config);
    for (let epoch = 0; epoch < 8; epoch++) {
      const a = viaOptions.beginEpoch(epoch);
      const b = viaPolicy.beginEpoch(epoch);
      expect(Array.from(a.indices)).toEqual(Array.from(b.indices));
      expect(Array.from(a.weights)).toEqual(Array.from(b.weights));
      viaOptions.recordLosses(a.indices, Float32Array.from(a.indices, (i) => scores[i]!));
      viaPolicy.recordLosses(b.indices, Float32Array.from(b.indices, (i) => scores[i]!));
    }
    expect(viaOptions.summary().savedFraction).toBeGreaterThan(0);
  });
});

describe('bad input', () => {
  function scoredRun(): InfoBatch {
    const ib = new InfoBatch({ numSamples: 10, numEpochs: 5 });
    scoreAll(ib, Array.from({ length: 10 }, (_, i) => i / 10));
    return ib;
  }

  it.each([
    [{ numSamples: 0, numEpochs: 5 }, 'OUT_OF_RANGE', /'numSamples'.*\[1, 2147483647\].*got 0/],
    [{ numSamples: 2.5, numEpochs: 5 }, 'INVALID_TYPE', /'numSamples'.*integer.*got 2.5/],
    [{ numSamples: 10, numEpochs: -1 }, 'OUT_OF_RANGE', /'numEpochs'.*got -1/],
    // 1e8 epochs would keep 400 MB of plan lengths for 10 samples: refused before anything is allocated.
    [{ numSamples: 10, numEpochs: 1e8 }, 'OUT_OF_RANGE', /'numEpochs'.*\[1, 1000000\].*got 100000000/],
    [{ numSamples: 10, numEpochs: 5, pruneRatio: 1 }, 'OUT_OF_RANGE', /'pruneRatio'.*\[0, 1\).*got 1/],
    [{ numSamples: 10, numEpochs: 5, pruneRatio: -0.1 }, 'OUT_OF_RANGE', /'pruneRatio'.*got -0.1/],
    [{ numSamples: 10, numEpochs: 5, pruneRatio: Number.NaN }, 'OUT_OF_RANGE', /'pruneRatio'.*got NaN/],
    [{ numSamples: 10, numEpochs: 5, delta: 1.5 }, 'OUT_OF_RANGE', /'delta'.*\[0, 1\].*got 1.5/],
    [{ numSamples: 10, numEpochs: 5, seed: -1 }, 'OUT_OF_RANGE', /'seed'/],
    [{ numSamples: 10, numEpochs: 5, threshold: { quantile: 2 } }, 'OUT_OF_RANGE', /quantile/],
    [{ numSamples: 10, numEpochs: 5, threshold: 'median' }, 'INVALID_OPTION', /'threshold'.*"median"/],
    [{ numSamples: 10, numEpochs: 5, scoreSmoothing: { ema: 0 } }, 'OUT_OF_RANGE', /ema/],
    [{ numSamples: 10, numEpochs: 5, prunRatio: 0.5 }, 'INVALID_OPTION', /Unknown option 'prunRatio'/],
    [{ numSamples: 10, numEpochs: 5, policy: new InfoBatchPolicy(), pruneRatio: 0.3 }, 'INVALID_OPTION', /'policy' and 'pruneRatio'/],
    [{ numSamples: 10, numEpochs: 5, policy: new InfoBatchPolicy(), targetSaving: 0.3 }, 'INVALID_OPTION', /'policy' and 'targetSaving'/],
    [{ numSamples: 10, numEpochs: 5, pruneRatio: 0.3, targetSaving: 0.3 }, 'INVALID_OPTION', /new InfoBatch\(\) got both 'pruneRatio' and 'targetSaving'/],
    [{ numSamples: 10, numEpochs: 5, targetSaving: 1 }, 'OUT_OF_RANGE', /'targetSaving' passed to new InfoBatch\(\).*got 1/],
    [{ numSamples: 10, numEpochs: 5, maxPruneRatio: 0.5 }, 'INVALID_OPTION', /'maxPruneRatio' passed to new InfoBatch\(\) only applies with 'targetSaving'/],
    [{ numSamples: 10, numEpochs: 2, targetSaving: 0.6 }, 'OUT_OF_RANGE', /'targetSaving' 0.6.*cannot be reached in a run of 2 epochs/],
  ])('rejects options %o', (options, code, message) => {
    expectCode(() => new InfoBatch(options as never), code, message);
  });

  it.each([
    [-1, 'OUT_OF_RANGE'],
    [5, 'OUT_OF_RANGE'],
    [1.5, 'INVALID_TYPE'],
  ])('rejects epoch %f', (epoch, code) => {
    expectCode(() => scoredRun().beginEpoch(epoch), code, /'epoch' passed to InfoBatch.beginEpoch/);
  });

  it.each([
    ['NaN loss', [0, 1], [0.1, Number.NaN], 'NON_FINITE_LOSS', /'losses\[1\]'.*sample 1.*NaN/],
    ['infinite loss', [3], [Number.POSITIVE_INFINITY], 'NON_FINITE_LOSS', /sample 3.*Infinity/],
    ['-Infinity loss', [3], [Number.NEGATIVE_INFINITY], 'NON_FINITE_LOSS', /-Infinity/],
    ['negative loss', [3], [-0.5], 'OUT_OF_RANGE', /below 0.*allowNegativeLosses/],
    ['length mismatch', [0, 1, 2], [0.1, 0.2], 'SHAPE_MISMATCH', /got 2 losses for 3 indices/],
    ['a reduced loss', [0, 1, 2], [0.1], 'SCALAR_LOSS', /already reduced.*Reduction.NONE/],
    ['a scalar loss', [0, 1], 0.3, 'SCALAR_LOSS', /single number/],
    ['index out of range', [0, 10], [0.1, 0.2], 'OUT_OF_RANGE', /'indices\[1\]'.*\[0, 9\].*got 10/],
    ['negative index', [-1], [0.1], 'OUT_OF_RANGE', /got -1/],
    ['fractional index', [0.5], [0.1], 'OUT_OF_RANGE', /got 0.5/],
    ['non-array losses', [0], 'abc', 'INVALID_TYPE', /'losses'/],
  ])('rejects %s in recordLosses and leaves state unchanged', (_name, indices, losses, code, message) => {
    const ib = scoredRun();
    const scoresBefore = Float32Array.from(ib.scores);
    const summaryBefore = ib.summary();
    // Valid values come first, so a partial write would show.
    expectCode(() => ib.recordLosses(indices as never, losses as never), code, message);
    expect(Float32Array.from(ib.scores)).toEqual(scoresBefore);
    expect(ib.summary()).toEqual(summaryBefore);
  });

  it.each([
    ['NaN score', [0, 1], [0.1, Number.NaN], 'NON_FINITE_LOSS', /'scores\[1\]' passed to InfoBatch.recordScores \(sample 1\) is NaN; scores must be finite/],
    ['negative score', [3], [-0.5], 'OUT_OF_RANGE', /'scores\[0\]' passed to InfoBatch.recordScores.*below 0.*allowNegativeLosses/],
    ['length mismatch', [0, 1, 2], [0.1, 0.2], 'SHAPE_MISMATCH', /'scores' passed to InfoBatch.recordScores.*got 2 scores for 3 indices/],
    ['a reduced score', [0, 1, 2], [0.1], 'SCALAR_LOSS', /already reduced score/],
    ['index out of range', [0, 10], [0.1, 0.2], 'OUT_OF_RANGE', /'indices\[1\]' passed to InfoBatch.recordScores.*got 10/],
    ['non-array scores', [0], 'abc', 'INVALID_TYPE', /'scores' passed to InfoBatch.recordScores/],
  ])('rejects %s in recordScores and leaves state unchanged', (_name, indices, scores, code, message) => {
    const ib = scoredRun();
    const scoresBefore = Float32Array.from(ib.scores);
    const summaryBefore = ib.summary();
    expectCode(() => ib.recordScores(indices as never, scores as never), code, message);
    expect(Float32Array.from(ib.scores)).toEqual(scoresBefore);
    expect(ib.summary()).toEqual(summaryBefore);
  });

  it('accepts negative losses when allowed', () => {
    const ib = new InfoBatch({ numSamples: 2, numEpochs: 2, allowNegativeLosses: true });
    ib.recordLosses([0, 1], [-1, 2]);
    expect(Array.from(ib.scores)).toEqual([-1, 2]);
  });

  describe('checkpoints', () => {
    it('rejects truncated bytes', () => {
      const bytes = scoredRun().saveState();
      expectCode(() => InfoBatch.loadState(bytes.subarray(0, bytes.length - 9)), 'CORRUPT_CHECKPOINT', /checksum|truncated/);
      expectCode(() => InfoBatch.loadState(bytes.subarray(0, 10)), 'CORRUPT_CHECKPOINT', /shorter than/);
    });

    it('rejects any flipped byte (checksum)', () => {
      const bytes = scoredRun().saveState();
      fc.assert(
        fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 }), (position, xor) => {
          const corrupted = bytes.slice();
          corrupted[position]! ^= xor;
          expect(() => InfoBatch.loadState(corrupted)).toThrow(InfoBatchError);
        }),
        { numRuns: 200, seed: 3 },
      );
    });

    it('rejects bytes that are not a checkpoint', () => {
      expectCode(() => InfoBatch.loadState(new Uint8Array(64)), 'CORRUPT_CHECKPOINT', /magic/);
      expectCode(() => InfoBatch.loadState('abc' as never), 'INVALID_TYPE', /Uint8Array/);
    });

    it('rejects a checkpoint of a run with different options, leaving state unchanged', () => {
      const bytes = scoredRun().saveState();
      const other = new InfoBatch({ numSamples: 11, numEpochs: 5 });
      expectCode(() => other.restoreState(bytes), 'CHECKPOINT_MISMATCH', /numSamples 10 .* this run has 11/);
      expect(Array.from(other.scores).every(Number.isNaN)).toBe(true);
      expectCode(() => InfoBatch.loadState(bytes, { numSamples: 11 }), 'CHECKPOINT_MISMATCH', /numSamples 10 but 11/);
      const otherSeed = new InfoBatch({ numSamples: 10, numEpochs: 5, seed: 3 });
      expectCode(() => otherSeed.restoreState(bytes), 'CHECKPOINT_MISMATCH', /seed 0 .* 3/);
      const otherPolicy = new InfoBatch({ numSamples: 10, numEpochs: 5, pruneRatio: 0.3 });
      expectCode(() => otherPolicy.restoreState(bytes), 'CHECKPOINT_MISMATCH', /policy/);
    });
  });
});

const REGRESSION_EPOCH0 = [470,875,495,913,324,663,215,987];
const REGRESSION_EPOCH1 = [706,146,79,605,368,838,969,923,727];
