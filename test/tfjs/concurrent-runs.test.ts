import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { InfoBatchError } from '../../src/core/errors.js';
import { selectBackend } from '../../src/tfjs/backend.js';
import { fitWithInfoBatch } from '../../src/tfjs/fit.js';
import { softmaxCrossEntropy } from '../../src/tfjs/losses.js';
import { trainWithInfoBatch } from '../../src/tfjs/trainer.js';

// Two runs on one model at once: the second must be refused before it touches anything, however
// the two calls interleave (both start before either reaches its first await).
const N = 64;

beforeAll(async () => {
  expect(await selectBackend()).toBe('wasm');
});

function data(): { x: tf.Tensor2D; y: tf.Tensor2D } {
  return tf.tidy(() => {
    const x = tf.randomNormal([N, 4], 0, 1, 'float32', 1) as tf.Tensor2D;
    const y = tf.oneHot(tf.cast(tf.greater(tf.sum(x, 1), 0), 'int32'), 2).toFloat() as tf.Tensor2D;
    return { x, y };
  });
}

function model(softmax: boolean): tf.Sequential {
  const m = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 2, kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }), ...(softmax && { activation: 'softmax' as const }) })] });
  if (softmax) m.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
  return m;
}

function rejection(result: PromiseSettledResult<unknown>): InfoBatchError {
  expect(result.status).toBe('rejected');
  const reason = (result as PromiseRejectedResult).reason as unknown;
  expect(reason).toBeInstanceOf(InfoBatchError);
  expect((reason as InfoBatchError).code).toBe('INVALID_STATE');
  return reason as InfoBatchError;
}

describe('one training run per model at a time', () => {
  it('fitWithInfoBatch: two calls started together, one trains and the other is refused, with no tensor left behind', async () => {
    const { x, y } = data();
    const m = model(true);
    const before = tf.memory().numTensors;
    const args = { epochs: 2, batchSize: 16, verbose: 0 as const };
    const [first, second] = await Promise.allSettled([fitWithInfoBatch(m, x, y, args), fitWithInfoBatch(m, x, y, args)]);
    expect(first.status).toBe('fulfilled');
    expect((first as PromiseFulfilledResult<tf.History>).value.history['loss']).toHaveLength(2);
    expect(rejection(second).message).toMatch(/fitWithInfoBatch was called on a model that fitWithInfoBatch is already training.*Await the first run/);
    // The optimizer's slots are the only tensors a (sgd) run adds: none here.
    expect(tf.memory().numTensors).toBe(before);
    // Released once settled: the model trains again.
    await expect(fitWithInfoBatch(m, x, y, args)).resolves.toBeDefined();
    tf.dispose([x, y]);
    m.dispose();
  });

  it('trainWithInfoBatch: two calls started together, one trains and the other is refused', async () => {
    const { x, y } = data();
    const m = model(false);
    const optimizer = tf.train.sgd(0.1);
    const before = tf.memory().numTensors;
    const options = { epochs: 2, batchSize: 16, optimizer, loss: softmaxCrossEntropy };
    const [first, second] = await Promise.allSettled([trainWithInfoBatch(m, { x, y }, options), trainWithInfoBatch(m, { x, y }, options)]);
    expect(first.status).toBe('fulfilled');
    expect(rejection(second).message).toMatch(/trainWithInfoBatch was called on a model that trainWithInfoBatch is already training/);
    expect(tf.memory().numTensors).toBe(before);
    await expect(trainWithInfoBatch(m, { x, y }, options)).resolves.toBeDefined();
    tf.dispose([x, y]);
    m.dispose();
    optimizer.dispose();
  });

  it('refuses a mix of the two front-ends and of model.fit, both ways, and releases the model after a failed run', async () => {
    const { x, y } = data();
    const m = model(true);
    const args = { epochs: 1, batchSize: 16, verbose: 0 as const };
    const train = { epochs: 1, batchSize: 16, optimizer: tf.train.sgd(0.1), loss: softmaxCrossEntropy };
    const [a, b] = await Promise.allSettled([fitWithInfoBatch(m, x, y, args), trainWithInfoBatch(m, { x, y }, train)]);
    expect(a.status).toBe('fulfilled');
    expect(rejection(b).message).toMatch(/trainWithInfoBatch was called on a model that fitWithInfoBatch is already training/);
    // model.fit in progress: refused here; fitWithInfoBatch in progress: tfjs refuses model.fit.
    const [c, d] = await Promise.allSettled([m.fit(x, y, args), fitWithInfoBatch(m, x, y, args)]);
    expect(c.status).toBe('fulfilled');
    expect(rejection(d).message).toMatch(/already training \(a model\.fit\(\) or model\.fitDataset\(\) call has not finished\)/);
    const [e, f] = await Promise.allSettled([fitWithInfoBatch(m, x, y, args), m.fit(x, y, args)]);
    expect(e.status).toBe('fulfilled');
    expect(f.status).toBe('rejected');
    // A run that fails (bad argument) releases the model too.
    await expect(fitWithInfoBatch(m, x, y, { ...args, batchSize: 0 })).rejects.toThrow(/batchSize/);
    await expect(fitWithInfoBatch(m, x, y, args)).resolves.toBeDefined();
    tf.dispose([x, y]);
    m.dispose();
    train.optimizer.dispose();
  });
});
