/**
 * The limits of `workers`: a replica that hangs stops the run after `workers.timeoutMs` instead of
 * hanging it, and the worker count is bounded.
 */
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfoBatchError } from '../../src/core/errors.js';
import { SeededRandom } from '../../src/core/random.js';
import { selectBackend } from '../../src/tfjs/backend.js';
import { softmaxCrossEntropy } from '../../src/tfjs/losses.js';
import { liveNodeReplicas } from '../../src/tfjs/parallel/spawn-node.js';
import { trainWithInfoBatch, type TrainOptions } from '../../src/tfjs/trainer.js';
import { CLASSES, FEATURES, tinyModel } from './fixtures/replica-model.js';

const N = 96;
const REPLICA_MODULE = new URL('./fixtures/replica-model.ts', import.meta.url);
let x: tf.Tensor2D;
let y: tf.Tensor2D;

beforeAll(async () => {
  expect(await selectBackend()).toBe('wasm');
  const random = SeededRandom.derive(5);
  const features = Float32Array.from({ length: N * FEATURES }, () => random.nextGaussian());
  x = tf.tensor2d(features, [N, FEATURES]);
  y = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(Int32Array.from({ length: N }, (_, i) => i % CLASSES), 'int32'), CLASSES), 'float32') as tf.Tensor2D);
});
afterAll(() => tf.dispose([x, y]));

async function train(workers: TrainOptions['workers']): Promise<void> {
  const model = tinyModel(3);
  const optimizer = tf.train.sgd(0.1);
  try {
    await trainWithInfoBatch(model, { x, y }, { epochs: 2, batchSize: 16, optimizer, loss: softmaxCrossEntropy, ...(workers !== undefined && { workers }) });
  } finally {
    model.dispose();
    optimizer.dispose();
  }
}

describe('workers: timeouts and limits', () => {
  // The timeout covers a replica's start too, which takes seconds on a busy machine: 10 s here.
  it('a replica that hangs stops the run after workers.timeoutMs, with every thread stopped and no tensor left', async () => {
    const before = tf.memory().numTensors;
    const started = Date.now();
    let error: unknown;
    try {
      // Rank 1 blocks forever on its 3rd forward pass (step 2 of epoch 0).
      await train({ count: 2, timeoutMs: 10_000, replica: { module: REPLICA_MODULE, args: { seed: 3, failAt: 3, failRank: 1, hang: true } } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InfoBatchError);
    expect((error as InfoBatchError).code).toBe('WORKER_FAILED');
    expect((error as Error).message).toMatch(/worker rank 1 of 2 failed during step 2 of epoch 0: it did not answer within workers\.timeoutMs = 10000 ms/);
    expect(Date.now() - started).toBeLessThan(45_000);
    expect(liveNodeReplicas()).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
  }, 60_000);

  it('refuses a timeout that is not a positive number', async () => {
    await expect(train({ count: 2, timeoutMs: 0 })).rejects.toMatchObject({ code: 'OUT_OF_RANGE', message: expect.stringContaining("'workers.timeoutMs' passed to trainWithInfoBatch must be a number of milliseconds > 0") });
    expect(liveNodeReplicas()).toBe(0);
  });

  it('refuses more Node worker threads than the machine runs at once, before starting any', async () => {
    const cores = availableParallelism();
    await expect(train(1000)).rejects.toMatchObject({ code: 'OUT_OF_RANGE', message: expect.stringMatching(new RegExp(`'workers' passed to trainWithInfoBatch is 1000, but this machine runs ${cores} threads at once \\(os\\.availableParallelism\\(\\)\\).*Pass at most ${cores}`)) });
    await expect(train({ count: cores + 1 })).rejects.toMatchObject({ code: 'OUT_OF_RANGE', message: expect.stringContaining(`'workers.count' passed to trainWithInfoBatch is ${cores + 1}`) });
    expect(liveNodeReplicas()).toBe(0);
    // Your own transport (replicas elsewhere) is not bound by this machine's cores.
    const spawned: number[] = [];
    await expect(train({ count: cores + 1, spawn: async (count) => { spawned.push(count); throw new Error('no transport here'); } })).rejects.toThrow('no transport here');
    expect(spawned).toEqual([cores + 1]);
  });
});
