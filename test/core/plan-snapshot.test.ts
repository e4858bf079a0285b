import { describe, expect, it } from 'vitest';
import { createPolicy, InfoBatch, type PolicyConfig } from '../../src/index.js';
import { crc32 } from '../../src/core/crc32.js';

/** A cheap deterministic per-sample loss in [0, 10). */
function loss(index: number, epoch: number): number {
  return (((Math.imul(index + 1, 0x9e3779b1) ^ Math.imul(epoch + 7, 0x85ebca6b)) >>> 0) % 1000) / 100;
}

/** CRC-32 of every epoch's indices and weights of a seeded run, recording `loss` for each plan. */
function fingerprint(numSamples: number, config: PolicyConfig, into: boolean): string[] {
  const numEpochs = 8;
  const ib = new InfoBatch({ numSamples, numEpochs, seed: 7, policy: createPolicy(config) });
  const buffers = { indices: new Int32Array(numSamples), weights: new Float32Array(numSamples) };
  const out: string[] = [];
  const batchIndices = new Int32Array(4096);
  const batchLosses = new Float32Array(4096);
  for (let epoch = 0; epoch < numEpochs; epoch++) {
    const plan = into ? ib.beginEpoch(epoch, { into: buffers }) : ib.beginEpoch(epoch);
    const indexBytes = new Uint8Array(plan.indices.buffer, plan.indices.byteOffset, plan.indices.byteLength);
    const weightBytes = new Uint8Array(plan.weights.buffer, plan.weights.byteOffset, plan.weights.byteLength);
    out.push(`${plan.length}:${crc32(indexBytes).toString(16)}:${crc32(weightBytes).toString(16)}`);
    for (const batch of plan.batches(4096)) {
      const n = batch.indices.length;
      for (let j = 0; j < n; j++) batchLosses[j] = loss(batch.indices[j]!, epoch);
      batchIndices.set(batch.indices);
      ib.recordLosses(batchIndices.subarray(0, n), batchLosses.subarray(0, n));
    }
  }
  return out;
}

const CONFIGS: PolicyConfig[] = [
  { name: 'infobatch' },
  { name: 'infobatch', threshold: { quantile: 0.3 } },
  { name: 'infobatch', targetSaving: 0.3 },
  { name: 'full' },
  { name: 'static-random' },
  { name: 'dynamic-random' },
  { name: 'epsilon-greedy' },
  { name: 'ucb' },
  { name: 'seta' },
];

describe('plans of earlier versions (no-regression fingerprints)', () => {
  // Plans must be identical on every machine and every version: results already published and
  // resumed or data-parallel runs depend on them. 1,000 samples take the in-place shuffle,
  // 70,000 the bucketed one. Update only with a deliberate, documented change.
  for (const numSamples of [1000, 70_000]) {
    it(`keeps every built-in policy's plans at N=${numSamples}`, () => {
      const actual = Object.fromEntries(CONFIGS.map((c) => [JSON.stringify(c), fingerprint(numSamples, c, false).join(' ')]));
      expect(actual).toMatchSnapshot();
      // Caller-owned output buffers give the very same plans.
      const intoBuffers = Object.fromEntries(CONFIGS.map((c) => [JSON.stringify(c), fingerprint(numSamples, c, true).join(' ')]));
      expect(intoBuffers).toEqual(actual);
    });
  }
});
