import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InfoBatch } from '../../src/core/info-batch.js';
import { InfoBatchError } from '../../src/core/errors.js';
import { alignedKeptCount, InfoBatchPolicy } from '../../src/policies/info-batch.js';

/** The last-batch sizes of an epoch of `length` samples in batches of `batchSize`. */
const shapes = (length: number, batchSize: number) => new Set(length % batchSize === 0 ? [batchSize] : length < batchSize ? [length] : [batchSize, length % batchSize]);

describe('InfoBatchPolicy alignToBatchSize (no new batch shapes on GPU backends)', () => {
  it('gives every pruned epoch only batch sizes full data has, keeps the weights unbiased, and moves the kept count by less than a batch', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 600 }),
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.double({ min: 0.05, max: 0.95, noNaN: true }),
        (numSamples, batchSize, seed, pruneRatio) => {
          const run = (align: boolean) => {
            const ib = new InfoBatch({ numSamples, numEpochs: 4, seed, policy: new InfoBatchPolicy({ pruneRatio, ...(align && { alignToBatchSize: batchSize }) }) });
            const first = ib.beginEpoch(0);
            ib.recordLosses(first.indices, Float32Array.from(first.indices, (id) => ((id * 2654435761) % 1000) / 1000 + 0.001));
            return ib.beginEpoch(1);
          };
          const aligned = run(true);
          const plain = run(false);
          const full = shapes(numSamples, batchSize);
          for (const size of shapes(aligned.length, batchSize)) expect(full.has(size)).toBe(true);
          expect(Math.abs(aligned.length - plain.length)).toBeLessThan(batchSize);
          // Unbiased: Σ w over the plan is the number of samples.
          const total = aligned.weights.reduce((sum, w) => sum + w, 0);
          expect(total).toBeCloseTo(numSamples, 1);
          expect(aligned.stats.wellLearned).toBe(plain.stats.wellLearned);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('picks the nearest qualifying count, the larger one on a tie, and never drops the whole well-learned set', () => {
    // 1000 samples, batch 128 (full data: 128 and 104), 400 well learned: a length of 600 + k.
    expect(alignedKeptCount(200, 400, 1000, 128)).toBe(168); // 768 = 6 · 128, 32 below (the next, 872 = 6·128 + 104, is 72 above)
    expect(alignedKeptCount(260, 400, 1000, 128)).toBe(272); // 872 ends in 104, as full data does
    expect(alignedKeptCount(3, 5, 10, 4)).toBe(3); // length 8 = 2 · 4 already fits
    expect(alignedKeptCount(3, 6, 10, 4)).toBe(4); // length 7: 8 (k = 4) and 6 (k = 2, ends in 10 % 4) tie: the larger count
    expect(alignedKeptCount(1, 3, 1000, 128)).toBe(3); // nothing within a batch: keep all of D1
    expect(alignedKeptCount(0, 10, 100, 7)).toBeGreaterThanOrEqual(0);
  });

  it('is refused unless a positive integer, and survives a checkpoint round trip', () => {
    expect(() => new InfoBatchPolicy({ alignToBatchSize: 0 })).toThrow(InfoBatchError);
    expect(() => new InfoBatchPolicy({ alignToBatchSize: 1.5 })).toThrow(/'alignToBatchSize' passed to new InfoBatchPolicy\(\) must be an integer/);
    const ib = new InfoBatch({ numSamples: 50, numEpochs: 3, policy: new InfoBatchPolicy({ alignToBatchSize: 8 }) });
    const restored = InfoBatch.loadState(ib.saveState());
    expect(restored.policy.config).toEqual(ib.policy.config);
    expect(new InfoBatchPolicy().config).not.toHaveProperty('alignToBatchSize');
  });

  it("is an option of new InfoBatch() for its default policy (as pruneRatio is), named in its errors, and alignToBatchSize: 1 is no alignment", () => {
    const plan = (options: Partial<ConstructorParameters<typeof InfoBatch>[0]>) => {
      const ib = new InfoBatch({ numSamples: 300, numEpochs: 4, seed: 5, ...options });
      const first = ib.beginEpoch(0);
      ib.recordLosses(first.indices, Float32Array.from(first.indices, (id) => (id % 17) / 17 + 0.01));
      return ib.beginEpoch(1);
    };
    const viaOption = plan({ alignToBatchSize: 64, pruneRatio: 0.4 });
    const viaPolicy = plan({ policy: new InfoBatchPolicy({ alignToBatchSize: 64, pruneRatio: 0.4 }) });
    expect(viaOption.indices).toEqual(viaPolicy.indices);
    expect([0, 300 % 64]).toContain(viaOption.length % 64);
    expect(plan({ alignToBatchSize: 1 }).indices).toEqual(plan({}).indices);
    // 1 names the same run as no alignment: an unaligned run's checkpoint resumes with it.
    expect(new InfoBatchPolicy({ alignToBatchSize: 1 }).config).toEqual(new InfoBatchPolicy().config);
    const unaligned = new InfoBatch({ numSamples: 300, numEpochs: 4, seed: 5 });
    unaligned.beginEpoch(0);
    expect(() => new InfoBatch({ numSamples: 300, numEpochs: 4, seed: 5, alignToBatchSize: 1 }).restoreState(unaligned.saveState())).not.toThrow();
    expect(() => new InfoBatch({ numSamples: 300, numEpochs: 4, seed: 5, alignToBatchSize: 64 }).restoreState(unaligned.saveState())).toThrow(/policy/);
    expect(() => new InfoBatch({ numSamples: 10, numEpochs: 2, alignToBatchSize: 0 })).toThrow(/'alignToBatchSize' passed to new InfoBatch\(\)/);
    expect(() => new InfoBatch({ numSamples: 10, numEpochs: 2, alignToBatchSize: 4, policy: new InfoBatchPolicy() })).toThrow(/'alignToBatchSize'/);
  });
});
