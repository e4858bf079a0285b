import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InfoBatch, InfoBatchError, NoiseConditionedScore, SeededRandom } from '../../src/index.js';
import { scorePersistence } from '../../src/experiments/score-persistence.js';
import { expectCode } from './helpers.js';

const losses = fc.array(fc.double({ min: 0, max: 1e3, noNaN: true }), { minLength: 1, maxLength: 40 });

describe('NoiseConditionedScore: buckets', () => {
  it('puts integer timesteps one per bucket by default, and cuts a range into equal buckets', () => {
    const steps = new NoiseConditionedScore({ buckets: 200 });
    expect([steps.bucketOf(0), steps.bucketOf(17), steps.bucketOf(199), steps.bucketOf(200)]).toEqual([0, 17, 199, 199]);
    const ratios = new NoiseConditionedScore({ buckets: 4, range: [0, 1] });
    expect(Array.from(ratios.bucketsOf([0, 0.2499, 0.25, 0.75, 1]))).toEqual([0, 0, 1, 3, 3]);
    const coarse = new NoiseConditionedScore({ buckets: 20, range: [0, 200] });
    expect(Array.from(coarse.bucketsOf(Int32Array.of(0, 9, 10, 199)))).toEqual([0, 0, 1, 19]);
  });

  it('writes into a given buffer, and leaves it as it was when a level is bad', () => {
    const ncs = new NoiseConditionedScore({ buckets: 10 });
    const out = new Int32Array(4).fill(-1);
    expect(ncs.bucketsOf([1, 2], out)).toBe(out);
    expect(Array.from(out)).toEqual([1, 2, -1, -1]);
    expectCode(() => ncs.bucketsOf([3, 11], out), 'OUT_OF_RANGE', /'levels\[1\]' passed to NoiseConditionedScore.bucketsOf must be a noise level in \[0, 10\].*got 11/);
    expect(Array.from(out)).toEqual([1, 2, -1, -1]);
  });
});

describe('NoiseConditionedScore: scores', () => {
  it('divides each loss by its bucket\'s running mean (the batch included)', () => {
    const ncs = new NoiseConditionedScore({ buckets: 2 });
    // Bucket 0 sees 2 and 4 (mean 3), bucket 1 sees 10 (mean 10).
    expect(Array.from(ncs.score([2, 4, 10], [0, 0, 1]))).toEqual([Math.fround(2 / 3), Math.fround(4 / 3), 1]);
    expect(ncs.expected(0)).toBe(3);
    expect(ncs.expected(1)).toBe(10);
    expect(Array.from(ncs.normalise([6, 5], [0, 1]))).toEqual([2, 0.5]);
    expect(ncs.expected(0)).toBe(3); // normalise changes nothing
    expect(Array.from(ncs.seen())).toEqual([2, 1]);
  });

  it('follows the plain mean of the first window losses, then an exponential average of weight 1/window', () => {
    const ncs = new NoiseConditionedScore({ buckets: 1, window: 4 });
    ncs.update([1, 2, 3, 4], [0, 0, 0, 0]);
    expect(ncs.expected(0)).toBe(2.5);
    ncs.update([6.5], [0]);
    expect(ncs.expected(0)).toBe(2.5 + (6.5 - 2.5) / 4);
    expect(Array.from(ncs.seen())).toEqual([4]);
  });

  it('scores 1 where a bucket has seen only zero losses', () => {
    const ncs = new NoiseConditionedScore({ buckets: 1 });
    expect(Array.from(ncs.score([0, 0], [0, 0]))).toEqual([1, 1]);
  });

  it('is invariant to scaling a bucket\'s losses, and keeps their order within a bucket', () => {
    fc.assert(
      fc.property(losses, fc.double({ min: 1e-3, max: 1e3, noNaN: true }), (values, factor) => {
        fc.pre(values.some((v) => v > 0));
        const a = new NoiseConditionedScore({ buckets: 1, window: 8 });
        const b = new NoiseConditionedScore({ buckets: 1, window: 8 });
        const zeros = values.map(() => 0);
        const sa = a.score(values, zeros);
        const sb = b.score(values.map((v) => v * factor), zeros);
        for (let j = 0; j < values.length; j++) expect(sb[j]).toBeCloseTo(sa[j]!, 4);
        const after = a.normalise(values, zeros);
        for (let j = 0; j < values.length; j++) {
          for (let k = 0; k < values.length; k++) if (values[j]! < values[k]!) expect(after[j]).toBeLessThanOrEqual(after[k]!);
        }
      }),
      { numRuns: 100, seed: 5 },
    );
  });

  it('makes the scores of a bucket average 1 once it has seen them all (window not reached)', () => {
    fc.assert(
      fc.property(losses, (values) => {
        fc.pre(values.some((v) => v > 1e-9));
        const ncs = new NoiseConditionedScore({ buckets: 1, window: 1000 });
        const zeros = values.map(() => 0);
        ncs.update(values, zeros);
        const scores = ncs.normalise(values, zeros);
        expect(scores.reduce((s, v) => s + v, 0) / scores.length).toBeCloseTo(1, 4);
      }),
      { numRuns: 100, seed: 6 },
    );
  });

  it('gives the same scores after saveState / loadState as without the interruption, bit for bit', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.double({ min: 0, max: 50, noNaN: true }), fc.nat(9)), { minLength: 2, maxLength: 80 }), fc.nat(), (pairs, cutAt) => {
        const cut = cutAt % pairs.length;
        const all = new NoiseConditionedScore({ buckets: 10, window: 5 });
        const first = new NoiseConditionedScore({ buckets: 10, window: 5 });
        const l = pairs.map((p) => p[0]);
        const b = pairs.map((p) => p[1]);
        const whole = [...all.score(l.slice(0, cut), b.slice(0, cut)), ...all.score(l.slice(cut), b.slice(cut))];
        first.score(l.slice(0, cut), b.slice(0, cut));
        const bytes = first.saveState();
        const resumed = NoiseConditionedScore.loadState(bytes);
        const restored = new NoiseConditionedScore({ buckets: 10, window: 5 });
        restored.restoreState(bytes);
        const tail = whole.slice(cut);
        expect(Array.from(resumed.score(l.slice(cut), b.slice(cut)))).toEqual(tail);
        expect(Array.from(restored.score(l.slice(cut), b.slice(cut)))).toEqual(tail);
      }),
      { numRuns: 100, seed: 7 },
    );
  });
});

