import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { PlanBatch } from '../../src/core/epoch-plan.js';
import { InfoBatch } from '../../src/core/info-batch.js';
import { makeSyntheticDataset } from '../../src/data/synthetic.js';
import { selectBackend } from '../../src/tfjs/backend.js';
import { InfoBatchTfjs } from '../../src/tfjs/info-batch-tfjs.js';

const NUM_FEATURES = 8;
const NUM_CLASSES = 3;

beforeAll(async () => {
  expect(await selectBackend()).toBe('wasm');
});

afterEach(() => {
  vi.restoreAllMocks();
});

function tinyModel(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.dense({ units: 16, activation: 'relu', inputShape: [NUM_FEATURES], kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
      tf.layers.dense({ units: NUM_CLASSES, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
}

function tinyData(numSamples: number): { x: tf.Tensor2D; y: tf.Tensor2D } {
  const { train } = makeSyntheticDataset({ numSamples, numTest: 1, numFeatures: NUM_FEATURES, numClasses: NUM_CLASSES, seed: 3 });
  return tf.tidy(() => ({
    x: tf.tensor2d(train.x, [numSamples, NUM_FEATURES]),
    y: tf.oneHot(tf.tensor1d(train.y, 'int32'), NUM_CLASSES).toFloat() as tf.Tensor2D,
  }));
}

function batchOf(indices: number[], weights: number[]): PlanBatch {
  return { indices: Int32Array.from(indices), weights: Float32Array.from(weights) };
}

describe('InfoBatchTfjs: the three-line integration', () => {
  it('has every score of epoch 0 recorded when beginEpoch(1) returns', async () => {
    const numSamples = 300;
    const data = tinyData(numSamples);
    const model = tinyModel();
    const optimizer = tf.train.sgd(0.1);
    const ibt = new InfoBatchTfjs(new InfoBatch({ numSamples, numEpochs: 2 }));

    const plan0 = await ibt.beginEpoch(0);
    for (const batch of plan0.batches(64)) {
      const { xs, ys } = tf.tidy(() => {
        const ids = tf.tensor1d(batch.indices, 'int32');
        return { xs: tf.gather(data.x, ids), ys: tf.gather(data.y, ids) };
      });
      optimizer.minimize(() => ibt.update(tf.losses.softmaxCrossEntropy(ys, model.predict(xs) as tf.Tensor, undefined, undefined, tf.Reduction.NONE), batch));
      tf.dispose([xs, ys]);
    }
    // The loop never awaited: every read is still in flight, nothing was recorded synchronously.
    expect(ibt.pending).toBe(plan0.numBatches(64));
    expect(ibt.summary().lossesRecorded).toBe(0);

    const plan1 = await ibt.beginEpoch(1);
    expect(ibt.pending).toBe(0);
    expect(ibt.summary().lossesRecorded).toBe(plan0.length);
    for (const i of plan0.indices) expect(Number.isNaN(ibt.ib.scores[i]!)).toBe(false);
    expect(plan1.epoch).toBe(1);

    tf.dispose([data.x, data.y]);
    model.dispose();
    optimizer.dispose();
  });
});

describe('InfoBatchTfjs.update', () => {
  it('returns sum(w·l)/B, equal to InfoBatch.weightedMean on the same values', async () => {
    const ibt = new InfoBatchTfjs(new InfoBatch({ numSamples: 10, numEpochs: 1 }));
    const losses = [0.25, 1.5, 0.75, 2.0];
    const batch = batchOf([3, 7, 1, 9], [2, 1, 2.5, 1]);
    const objective = ibt.update(tf.tensor1d(losses), batch);
    expect(objective.rank).toBe(0);
    const value = (await objective.data())[0]!;
    const expected = ibt.ib.weightedMean(losses, batch.weights);
    expect(expected).toBeCloseTo((0.5 + 1.5 + 1.875 + 2) / 4, 12);
    expect(value).toBeCloseTo(expected, 6);
    await ibt.flush();
    expect(Array.from(batch.indices, (i) => ibt.ib.scores[i])).toEqual(losses);
  });

  it('accepts a [B, 1] loss (e.g. tf.losses.meanSquaredError with Reduction.NONE)', async () => {
    const ibt = new InfoBatchTfjs(new InfoBatch({ numSamples: 4, numEpochs: 1 }));
    const loss = tf.losses.meanSquaredError(tf.tensor2d([[1], [2]]), tf.tensor2d([[0], [4]]), undefined, tf.Reduction.NONE);
    expect(loss.shape).toEqual([2, 1]);
    const objective = ibt.update(loss, batchOf([0, 2], [1, 1]));
    expect((await objective.data())[0]).toBeCloseTo(2.5, 6);
    await ibt.flush();
    expect(ibt.ib.scores[2]).toBe(4);
  });

  it.each([
    { name: 'a rank-0 loss', make: () => tf.scalar(0.7) },
    { name: 'the default (mean) reduction of tf.losses', make: () => tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d([0, 1, 2, 0], 'int32'), 3), tf.zeros([4, 3])) },
    { name: 'a single value for a batch of 4', make: () => tf.tensor1d([0.7]) },
  ])("throws SCALAR_LOSS naming tf.Reduction.NONE for $name", ({ make }) => {
    const ibt = new InfoBatchTfjs(new InfoBatch({ numSamples: 10, numEpochs: 1 }));
    const loss = make();
    expect(() => ibt.update(loss, batchOf([0, 1, 2, 3], [1, 1, 1, 1]))).toThrow(
      expect.objectContaining({ name: 'InfoBatchError', code: 'SCALAR_LOSS', message: expect.stringContaining('tf.Reduction.NONE') }),
    );
    expect(ibt.pending).toBe(0);
  });

  it("accepts a rank-0 loss on a 1-sample batch as that sample's loss", async () => {
    const ibt = new InfoBatchTfjs(new InfoBatch({ numSamples: 4, numEpochs: 1 }));
    const before = tf.memory().numTensors;
    const loss = tf.scalar(0.75);
    const objective = ibt.update(loss, batchOf([3], [2]));
    expect((await objective.data())[0]).toBeCloseTo(1.5, 6);
    await ibt.flush();
    expect(ibt.ib.scores[3]).toBe(0.75);
    objective.dispose();
    loss.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses a disposed loss tensor with an InfoBatchError, recording nothing', () => {
    const ibt = new InfoBatchTfjs(new InfoBatch({ numSamples: 4, numEpochs: 1 }));
    const loss = tf.tensor1d([1, 2]);
    loss.dispose();
    const before = tf.memory().numTensors;
    expect(() => ibt.update(loss, batchOf([0, 1], [1, 1]))).toThrow(
      expect.objectContaining({ name: 'InfoBatchError', code: 'INVALID_STATE', message: expect.stringMatching(/'perSampleLoss' passed to InfoBatchTfjs.update is a disposed tensor/) }),
    );
    expect(ibt.pending).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each([
    { name: 'per-element losses [B, C]', shape: [4, 3], message: /must have shape \[4\].*rank 2, shape \[4, 3\]/ },
    { name: 'too many losses', shape: [5], message: /must have shape \[4\].*rank 1, shape \[5\]/ },
    { name: 'too few losses', shape: [3], message: /must have shape \[4\].*rank 1, shape \[3\]/ },
  ])('throws SHAPE_MISMATCH for $name, saying what was received and expected', ({ shape, message }) => {
    const ibt = new InfoBatchTfjs(new InfoBatch({ numSamples: 10, numEpochs: 1 }));
    const before = tf.memory().numTensors;
    const loss = tf.ones(shape);
    expect(() => ibt.update(loss, batchOf([0, 1, 2, 3], [1, 1, 1, 1]))).toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH', message: expect.stringMatching(message) }));
    loss.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects a batch whose weights and indices differ in length', () => {
    const ibt = new InfoBatchTfjs(new InfoBatch({ numSamples: 10, numEpochs: 1 }));
    expect(() => ibt.update(tf.ones([2]), batchOf([0, 1], [1]))).toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH' }));
  });

  it('works inside tf.variableGrads and tf.tidy with finite gradients and no leak', async () => {
    const ibt = new InfoBatchTfjs(new InfoBatch({ numSamples: 3, numEpochs: 1 }));
    const v = tf.variable(tf.tensor1d([1, -2, 0.5]));
    const x = tf.tensor1d([0.5, 1, 2]);
    const before = tf.memory().numTensors;
    const batch = batchOf([0, 1, 2], [1, 2, 1]);
    const { value, grads } = tf.tidy(() => tf.variableGrads(() => ibt.update(tf.square(tf.mul(v, x)), batch), [v]));
    // d/dv_j of Σ w_j (v_j x_j)² / 3 = 2 w_j v_j x_j² / 3
    expect(Array.from(await grads[v.name]!.data())).toEqual([0.5 / 3, (2 * 2 * -2 * 1) / 3, (2 * 0.5 * 4) / 3].map((g) => expect.closeTo(g, 6)));
    expect((await value.data())[0]).toBeCloseTo((0.25 + 2 * 4 + 1) / 3, 6);
    tf.dispose([value, grads[v.name]!]);
    await ibt.flush();
    expect(tf.memory().numTensors).toBe(before);
    expect(Array.from(ibt.ib.scores)).toEqual([0.25, 4, 1]);
    tf.dispose([v, x]);
  });
});

describe('InfoBatchTfjs: memory', () => {
  it('keeps tf.memory().numTensors flat over 300 training steps', async () => {
    const numSamples = 200;
    const data = tinyData(numSamples);
    const model = tinyModel();
    const optimizer = tf.train.sgd(0.05);
    const ibt = new InfoBatchTfjs(new InfoBatch({ numSamples, numEpochs: 100 }));
    const before = tf.memory().numTensors;

    let steps = 0;
    for (let epoch = 0; steps < 300; epoch++) {
      for (const batch of (await ibt.beginEpoch(epoch)).batches(20)) {
        if (steps === 300) break;
        tf.tidy(() => {
          const ids = tf.tensor1d(batch.indices, 'int32');
          const xs = tf.gather(data.x, ids);
          const ys = tf.gather(data.y, ids);
          optimizer.minimize(() => ibt.update(tf.losses.softmaxCrossEntropy(ys, model.predict(xs) as tf.Tensor, undefined, undefined, tf.Reduction.NONE), batch));
        });
        steps++;
      }
    }
    await ibt.flush();
    expect(steps).toBe(300);
    expect(tf.memory().numTensors).toBe(before);
    expect(ibt.summary().lossesRecorded).toBeGreaterThan(300 * 10);

    tf.dispose([data.x, data.y]);
    model.dispose();
    optimizer.dispose();
  });
});

describe('InfoBatchTfjs: failed reads', () => {
  it('reports a NaN loss at the next flush, naming the batch, and keeps the old scores', async () => {
    const ibt = new InfoBatchTfjs(new InfoBatch({ numSamples: 10, numEpochs: 2 }));
    const plan = await ibt.beginEpoch(0);
    const [first, second] = [...plan.batches(4)];
    tf.dispose(ibt.update(tf.tensor1d([0.1, 0.2, 0.3, 0.4]), first!));
    tf.dispose(ibt.update(tf.tensor1d([0.1, Number.NaN, 0.3, 0.4]), second!));
    const ids = Array.from(second!.indices).join(', ');
    await expect(ibt.beginEpoch(1)).rejects.toMatchObject({
      name: 'InfoBatchError',
      code: 'NON_FINITE_LOSS',
      message: expect.stringContaining(`step 1 of epoch 0 (4 samples, ids ${ids})`),
    });
    expect(ibt.summary().lossesRecorded).toBe(4);
    for (const i of second!.indices) expect(ibt.ib.scores[i]).toBeNaN();
    await expect(ibt.flush()).resolves.toBeUndefined(); // reported once
    await expect(ibt.beginEpoch(1)).resolves.toMatchObject({ epoch: 1 });
  });

  it('reports a rejected read at the next flush and still disposes its copy', async () => {
    const ibt = new InfoBatchTfjs(new InfoBatch({ numSamples: 10, numEpochs: 1 }));
    const before = tf.memory().numTensors;
    vi.spyOn(tf.Tensor.prototype, 'data').mockRejectedValueOnce(new Error('WebGL context lost'));
    const loss = tf.tensor1d([1, 2]);
    tf.dispose(ibt.update(loss, batchOf([5, 6], [1, 1])));
    loss.dispose();
    await expect(ibt.flush()).rejects.toMatchObject({ code: 'INVALID_STATE', message: expect.stringMatching(/step 0 \(before any beginEpoch\).*ids 5, 6.*WebGL context lost/) });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses saveState while reads are pending', async () => {
    const ibt = new InfoBatchTfjs(new InfoBatch({ numSamples: 4, numEpochs: 1 }));
    tf.dispose(ibt.update(tf.tensor1d([1, 2]), batchOf([0, 1], [1, 1])));
    expect(() => ibt.saveState()).toThrow(expect.objectContaining({ code: 'INVALID_STATE', message: expect.stringContaining('await ibt.flush()') }));
    await ibt.flush();
    const restored = InfoBatch.loadState(ibt.saveState());
    expect(Array.from(restored.scores.subarray(0, 2))).toEqual([1, 2]);
  });

  it('rejects a non-InfoBatch argument', () => {
    expect(() => new InfoBatchTfjs({} as InfoBatch)).toThrow(expect.objectContaining({ code: 'INVALID_TYPE' }));
  });
});
