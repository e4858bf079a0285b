import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/tfjs/backend.js';
import { fitWithInfoBatch } from '../../src/tfjs/fit.js';
import { softmaxCrossEntropy } from '../../src/tfjs/losses.js';
import { trainWithInfoBatch } from '../../src/tfjs/trainer.js';

beforeAll(async () => {
  expect(await selectBackend({ prefer: ['cpu'] })).toBe('cpu');
});

function mlp(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.dense({ units: 8, activation: 'relu', inputShape: [4], kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
      tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
}

/** A per-sample loss that works for the first `ok` calls, then fails inside the forward pass (after the tape saved tensors). */
function failingLoss(ok: number): (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor {
  let calls = 0;
  return (yTrue, yPred) => {
    const perSample = softmaxCrossEntropy(yTrue, tf.relu(tf.mul(yPred, 2)));
    if (++calls > ok) return tf.reshape(perSample, [perSample.size + 1]); // a real tfjs error, mid-graph
    return perSample;
  };
}

describe('a step that throws inside optimizer.minimize', () => {
  it('leaves no tensor behind (trainWithInfoBatch, the error propagates)', async () => {
    const model = mlp();
    const x = tf.randomNormal([40, 4], 0, 1, 'float32', 3);
    const y = tf.tensor1d(Array.from({ length: 40 }, (_, i) => i % 3), 'int32');
    const optimizer = tf.train.sgd(0.1);
    const before = tf.memory().numTensors;
    // Call 1 is the loss-shape check, calls 2–3 train steps 0–1, call 4 (step 2) throws.
    await expect(trainWithInfoBatch(model, { x, y }, { epochs: 2, batchSize: 8, optimizer, loss: failingLoss(3) })).rejects.toThrow(/must match the product of shape/);
    expect(tf.memory().numTensors).toBe(before);
    // Several failures in a row do not add up either.
    for (let i = 0; i < 3; i++) {
      await expect(trainWithInfoBatch(model, { x, y }, { epochs: 1, batchSize: 8, optimizer, loss: failingLoss(1) })).rejects.toThrow(/must match the product of shape/);
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('leaves no tensor behind (fitWithInfoBatch with a custom loss that throws)', async () => {
    const model = mlp();
    let calls = 0;
    model.compile({
      optimizer: tf.train.sgd(0.1),
      loss: (yTrue: tf.Tensor, yPred: tf.Tensor) => {
        const perSample = tf.mean(tf.square(tf.sub(yTrue, yPred)), -1);
        return ++calls > 3 ? tf.reshape(perSample, [perSample.size + 1]) : perSample;
      },
    });
    const x = tf.randomNormal([40, 4], 0, 1, 'float32', 4);
    const y = tf.oneHot(tf.tensor1d(Array.from({ length: 40 }, (_, i) => i % 3), 'int32'), 3).toFloat();
    const before = tf.memory().numTensors;
    await expect(fitWithInfoBatch(model, x, y, { epochs: 2, batchSize: 8, verbose: 0 })).rejects.toThrow(/must match the product of shape/);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
    model.dispose();
  });
});
