/**
 * On backends that compile kernels per shape (webgl, webgpu), the training functions align
 * InfoBatch's pruned epochs to the batch size, so that an InfoBatch run meets exactly the batch
 * shapes of full data. Checked here in Node on a backend registered under the name 'webgl' that
 * runs the cpu backend's kernels (the same arithmetic; what is tested is the plan, not the GPU);
 * test/browser/gpu-backends.test.ts checks the real webgl and webgpu backends in Chromium.
 */
import * as tf from '@tensorflow/tfjs';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSyntheticDataset } from '../../src/data/synthetic.js';
import { compilesPerShape, selectBackend } from '../../src/tfjs/backend.js';
import { fitWithInfoBatch, type FitWithInfoBatchArgs } from '../../src/tfjs/fit.js';
import { softmaxCrossEntropy } from '../../src/tfjs/losses.js';
import { trainWithInfoBatch } from '../../src/tfjs/trainer.js';
import { InfoBatchPolicy } from '../../src/policies/info-batch.js';

const N = 1000;
const BATCH = 64; // full data: 15 batches of 64 and one of 40
const EPOCHS = 6;
const split = makeSyntheticDataset({ numSamples: N, numTest: 10, seed: 8 });
const FEATURES = split.train.sampleShape[0]!;
const CLASSES = split.train.numClasses;
const FAKE = 'webgl';

beforeAll(async () => {
  tf.registerBackend(FAKE, () => new MathBackendCPU(), 0);
  for (const kernel of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...kernel, backendName: FAKE });
});

afterAll(async () => {
  for (const kernel of tf.getKernelsForBackend(FAKE)) tf.unregisterKernel(kernel.kernelName, FAKE);
  tf.removeBackend(FAKE);
  await selectBackend();
});

function mlp(): tf.Sequential {
  return tf.sequential({ layers: [tf.layers.dense({ units: CLASSES, inputShape: [FEATURES], kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) })] });
}

/** The batch sizes each epoch of a fitWithInfoBatch run trained on. */
async function fitBatchSizes(backend: string, infobatch?: FitWithInfoBatchArgs['infobatch']): Promise<{ sizes: Set<number>; kept: number[] }> {
  expect(await tf.setBackend(backend)).toBe(true);
  const x = tf.tensor2d(split.train.x, [N, FEATURES]);
  const y = tf.oneHot(tf.tensor1d(split.train.y, 'int32'), CLASSES);
  const model = mlp();
  model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
  const sizes = new Set<number>();
  try {
    const history = await fitWithInfoBatch(model, x, y, {
      epochs: EPOCHS,
      batchSize: BATCH,
      verbose: 0,
      ...(infobatch !== undefined && { infobatch }),
      callbacks: { onBatchEnd: async (_batch, logs) => void sizes.add((logs as { size: number }).size) },
    });
    return { sizes, kept: history.history['infobatch_kept_fraction'] as number[] };
  } finally {
    model.dispose();
    tf.dispose([x, y]);
  }
}

describe('no new batch shapes on backends that compile per shape', () => {
  it('knows which backends compile per shape', () => {
    expect(['webgl', 'webgpu'].map(compilesPerShape)).toEqual([true, true]);
    expect(['cpu', 'wasm', 'tensorflow'].map(compilesPerShape)).toEqual([false, false, false]);
  });

  it('fitWithInfoBatch meets only full data\'s batch sizes while pruning, on webgl and on cpu alike; alignToBatchSize: 1 meets new ones', async () => {
    const gpu = await fitBatchSizes(FAKE, { seed: 2 });
    const cpu = await fitBatchSizes('cpu', { seed: 2 });
    const unaligned = await fitBatchSizes('cpu', { seed: 2, alignToBatchSize: 1 });
    for (const run of [gpu, cpu]) {
      expect([...run.sizes].sort((a, b) => a - b)).toEqual([N % BATCH, BATCH]);
      expect(Math.min(...run.kept)).toBeLessThan(0.9); // it pruned
    }
    expect(cpu.kept).toEqual(gpu.kept);
    expect(unaligned.sizes.size).toBeGreaterThan(2); // unaligned plans end in other sizes
    // The alignment moves an epoch's kept count by less than one batch.
    gpu.kept.forEach((kept, epoch) => expect(Math.abs(kept - unaligned.kept[epoch]!) * N).toBeLessThan(BATCH + 0.5));
  });

  it('aligns the policy the options build, targetSaving included (on webgl it was refused as policy + targetSaving)', async () => {
    const budget = await fitBatchSizes(FAKE, { seed: 2, targetSaving: 0.3 });
    expect([...budget.sizes].sort((a, b) => a - b)).toEqual([N % BATCH, BATCH]);
    expect(Math.min(...budget.kept)).toBeLessThan(0.9);
  });

  it("keeps a policy the user built as it is, and trainWithInfoBatch aligns like fit", async () => {
    const own = await fitBatchSizes(FAKE, { seed: 2, policy: new InfoBatchPolicy() });
    expect(own.sizes.size).toBeGreaterThan(2);
    expect(await tf.setBackend(FAKE)).toBe(true);
    const x = tf.tensor2d(split.train.x, [N, FEATURES]);
    const y = tf.tensor1d(split.train.y, 'int32');
    const model = mlp();
    const optimizer = tf.train.sgd(0.1);
    const lengths: number[] = [];
    await trainWithInfoBatch(model, { x, y }, {
      epochs: EPOCHS, batchSize: BATCH, optimizer, loss: (t, p) => softmaxCrossEntropy(t, p), infobatch: { seed: 2 },
      callbacks: { onEpochBegin: (_e, plan) => void lengths.push(plan.length) },
    });
    expect(lengths.some((l) => l < N)).toBe(true);
    for (const length of lengths) expect([0, N % BATCH]).toContain(length % BATCH);
    model.dispose();
    optimizer.dispose();
    tf.dispose([x, y]);
  });
});