describe('NoiseConditionedScore: persistence of a noise-conditioned loss', () => {
  /**
   * A diffusion-like loss: per-sample difficulty d_i times f(t) of a timestep drawn anew at every
   * visit (f spans two orders of magnitude, as the noise-prediction error does over a DDPM
   * schedule), with multiplicative noise of the draw.
   */
  function simulate(numSamples: number, epochs: number): { raw: Float32Array[]; scored: Float32Array[] } {
    const random = SeededRandom.derive(42, 1);
    const difficulty = Float64Array.from({ length: numSamples }, () => Math.exp(0.4 * random.nextGaussian()));
    const f = (t: number) => 0.01 + Math.exp(-t / 25);
    const ncs = new NoiseConditionedScore({ buckets: 20, range: [0, 200] });
    const raw: Float32Array[] = [];
    const scored: Float32Array[] = [];
    for (let epoch = 0; epoch < epochs; epoch++) {
      const order = random.permutation(numSamples);
      const rawScores = new Float32Array(numSamples);
      const normalised = new Float32Array(numSamples);
      for (let start = 0; start < numSamples; start += 64) {
        const ids = order.subarray(start, start + 64);
        const t = Int32Array.from(ids, () => random.nextInt(200));
        const loss = Float64Array.from(ids, (id, j) => difficulty[id]! * f(t[j]!) * Math.exp(0.25 * random.nextGaussian()));
        const s = ncs.score(loss, ncs.bucketsOf(t));
        ids.forEach((id, j) => {
          rawScores[id] = loss[j]!;
          normalised[id] = s[j]!;
        });
      }
      raw.push(rawScores);
      scored.push(normalised);
    }
    return { raw, scored };
  }

  it('lifts the rank correlation between epochs from about 0 (raw loss) to clearly positive', () => {
    const numSamples = 4000;
    const { raw, scored } = simulate(numSamples, 3);
    const all = Int32Array.from({ length: numSamples }, (_, i) => i);
    const rawPersistence = scorePersistence(raw[1]!, raw[2]!, all)!;
    const newPersistence = scorePersistence(scored[1]!, scored[2]!, all)!;
    expect(Math.abs(rawPersistence.rankCorrelation)).toBeLessThan(0.1);
    expect(Math.abs(rawPersistence.stayedBelowMean - rawPersistence.belowMeanAfter)).toBeLessThan(0.05);
    expect(newPersistence.rankCorrelation).toBeGreaterThan(0.5);
    expect(newPersistence.stayedBelowMean - newPersistence.belowMeanAfter).toBeGreaterThan(0.15);
  });

  it('feeds InfoBatch.recordScores: plans then skip the easy samples, not random ones', () => {
    const numSamples = 2000;
    const { scored, raw } = simulate(numSamples, 2);
    const all = Int32Array.from({ length: numSamples }, (_, i) => i);
    const plans = [raw, scored].map((values) => {
      const ib = new InfoBatch({ numSamples, numEpochs: 10, seed: 3 });
      ib.recordScores(all, values[1]!);
      return ib.beginEpoch(1);
    });
    // The true difficulty is the normalised score averaged over many visits; compare the skipped sets' difficulty by the epoch-0 score.
    const meanSkipped = (plan: (typeof plans)[number]) => {
      const kept = new Set(plan.indices);
      let sum = 0;
      let n = 0;
      for (let i = 0; i < numSamples; i++) if (!kept.has(i)) (sum += scored[0]![i]!, n++);
      return sum / n;
    };
    // Skipped by the raw loss: about average difficulty (1); by the new score: clearly easier.
    expect(Math.abs(meanSkipped(plans[0]!) - 1)).toBeLessThan(0.1);
    expect(meanSkipped(plans[1]!)).toBeLessThan(0.85);
  });
});

