import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EpsilonGreedyPolicy, InfoBatch } from '../../src/index.js';
import { describePolicyContract, expectCode, scoredRun, sortedIds, weightById } from './contract.js';

/** Ids of the `count` highest scores, ties to the lower id. */
function topIds(scores: ArrayLike<number>, ids: number[], count: number): number[] {
  return [...ids].sort((a, b) => scores[b]! - scores[a]! || a - b).slice(0, count).sort((a, b) => a - b);
}

describe('EpsilonGreedyPolicy', () => {
  it('keeps the (1 - ε) share of the budget with the highest scores and draws the ε share at random from the rest', () => {
    // 20 scored samples, r = 0.5: budget 10, round(0.2 · 10) = 2 random, 8 greedy (ids 12..19).
    const ib = scoredRun(new EpsilonGreedyPolicy({ epsilon: 0.2 }), Array.from({ length: 20 }, (_, i) => i));
    const drawn = new Set<number>();
    for (let epoch = 1; epoch < 10; epoch++) {
      const plan = ib.beginEpoch(epoch);
      expect(plan.pruning).toBe(true);
      expect(plan.length).toBe(10);
      expect(plan.weights.every((w) => w === 1)).toBe(true);
      const ids = sortedIds(plan.indices);
      expect(ids.slice(2)).toEqual([12, 13, 14, 15, 16, 17, 18, 19]);
      expect(ids[0]).toBeLessThan(12);
      expect(ids[1]).toBeLessThan(12);
      drawn.add(ids[0]!).add(ids[1]!);
      expect(plan.stats.threshold).toBe(12);
      expect(plan.stats.wellLearned).toBe(20);
    }
    expect(drawn.size).toBeGreaterThan(4); // the random share changes between epochs
  });

  it('with rescale, weights the random picks R/m (m drawn of the R non-greedy samples)', () => {
    const ib = scoredRun(new EpsilonGreedyPolicy({ epsilon: 0.2, rescale: true }), Array.from({ length: 20 }, (_, i) => i));
    const weights = weightById(ib.beginEpoch(1));
    for (const [id, weight] of weights) expect(weight).toBe(id >= 12 ? 1 : 6); // R = 12, m = 2
  });

  it('is plain greedy with ε = 0 (ties to the lower index) and plain random with ε = 1', () => {
    const greedy = scoredRun(new EpsilonGreedyPolicy({ epsilon: 0, pruneRatio: 0.6 }), [1, 5, 5, 5, 0, 5, 2, 3, 9, 4]);
    expect(sortedIds(greedy.beginEpoch(1).indices)).toEqual([1, 2, 3, 8]); // budget 4: the 9 (id 8), then three of the four 5s (ids 1, 2, 3; not 5)
    const ties = scoredRun(new EpsilonGreedyPolicy({ epsilon: 0 }), new Array(10).fill(1));
    expect(sortedIds(ties.beginEpoch(1).indices)).toEqual([0, 1, 2, 3, 4]);
    const random = scoredRun(new EpsilonGreedyPolicy({ epsilon: 1 }), Array.from({ length: 100 }, (_, i) => i));
    const plan = random.beginEpoch(1);
    expect(plan.length).toBe(50);
    expect(plan.stats.threshold).toBeNaN();
    expect(sortedIds(plan.indices).filter((id) => id < 50).length).toBeGreaterThan(10);
  });

  it('always keeps unscored samples, on top of the budget of the scored ones', () => {
    const ib = new InfoBatch({ numSamples: 30, numEpochs: 4, policy: new EpsilonGreedyPolicy({ epsilon: 0 }) });
    const first = ib.beginEpoch(0);
    expect(first.length).toBe(30); // nothing scored yet
    expect(first.pruning).toBe(true);
    const scored = Int32Array.from({ length: 10 }, (_, i) => i * 3);
    ib.recordLosses(scored, Array.from(scored, (i) => i));
    const plan = ib.beginEpoch(1);
    expect(plan.length).toBe(20 + 5);
    expect(sortedIds(plan.indices).filter((i) => i % 3 === 0)).toEqual([15, 18, 21, 24, 27]);
  });

  it('scores are a moving average of the loss with weight emaAlpha on the newest', () => {
    const ib = new InfoBatch({ numSamples: 2, numEpochs: 2, policy: new EpsilonGreedyPolicy({ emaAlpha: 0.25 }) });
    expect(ib.scoreSmoothing).toEqual({ ema: 0.25 });
    ib.recordLosses([0, 1], [4, 8]);
    ib.recordLosses([0], [0]);
    expect(Array.from(ib.scores)).toEqual([3, 8]);
    expect(new EpsilonGreedyPolicy().scoreSmoothing).toEqual({ ema: 0.2 });
  });

  it('prunes until the end by default, and anneals from floor(delta · numEpochs) when asked', () => {
    const losses = Array.from({ length: 40 }, (_, i) => i);
    const always = scoredRun(new EpsilonGreedyPolicy(), losses, 8);
    expect(always.beginEpoch(7).pruning).toBe(true);
    const annealed = scoredRun(new EpsilonGreedyPolicy({ delta: 0.5 }), losses, 8);
    expect(annealed.beginEpoch(3).length).toBe(20);
    const full = annealed.beginEpoch(4);
    expect(full.pruning).toBe(false);
    expect(full.length).toBe(40);
    expect(full.weights.every((w) => w === 1)).toBe(true);
  });

  it('keeps exactly the budget, every unscored sample, and the top greedy share', () => {
    fc.assert(
      fc.property(
        fc.array(fc.option(fc.integer({ min: 0, max: 20 }), { freq: 4 }), { minLength: 1, maxLength: 80 }),
        fc.double({ min: 0, max: 0.95, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.nat(100),
        (raw, pruneRatio, epsilon, seed) => {
          const n = raw.length;
          const ib = new InfoBatch({ numSamples: n, numEpochs: 3, seed, policy: new EpsilonGreedyPolicy({ pruneRatio, epsilon }) });
          const scoredIds = raw.flatMap((v, i) => (v === null ? [] : [i]));
          ib.recordLosses(scoredIds, scoredIds.map((i) => raw[i]!));
          const plan = ib.beginEpoch(1);
          const ids = new Set(plan.indices);
          expect(ids.size).toBe(plan.length);
          const unscored = raw.flatMap((v, i) => (v === null ? [i] : []));
          for (const i of unscored) expect(ids.has(i)).toBe(true);
          if (scoredIds.length === 0) return;
          let keep = Math.round((1 - pruneRatio) * scoredIds.length);
          if (keep === 0) keep = 1;
          expect(plan.length - unscored.length).toBe(keep);
          const greedy = keep - Math.round(epsilon * keep);
          for (const i of topIds(ib.scores, scoredIds, greedy)) expect(ids.has(i)).toBe(true);
        },
      ),
      { numRuns: 200, seed: 11 },
    );
  });

  it('with rescale, the mean over seeds of the weighted sum of a plan equals the full-data sum', () => {
    const seeds = 300;
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: 0, max: 10, noNaN: true, noDefaultInfinity: true }), { minLength: 4, maxLength: 40 }),
        fc.constantFrom(0.3, 0.5),
        fc.constantFrom(0.3, 0.6),
        (raw, pruneRatio, epsilon) => {
          const values = Float32Array.from(raw);
          const n = values.length;
          const fullSum = values.reduce((s, v) => s + v, 0);
          let total = 0;
          let rest: number[] = [];
          let drawn = 0;
          for (let seed = 0; seed < seeds; seed++) {
            const ib = scoredRun(new EpsilonGreedyPolicy({ pruneRatio, epsilon, rescale: true }), values, 3, seed);
            const plan = ib.beginEpoch(1);
            for (let p = 0; p < plan.length; p++) total += plan.weights[p]! * values[plan.indices[p]!]!;
            const keep = plan.length;
            drawn = Math.round(epsilon * keep);
            const greedy = new Set(topIds(values, Array.from({ length: n }, (_, i) => i), keep - drawn));
            rest = Array.from(values).filter((_, i) => !greedy.has(i));
          }
          // Only the random share varies: R^2 (1 - m/R) S^2 / m over the R non-greedy samples.
          let variance = 0;
          const r = rest.length;
          if (drawn > 0 && drawn < r) {
            const mean = rest.reduce((s, v) => s + v, 0) / r;
            const s2 = rest.reduce((s, v) => s + (v - mean) ** 2, 0) / (r - 1);
            variance = (r * r * (1 - drawn / r) * s2) / drawn;
          }
          const tolerance = 5 * Math.sqrt(variance / seeds) + 1e-5 * (1 + fullSum);
          expect(Math.abs(total / seeds - fullSum)).toBeLessThanOrEqual(tolerance);
        },
      ),
      { numRuns: 25, seed: 12 },
    );
  });

  it('has a config with every option', () => {
    expect(new EpsilonGreedyPolicy().config).toEqual({ name: 'epsilon-greedy', pruneRatio: 0.5, epsilon: 0.1, emaAlpha: 0.2, delta: 1, rescale: false });
  });

  it.each([
    [{ epsilon: 1.1 }, 'OUT_OF_RANGE', /'epsilon' passed to new EpsilonGreedyPolicy\(\) must be in \[0, 1\] but got 1.1/],
    [{ emaAlpha: 0 }, 'OUT_OF_RANGE', /'emaAlpha'.*\(0, 1\].*got 0/],
    [{ pruneRatio: -1 }, 'OUT_OF_RANGE', /'pruneRatio'.*got -1/],
    [{ delta: Number.POSITIVE_INFINITY }, 'OUT_OF_RANGE', /'delta'.*finite.*Infinity/],
    [{ rescale: null }, 'INVALID_TYPE', /'rescale'.*boolean.*null/],
    [{ eps: 0.1 }, 'INVALID_OPTION', /Unknown option 'eps'/],
  ])('rejects options %o', (options, code, message) => {
    expectCode(() => new EpsilonGreedyPolicy(options as never), code, message);
  });
});

describePolicyContract('epsilon-greedy', () => new EpsilonGreedyPolicy({ pruneRatio: 0.4, epsilon: 0.3, rescale: true }));
