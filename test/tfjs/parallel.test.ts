import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfoBatch } from '../../src/core/info-batch.js';
import { InfoBatchError } from '../../src/core/errors.js';
import { FullDataPolicy } from '../../src/policies/full-data.js';
import { SeededRandom } from '../../src/core/random.js';
import { selectBackend } from '../../src/tfjs/backend.js';
import { softmaxCrossEntropy } from '../../src/tfjs/losses.js';
import { liveNodeReplicas } from '../../src/tfjs/parallel/spawn-node.js';
import { fitWithInfoBatch } from '../../src/tfjs/fit.js';
import { trainWithInfoBatch, type TrainOptions } from '../../src/tfjs/trainer.js';
import { CLASSES, FEATURES, tinyModel } from './fixtures/replica-model.js';

// Small on purpose: these tests start worker threads and run in CI on 2 cores.
const NUM_SAMPLES = 240;
const EPOCHS = 4;
const BATCH = 32; // 8 steps an epoch, the last one short
const REPLICA_MODULE = new URL('./fixtures/replica-model.ts', import.meta.url);

let x: tf.Tensor2D;
let y: tf.Tensor2D;

beforeAll(async () => {
  expect(await selectBackend()).toBe('wasm');
  const random = SeededRandom.derive(5);
  const features = Float32Array.from({ length: NUM_SAMPLES * FEATURES }, () => random.nextGaussian());
  const labels = Int32Array.from({ length: NUM_SAMPLES }, (_, i) => (features[i * FEATURES]! + features[i * FEATURES + 1]! > 0 ? 0 : i % 2 === 0 ? 1 : 2));
  x = tf.tensor2d(features, [NUM_SAMPLES, FEATURES]);
  y = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), CLASSES), 'float32') as tf.Tensor2D);
});

afterAll(() => tf.dispose([x, y]));

interface Run {
  readonly weights: Float32Array[];
  readonly plans: Int32Array[];
  readonly scores: Float32Array;
  readonly meanLosses: number[];
}

async function run(workers: TrainOptions['workers'], policy: 'infobatch' | 'full' = 'infobatch', seed = 3, makeOptimizer: () => tf.Optimizer = () => tf.train.sgd(0.2)): Promise<Run> {
  const model = tinyModel(seed);
  const optimizer = makeOptimizer(); // SGD by default: tfjs's momentum optimizer keeps a scalar after dispose(), which would hide leaks
  const ib = new InfoBatch({ numSamples: NUM_SAMPLES, numEpochs: EPOCHS, seed: 9, ...(policy === 'full' && { policy: new FullDataPolicy() }) });
  const plans: Int32Array[] = [];
  try {
    const result = await trainWithInfoBatch(model, { x, y }, {
      epochs: EPOCHS,
      batchSize: BATCH,
      optimizer,
      loss: softmaxCrossEntropy,
      infobatch: ib,
      ...(workers !== undefined && { workers }),
      callbacks: { onEpochBegin: (_epoch, plan) => void plans.push(plan.indices.slice()) },
    });
    const weights = model.getWeights().map((w) => w.dataSync().slice() as Float32Array);
    return { weights, plans, scores: Float32Array.from(ib.scores), meanLosses: result.epochs.map((e) => e.meanLoss) };
  } finally {
    model.dispose();
    optimizer.dispose();
  }
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  expect(worst).toBeLessThan(tolerance);
}

