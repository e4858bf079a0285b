import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EpochPlan, InfoBatch, InfoBatchError } from '../../src/index.js';

function planOf(length: number): EpochPlan {
  const indices = Int32Array.from({ length }, (_, i) => (i * 7919) % 100_003);
  const weights = Float32Array.from({ length }, (_, i) => 1 + (i % 3));
  return new EpochPlan(2, true, indices, weights, { kept: length, pruned: 0, wellLearned: 0, threshold: Number.NaN });
}

describe('EpochPlan.batches', () => {
  it('yields consecutive views that cover the plan, the last one short unless dropLast', () => {
    const plan = planOf(10);
    const batches = [...plan.batches(4)];
    expect(batches.map((b) => b.indices.length)).toEqual([4, 4, 2]);
    expect(plan.numBatches(4)).toBe(3);
    expect(Int32Array.from(batches.flatMap((b) => Array.from(b.indices)))).toEqual(plan.indices);
    expect(batches[1]!.weights).toEqual(plan.weights.subarray(4, 8));
    expect(batches[0]!.indices.buffer).toBe(plan.indices.buffer); // a view, not a copy
    expect([...plan.batches(4, { dropLast: true })].map((b) => b.indices.length)).toEqual([4, 4]);
    expect(plan.numBatches(4, { dropLast: true })).toBe(2);
  });

  it('rejects a bad batch size or option', () => {
    expect(() => planOf(3).batches(0)).toThrow(/'batchSize' passed to EpochPlan.numBatches must be >= 1 but got 0/);
    expect(() => planOf(3).batches(2, { droplast: true } as never)).toThrow(/Unknown option 'droplast'/);
  });

  it('rejects options that are not an object with an InfoBatchError', () => {
    for (const call of [
      () => planOf(3).batches(8, null as never),
      () => planOf(3).numBatches(8, null as never),
      () => planOf(3).shard(0, 2, null as never),
      () => planOf(3).batches(8, 'x' as never),
    ]) {
      expect(call).toThrow(InfoBatchError);
      expect(call).toThrow(/'options' passed to EpochPlan\.(batches|numBatches|shard) must be an options object but got (null|"x")/);
    }
  });
});

describe('EpochPlan.shard', () => {
  it('splits a plan into disjoint, equal shards that cover it, padding only with repeats', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 16 }), fc.boolean(), (length, worldSize, dropLast) => {
        const plan = planOf(length);
        const shards = Array.from({ length: worldSize }, (_, rank) => plan.shard(rank, worldSize, { dropLast }));
        const shardLength = shards[0]!.length;
        expect(shards.every((s) => s.length === shardLength)).toBe(true);
        expect(shardLength).toBe(dropLast ? Math.floor(length / worldSize) : Math.ceil(length / worldSize));
        // Positions taken by each rank: q, q + R, ... over the (padded) plan.
        const seen = new Map<number, number>();
        shards.forEach((shard, rank) => {
          for (let s = 0; s < shard.length; s++) {
            const position = rank + s * worldSize;
            expect(seen.has(position)).toBe(false); // disjoint
            seen.set(position, rank);
            const source = position % length;
            expect(shard.indices[s]).toBe(plan.indices[source]);
            expect(shard.weights[s]).toBe(plan.weights[source]);
          }
        });
        const covered = new Set([...seen.keys()].filter((p) => p < length));
        if (dropLast) expect(covered.size).toBe(shardLength * worldSize);
        else expect(covered.size).toBe(length); // the union is the whole plan
        expect(seen.size - covered.size).toBe(dropLast ? 0 : shardLength * worldSize - length); // only padding repeats
      }),
      { numRuns: 300, seed: 4 },
    );
  });

  it('gives every rank the same global plan, so shards of real plans agree across ranks', () => {
    const ranks = [0, 1, 2].map(() => new InfoBatch({ numSamples: 1001, numEpochs: 5, seed: 9 }));
    const union = new Set<number>();
    let total = 0;
    ranks.forEach((ib, rank) => {
      const shard = ib.beginEpoch(0).shard(rank, 3);
      total += shard.length;
      shard.indices.forEach((i) => union.add(i));
    });
    expect(union.size).toBe(1001);
    expect(total).toBe(1002); // one padded repeat
  });

  it('rejects a rank outside [0, worldSize)', () => {
    const error = (() => {
      try {
        planOf(4).shard(3, 3);
      } catch (e) {
        return e as InfoBatchError;
      }
      return undefined;
    })();
    expect(error?.code).toBe('OUT_OF_RANGE');
    expect(error?.message).toBe("'rank' passed to EpochPlan.shard must be in [0, 2] but got 3.");
  });
});
