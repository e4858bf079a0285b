import { expect } from 'vitest';
import { InfoBatch, InfoBatchError } from '../../src/index.js';

/** A deterministic per-sample loss that depends on the sample and the epoch. */
export function syntheticLoss(index: number, epoch: number): number {
  const x = Math.sin(index * 12.9898 + epoch * 78.233) * 43758.5453;
  return (x - Math.floor(x)) * (1 + (index % 7)) / (1 + epoch * 0.1);
}

/** Runs `epochs` epochs (from `from`), recording syntheticLoss; returns the plans' indices. */
export function runEpochs(ib: InfoBatch, from: number, epochs: number, batchSize = 32): Int32Array[] {
  const plans: Int32Array[] = [];
  for (let epoch = from; epoch < from + epochs; epoch++) {
    const plan = ib.beginEpoch(epoch);
    plans.push(plan.indices.slice());
    for (const batch of plan.batches(batchSize)) {
      ib.recordLosses(batch.indices, Array.from(batch.indices, (i) => syntheticLoss(i, epoch)));
    }
  }
  return plans;
}

/** Scores every sample of `ib` with the given losses. */
export function scoreAll(ib: InfoBatch, losses: ArrayLike<number>): void {
  const indices = Int32Array.from({ length: ib.numSamples }, (_, i) => i);
  ib.recordLosses(indices, losses);
}

/** Throws unless `fn` throws an InfoBatchError with `code` and a message matching `message`. */
export function expectCode(fn: () => unknown, code: string, message: RegExp): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(InfoBatchError);
  expect((error as InfoBatchError).code).toBe(code);
  expect((error as InfoBatchError).message).toMatch(message);
}