describe('NoiseConditionedScore: bad input', () => {
  it.each([
    [{ buckets: 0 }, 'OUT_OF_RANGE', /'buckets' passed to new NoiseConditionedScore\(\) must be in \[1, 1048576\] but got 0/],
    [{ buckets: 2.5 }, 'INVALID_TYPE', /'buckets'.*integer.*2.5/],
    [{ buckets: 4, range: [1, 1] }, 'INVALID_OPTION', /'range'.*low < high.*\[1,1\]/],
    [{ buckets: 4, range: [0] }, 'INVALID_OPTION', /'range'/],
    [{ buckets: 4, window: 0 }, 'OUT_OF_RANGE', /'window'.*got 0/],
    [{ buckets: 4, windows: 3 }, 'INVALID_OPTION', /Unknown option 'windows'/],
    [undefined, 'INVALID_TYPE', /'options' passed to new NoiseConditionedScore\(\)/],
  ])('rejects options %o', (options, code, message) => {
    expectCode(() => new NoiseConditionedScore(options as never), code, message);
  });

  it.each([
    ['a NaN loss', [1, Number.NaN], [0, 1], 'NON_FINITE_LOSS', /'losses\[1\]' passed to NoiseConditionedScore.score must be a finite number but got NaN/],
    ['a negative loss', [1, -1], [0, 1], 'OUT_OF_RANGE', /'losses\[1\]'.*is -1, below 0/],
    ['a bucket out of range', [1, 2], [0, 4], 'OUT_OF_RANGE', /'buckets\[1\]'.*\[0, 3\].*got 4/],
    ['a fractional bucket', [1, 2], [0, 0.5], 'OUT_OF_RANGE', /'buckets\[1\]'.*got 0.5/],
    ['misaligned inputs', [1, 2, 3], [0, 1], 'SHAPE_MISMATCH', /3 losses and 2 buckets/],
    ['a non-array', 'abc', [0], 'INVALID_TYPE', /'losses'/],
  ])('rejects %s in score and update, changing nothing', (_name, l, b, code, message) => {
    const ncs = new NoiseConditionedScore({ buckets: 4 });
    ncs.score([2, 3], [0, 1]);
    const before = ncs.saveState();
    expectCode(() => ncs.score(l as never, b as never), code, message);
    expectCode(() => ncs.update(l as never, b as never), code, new RegExp(message.source.replace('NoiseConditionedScore.score', 'NoiseConditionedScore.update')));
    expect(ncs.saveState()).toEqual(before);
  });

  it('refuses to normalise by a bucket that has seen no loss, and a too short output buffer', () => {
    const ncs = new NoiseConditionedScore({ buckets: 4 });
    ncs.update([1], [0]);
    expectCode(() => ncs.normalise([1, 1], [0, 2]), 'INVALID_STATE', /'buckets\[1\]'.*bucket 2, which has seen no loss yet.*call update/);
    expectCode(() => ncs.score([1, 1], [0, 0], new Float32Array(1)), 'INVALID_TYPE', /'out' passed to NoiseConditionedScore.score must be a Float32Array of at least 2 entries/);
    expectCode(() => ncs.expected(4), 'OUT_OF_RANGE', /'bucket' passed to NoiseConditionedScore.expected/);
    expect(ncs.expected(1)).toBeNaN();
    expectCode(() => ncs.bucketOf(Number.NaN), 'OUT_OF_RANGE', /'level'.*got NaN/);
  });

  it('rejects damaged state bytes and the state of a helper with other options, changing nothing', () => {
    const ncs = new NoiseConditionedScore({ buckets: 3 });
    ncs.update([1, 2], [0, 1]);
    const bytes = ncs.saveState();
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 }), (position, xor) => {
        const corrupted = bytes.slice();
        corrupted[position]! ^= xor;
        expect(() => NoiseConditionedScore.loadState(corrupted)).toThrow(InfoBatchError);
      }),
      { numRuns: 100, seed: 8 },
    );
    const other = new NoiseConditionedScore({ buckets: 3, window: 10 });
    other.update([5], [2]);
    const otherBefore = other.saveState();
    expectCode(() => other.restoreState(bytes), 'CHECKPOINT_MISMATCH', /"window":64.*"window":10/);
    expect(other.saveState()).toEqual(otherBefore);
    expectCode(() => NoiseConditionedScore.loadState(new InfoBatch({ numSamples: 2, numEpochs: 2 }).saveState()), 'CORRUPT_CHECKPOINT', /not a NoiseConditionedScore state/);
  });
});
