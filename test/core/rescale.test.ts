import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InfoBatch } from '../../src/core/info-batch.js';
import { InfoBatchError } from '../../src/core/errors.js';
import { assertRescaleMode, objectiveDenominator, stepScale } from '../../src/core/rescale.js';

describe('stepScale', () => {
  it('is the mean weight of the batch', () => {
    expect(stepScale(Float32Array.of(2, 1, 1, 2))).toBe(1.5);
    expect(stepScale([1, 1, 1])).toBe(1);
  });

  it('rejects an empty batch and bad weights with an InfoBatchError naming the element', () => {
    expect(() => stepScale([])).toThrow(InfoBatchError);
    expect(() => stepScale([1, -1])).toThrow(/weights\[1\].*>= 0.*-1/);
    expect(() => stepScale([1, Number.NaN])).toThrow(/weights\[1\]/);
  });

  it('over an InfoBatch pruning epoch, the plan\'s step scales sum to the full epoch\'s step count (the epoch moves as far as a full one)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 20, max: 400 }), fc.integer({ min: 0, max: 2 ** 31 }), fc.double({ min: 0.2, max: 0.9, noNaN: true }), (n, seed, ratio) => {
        const ib = new InfoBatch({ numSamples: n, numEpochs: 8, seed, pruneRatio: ratio });
        const first = ib.beginEpoch(0);
        const losses = Float32Array.from({ length: n }, (_, i) => ((i * 7919) % 97) / 97 + 0.01);
        ib.recordLosses(first.indices, Float32Array.from(first.indices, (id) => losses[id]!));
        const plan = ib.beginEpoch(1);
        // The kept k of the |D1| well-learned samples carry |D1| / k, the others 1: Σ w over the
        // plan is the number of samples, so Σ over the steps of scale·B is too.
        let total = 0;
        for (const batch of plan.batches(16)) total += stepScale(batch.weights) * batch.weights.length;
        expect(plan.length).toBeLessThan(n);
        expect(total).toBeCloseTo(n, 2);
      }),
      { numRuns: 60 },
    );
  });
});

describe('objectiveDenominator', () => {
  it('is B in loss mode and Σw in step mode (1 when every weight is 0)', () => {
    expect(objectiveDenominator(Float32Array.of(2, 1, 1), 'loss')).toBe(3);
    expect(objectiveDenominator(Float32Array.of(2, 1, 1), 'step')).toBe(4);
    expect(objectiveDenominator(Float32Array.of(0, 0), 'step')).toBe(1);
  });
});

describe('assertRescaleMode', () => {
  it('accepts the three modes and names the bad value otherwise', () => {
    for (const mode of ['auto', 'loss', 'step']) expect(() => assertRescaleMode('f', 'rescaleMode', mode)).not.toThrow();
    expect(() => assertRescaleMode('f', 'rescaleMode', 'steps')).toThrow(/'rescaleMode' passed to f must be one of 'auto', 'loss', 'step' but got/);
  });
});