describe('trainWithInfoBatch with workers (data-parallel on worker threads)', () => {
  for (const policy of ['infobatch', 'full'] as const) {
    it(`2 workers follow the same plans, scores and weights as one thread (${policy} policy)`, async () => {
      const before = tf.memory().numTensors;
      const single = await run(undefined, policy);
      const parallel = await run(2, policy);
      expect(parallel.plans).toEqual(single.plans);
      if (policy === 'infobatch') expect(parallel.plans.some((p) => p.length < NUM_SAMPLES)).toBe(true);
      expect(Number.isNaN(parallel.scores[0]!)).toBe(false);
      expectClose(parallel.scores, single.scores, 1e-4);
      expectClose(parallel.meanLosses, single.meanLosses, 1e-4);
      parallel.weights.forEach((w, i) => expectClose(w, single.weights[i]!, 1e-4));
      // Training moved the weights (the comparison is not between two untouched models).
      const untouched = tinyModel(3);
      expect(Math.abs(untouched.getWeights()[0]!.dataSync()[0]! - single.weights[0]![0]!)).toBeGreaterThan(1e-3);
      untouched.dispose();
      expect(tf.memory().numTensors).toBe(before);
      expect(liveNodeReplicas()).toBe(0);
    }, 60_000);
  }

  it("2 workers under Adam (rescale mode 'step': the coordinator scales the step's rate) follow one thread", async () => {
    const before = tf.memory().numTensors;
    const single = await run(undefined, 'infobatch', 3, () => tf.train.adam(0.02));
    const parallel = await run(2, 'infobatch', 3, () => tf.train.adam(0.02));
    const sgd = await run(undefined, 'infobatch', 3, () => tf.train.sgd(0.2));
    expect(parallel.plans).toEqual(single.plans);
    expectClose(parallel.meanLosses, single.meanLosses, 1e-4);
    parallel.weights.forEach((w, i) => expectClose(w, single.weights[i]!, 1e-4));
    // Another optimizer gives other weights: the comparison has teeth.
    expect(Math.abs(sgd.weights[0]![0]! - single.weights[0]![0]!)).toBeGreaterThan(1e-4);
    expect(tf.memory().numTensors).toBe(before);
    expect(liveNodeReplicas()).toBe(0);
  }, 60_000);

  it.skipIf(availableParallelism() < 2)('computes rank 0 on this thread: workers: N starts N - 1 worker threads (N: the cores)', async () => {
    const count = availableParallelism();
    const model = tinyModel(2);
    const optimizer = tf.train.sgd(0.1);
    const live: number[] = [];
    try {
      await trainWithInfoBatch(model, { x, y }, { epochs: 1, batchSize: BATCH, optimizer, loss: softmaxCrossEntropy, workers: count, callbacks: { onEpochBegin: () => void live.push(liveNodeReplicas()) } });
    } finally {
      model.dispose();
      optimizer.dispose();
    }
    expect(live).toEqual([count - 1]);
    expect(liveNodeReplicas()).toBe(0);
  }, 60_000);

  it('gives bit-identical weights for the same seed and worker count', async () => {
    const a = await run(2);
    const b = await run(2);
    expect(b.weights).toEqual(a.weights);
    expect(b.scores).toEqual(a.scores);
  }, 60_000);

  it('resumes from saveState and the weights exactly as an uninterrupted run with the same workers', async () => {
    const whole = await run(2);
    // First half: epochs 0-1 of the same 4-epoch InfoBatch run, then save.
    const model = tinyModel(3);
    const optimizer = tf.train.sgd(0.2);
    const base = { batchSize: BATCH, optimizer, loss: softmaxCrossEntropy, workers: 2 };
    const first = new InfoBatch({ numSamples: NUM_SAMPLES, numEpochs: EPOCHS, seed: 9 });
    await trainWithInfoBatch(model, { x, y }, { ...base, epochs: 2, infobatch: first });
    const saved = first.saveState();
    const weights = model.getWeights().map((w) => w.clone());
    model.dispose();
    // Second half, in a fresh model restored from the saved weights and InfoBatch state.
    const resumed = tinyModel(11);
    resumed.setWeights(weights);
    tf.dispose(weights);
    await trainWithInfoBatch(resumed, { x, y }, { ...base, epochs: EPOCHS, initialEpoch: 2, infobatch: InfoBatch.loadState(saved) });
    expect(resumed.getWeights().map((w) => w.dataSync().slice())).toEqual(whole.weights);
    resumed.dispose();
    optimizer.dispose();
  }, 90_000);

  it('continues a checkpointed run with workers, after a crash, to the weights of the uninterrupted run', async () => {
    const whole = await run(2);
    const dir = await mkdtemp(join(tmpdir(), 'infobatch-parallel-checkpoint-'));
    const attempt = async (crashAtStep?: number): Promise<{ weights: Float32Array[]; steps: number }> => {
      const model = tinyModel(3);
      const optimizer = tf.train.sgd(0.2);
      let steps = 0;
      try {
        await trainWithInfoBatch(model, { x, y }, {
          epochs: EPOCHS, batchSize: BATCH, optimizer, loss: softmaxCrossEntropy, workers: 2,
          infobatch: { seed: 9, alignToBatchSize: 1 }, // unaligned, as run()'s own InfoBatch
          checkpoint: { dir, everySteps: 3 },
          callbacks: { onBatchEnd: () => { if (++steps === crashAtStep) throw new Error('simulated crash'); } },
        });
        return { weights: model.getWeights().map((w) => w.dataSync().slice() as Float32Array), steps };
      } finally {
        model.dispose();
        optimizer.dispose();
      }
    };
    try {
      // Step 13 is inside epoch 1; the last checkpoint before it was written after step 12.
      await expect(attempt(13)).rejects.toThrow('simulated crash');
      const resumed = await attempt();
      const totalSteps = whole.plans.reduce((sum, plan) => sum + Math.ceil(plan.length / BATCH), 0);
      expect(resumed.steps).toBe(totalSteps - 12); // it continued from the checkpoint, not from scratch
      expect(resumed.weights).toEqual(whole.weights);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it('builds custom replicas from a module exporting a factory', async () => {
    const single = await run(undefined);
    const parallel = await run({ count: 2, replica: { module: REPLICA_MODULE, args: { seed: 3 } } });
    expect(parallel.plans).toEqual(single.plans);
    parallel.weights.forEach((w, i) => expectClose(w, single.weights[i]!, 1e-4));
  }, 60_000);

  it('fitWithInfoBatch with workers: 2 logs the same losses and metrics and reaches the same weights as one thread', async () => {
    const before = tf.memory().numTensors;
    const fit = async (workers?: number) => {
      const model = tinyModel(5);
      const optimizer = tf.train.sgd(0.2);
      model.compile({ optimizer, loss: 'meanSquaredError', metrics: ['mae'] });
      const history = await fitWithInfoBatch(model, x, y, { epochs: 3, batchSize: BATCH, verbose: 0, infobatch: { seed: 4 }, ...(workers !== undefined && { workers }) });
      const weights = model.getWeights().map((w) => w.dataSync().slice());
      model.dispose();
      optimizer.dispose();
      return { history: history.history, weights };
    };
    const single = await fit();
    const parallel = await fit(2);
    for (const key of ['loss', 'mae', 'infobatch_kept_fraction']) {
      expect(parallel.history[key]).toBeDefined();
      expectClose(parallel.history[key] as number[], single.history[key] as number[], 1e-4);
    }
    parallel.weights.forEach((w, i) => expectClose(w, single.weights[i]!, 1e-4));
    expect(tf.memory().numTensors).toBe(before);
    expect(liveNodeReplicas()).toBe(0);
  }, 90_000);

  for (const exit of [false, true]) {
    it(`stops the run with a clear error and no thread left when a worker ${exit ? 'dies' : 'throws'} mid-epoch`, async () => {
      const before = tf.memory().numTensors;
      let error: unknown;
      try {
        // Rank 1 fails on its 11th forward pass: step 2 of epoch 1.
        await run({ count: 2, replica: { module: REPLICA_MODULE, args: { seed: 3, failAt: 11, failRank: 1, exit } } });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InfoBatchError);
      expect((error as InfoBatchError).code).toBe('WORKER_FAILED');
      expect((error as Error).message).toMatch(/trainWithInfoBatch: data-parallel worker rank 1 of 2 failed during step 2 of epoch 1/);
      expect((error as Error).message).toMatch(exit ? /exited unexpectedly with code 7/ : /injected fault at forward pass 11/);
      expect(liveNodeReplicas()).toBe(0);
      expect(tf.memory().numTensors).toBe(before);
    }, 60_000);
  }

  it('rejects a bad workers option before starting any thread', async () => {
    const model = tinyModel(1);
    const base = { epochs: 1, batchSize: 8, optimizer: tf.train.sgd(0.1), loss: softmaxCrossEntropy };
    await expect(trainWithInfoBatch(model, { x, y }, { ...base, workers: 0 })).rejects.toThrow(/'workers' passed to trainWithInfoBatch must be .*1.*got 0/);
    await expect(trainWithInfoBatch(model, { x, y }, { ...base, loss: (a, b) => softmaxCrossEntropy(a, b), workers: 2 })).rejects.toThrow(/cannot send the loss function to worker threads/);
    await expect(trainWithInfoBatch(model, { x, y }, { ...base, workers: { count: 2, threads: 2 } as never })).rejects.toThrow(/Unknown option 'threads'/);
    expect(liveNodeReplicas()).toBe(0);
    model.dispose();
  });
});
