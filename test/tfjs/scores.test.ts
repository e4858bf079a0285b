import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlanBatch } from '../../src/core/epoch-plan.js';
import { InfoBatch } from '../../src/core/info-batch.js';
import { NoiseConditionedScore } from '../../src/core/noise-conditioned-score.js';
import { makeSyntheticDataset } from '../../src/data/synthetic.js';
import { FullDataPolicy, InfoBatchError } from '../../src/index.js';
import { selectBackend } from '../../src/tfjs/backend.js';
import { InfoBatchTfjs } from '../../src/tfjs/info-batch-tfjs.js';
import { softmaxCrossEntropy } from '../../src/tfjs/losses.js';
import { trainWithInfoBatch } from '../../src/tfjs/trainer.js';

const NUM_SAMPLES = 300;
const split = makeSyntheticDataset({ numSamples: NUM_SAMPLES, numTest: 1, seed: 5 });
const NUM_FEATURES = split.train.sampleShape[0]!;
const NUM_CLASSES = split.train.numClasses;
const loss = (yTrue: tf.Tensor, yPred: tf.Tensor) => softmaxCrossEntropy(yTrue, yPred);

let x: tf.Tensor2D;
let y: tf.Tensor1D;

beforeAll(async () => {
  expect(await selectBackend()).toBe('wasm');
  x = tf.tensor2d(split.train.x, [NUM_SAMPLES, NUM_FEATURES]);
  y = tf.tensor1d(split.train.y, 'int32');
});

afterAll(() => {
  tf.dispose([x, y]);
});

function mlp(seed: number): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.dense({ units: 16, activation: 'relu', inputShape: [NUM_FEATURES], kernelInitializer: tf.initializers.glorotUniform({ seed }) }),
      tf.layers.dense({ units: NUM_CLASSES, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }),
    ],
  });
}

function batchOf(indices: number[], weights: number[]): PlanBatch {
  return { indices: Int32Array.from(indices), weights: Float32Array.from(weights) };
}

async function weightsOf(model: tf.LayersModel): Promise<Float32Array[]> {
  return Promise.all(model.getWeights().map(async (w) => (await w.data()) as Float32Array));
}

/** Throws unless `fn` throws an InfoBatchError with `code` whose message matches `message`. */
async function expectRejects(fn: () => unknown, code: string, message: RegExp): Promise<void> {
  let error: unknown;
  try {
    await fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(InfoBatchError);
  expect((error as InfoBatchError).code).toBe(code);
  expect((error as InfoBatchError).message).toMatch(message);
}

describe('InfoBatchTfjs.update with scores', () => {
  it('returns the same objective and records the given scores tensor, leaving no tensor behind', async () => {
    const ibt = new InfoBatchTfjs(new InfoBatch({ numSamples: 4, numEpochs: 2 }));
    const withScores = new InfoBatchTfjs(new InfoBatch({ numSamples: 4, numEpochs: 2 }));
    const batch = batchOf([3, 0, 2], [1, 2, 0.5]);
    const before = tf.memory().numTensors;
    const losses = tf.tensor1d([0.5, 1.5, 4]);
    const scores = tf.tensor2d([[7], [8], [9]]);
    const plain = ibt.update(losses, batch);
    const scored = withScores.update(losses, batch, { scores });
    expect(await scored.data()).toEqual(await plain.data());
    expect((await plain.data())[0]).toBeCloseTo((0.5 + 3 + 2) / 3, 6);
    tf.dispose([losses, scores, plain, scored]);
    await Promise.all([ibt.flush(), withScores.flush()]);
    expect(tf.memory().numTensors).toBe(before);
    expect(Array.from(ibt.ib.scores)).toEqual([1.5, Number.NaN, 4, 0.5]);
    expect(Array.from(withScores.ib.scores)).toEqual([8, Number.NaN, 9, 7]);
  });

  it('runs a scores function on the read losses, in update order, and records what it returns', async () => {
    const ibt = new InfoBatchTfjs(new InfoBatch({ numSamples: 6, numEpochs: 2 }));
    const calls: number[][] = [];
    const before = tf.memory().numTensors;
    for (const [k, ids] of [[0, 1], [2, 3], [4, 5]].entries()) {
      const objective = tf.tidy(() => ibt.update(tf.tensor1d([k + 1, k + 2]), batchOf(ids, [1, 1]), {
        scores: (losses) => {
          calls.push(Array.from(losses));
          return Array.from(losses, (l) => l * 10 + calls.length);
        },
      }));
      objective.dispose();
    }
    expect(calls).toEqual([]); // nothing is read synchronously
    await ibt.flush();
    expect(calls).toEqual([[1, 2], [2, 3], [3, 4]]);
    expect(Array.from(ibt.ib.scores)).toEqual([11, 21, 22, 32, 33, 43]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('trains the same weights with { loss, scores } in minimize as with the loss alone', async () => {
    const models = [mlp(3), mlp(3)];
    const ibts = models.map(() => new InfoBatchTfjs(new InfoBatch({ numSamples: NUM_SAMPLES, numEpochs: 1 })));
    const optimizers = models.map(() => tf.train.sgd(0.1));
    const before = tf.memory().numTensors;
    for (const [m, model] of models.entries()) {
      const ibt = ibts[m]!;
      for (const batch of (await ibt.beginEpoch(0)).batches(64)) {
        const ids = tf.tensor1d(batch.indices, 'int32');
        const xs = tf.gather(x, ids);
        const ys = tf.gather(y, ids);
        ibt.minimize(optimizers[m]!, batch, () => {
          const perSample = loss(ys, model.apply(xs, { training: true }) as tf.Tensor);
          return m === 0 ? perSample : { loss: perSample, scores: tf.mul(perSample, 0) };
        });
        tf.dispose([ids, xs, ys]);
      }
      await ibt.flush();
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(await weightsOf(models[1]!)).toEqual(await weightsOf(models[0]!));
    expect(Array.from(ibts[1]!.ib.scores).every((s) => s === 0)).toBe(true);
    expect(Array.from(ibts[0]!.ib.scores).some((s) => s > 0)).toBe(true);
    for (const o of optimizers) o.dispose();
    for (const model of models) model.dispose();
  });

  it('rejects a minimize function that returns neither a tensor nor { loss, scores }, without leaking or recording', async () => {
    const model = mlp(4);
    const optimizer = tf.train.sgd(0.1);
    const ibt = new InfoBatchTfjs(new InfoBatch({ numSamples: NUM_SAMPLES, numEpochs: 1 }));
    const batch = Array.from((await ibt.beginEpoch(0)).batches(32))[0]!;
    const xs = tf.tidy(() => tf.gather(x, tf.tensor1d(batch.indices, 'int32')));
    const before = tf.memory().numTensors;
    const weights = await weightsOf(model);
    await expectRejects(() => ibt.minimize(optimizer, batch, () => ({ scores: tf.sum(model.apply(xs) as tf.Tensor) }) as never), 'INVALID_TYPE', /'perSampleLoss' passed to InfoBatchTfjs.minimize must return the per-sample losses as a tf.Tensor, or \{ loss, scores \}, but returned an object/);
    expect(tf.memory().numTensors).toBe(before);
    expect(await weightsOf(model)).toEqual(weights);
    await ibt.flush();
    expect(ibt.summary().lossesRecorded).toBe(0);
    tf.dispose(xs);
    optimizer.dispose();
    model.dispose();
  });

  it.each([
    ['a number', () => 3, 'INVALID_TYPE', /'options.scores' passed to InfoBatchTfjs.update must be a tf.Tensor of one score per sample or a function \(losses\) => scores but got 3\./],
    ['a tensor of another length', () => tf.tensor1d([1, 2]), 'SHAPE_MISMATCH', /'options.scores' passed to InfoBatchTfjs.update must have shape \[3\].*\[2\]/],
    ['a reduced tensor', () => tf.scalar(1), 'SCALAR_LOSS', /'options.scores' passed to InfoBatchTfjs.update is a scalar/],
  ])('rejects scores given as %s, leaving the state and the tensor count unchanged', async (_name, make, code, message) => {
    const ibt = new InfoBatchTfjs(new InfoBatch({ numSamples: 4, numEpochs: 2 }));
    const losses = tf.tensor1d([1, 2, 3]);
    const scores = make();
    const before = tf.memory().numTensors;
    await expectRejects(() => ibt.update(losses, batchOf([0, 1, 2], [1, 1, 1]), { scores: scores as never }), code, message);
    expect(tf.memory().numTensors).toBe(before);
    expect(ibt.pending).toBe(0);
    await ibt.flush();
    expect(ibt.summary().lossesRecorded).toBe(0);
    tf.dispose([losses, ...(typeof scores === 'number' ? [] : [scores])]);
  });

  it('reports a scores function that throws or returns bad scores at the next flush, naming the step, and records nothing of that batch', async () => {
    const ibt = new InfoBatchTfjs(new InfoBatch({ numSamples: 4, numEpochs: 2 }));
    const before = tf.memory().numTensors;
    for (const scores of [() => { throw new Error('boom'); }, () => [1]]) {
      tf.tidy(() => {
        ibt.update(tf.tensor1d([1, 2]), batchOf([0, 1], [1, 1]), { scores });
      });
    }
    tf.tidy(() => {
      ibt.update(tf.tensor1d([5, 6]), batchOf([2, 3], [1, 1]), { scores: (l) => l });
    });
    await expectRejects(() => ibt.flush(), 'INVALID_STATE', /step 0 \(before any beginEpoch\).*the scores function given as 'options.scores' threw: boom.*1 later batch/);
    expect(tf.memory().numTensors).toBe(before);
    expect(Array.from(ibt.ib.scores)).toEqual([Number.NaN, Number.NaN, 5, 6]);
  });
});

describe('trainWithInfoBatch with score', () => {
  it('trains exactly as without it (the objective stays on the loss) and records the scores, leaving no tensor behind', async () => {
    const run = async (score?: 'tensor' | 'function') => {
      const model = mlp(7);
      const optimizer = tf.train.adam(0.01);
      const ncs = new NoiseConditionedScore({ buckets: 2 });
      const result = await trainWithInfoBatch(model, { x, y }, {
        epochs: 2,
        batchSize: 50,
        optimizer,
        loss,
        infobatch: { policy: new FullDataPolicy(), seed: 2 },
        ...(score === 'tensor' && { score: (_yTrue: tf.Tensor, _yPred: tf.Tensor, perSample: tf.Tensor) => tf.sqrt(perSample) }),
        ...(score === 'function' && { score: () => (losses: Float32Array) => ncs.score(losses, new Int32Array(losses.length)) }),
      });
      const weights = await weightsOf(model);
      optimizer.dispose();
      model.dispose();
      return { result, weights, ncs };
    };
    const before = tf.memory().numTensors;
    const plain = await run();
    const sqrt = await run('tensor');
    const normalised = await run('function');
    expect(tf.memory().numTensors).toBe(before);
    for (const other of [sqrt, normalised]) {
      expect(other.weights).toEqual(plain.weights);
      expect(other.result.epochs.map((e) => e.meanLoss)).toEqual(plain.result.epochs.map((e) => e.meanLoss));
    }
    const raw = plain.result.infoBatch.scores;
    const rooted = sqrt.result.infoBatch.scores;
    for (let i = 0; i < NUM_SAMPLES; i++) expect(rooted[i]).toBeCloseTo(Math.sqrt(raw[i]!), 5);
    // The function saw every loss of both epochs, in one bucket: its mean is the recent losses' mean.
    expect(normalised.ncs.seen()[0]).toBe(64);
    expect(Array.from(normalised.result.infoBatch.scores).every((s) => s > 0 && Number.isFinite(s))).toBe(true);
  });

  it('rejects a score that is not a function, one that returns a bad value, and score with workers, before training and without leaking', async () => {
    const model = mlp(9);
    const optimizer = tf.train.sgd(0.1);
    const before = tf.memory().numTensors;
    const base = { epochs: 1, batchSize: 50, optimizer, loss };
    await expectRejects(() => trainWithInfoBatch(model, { x, y }, { ...base, score: 'loss' as never }), 'INVALID_TYPE', /'score' passed to trainWithInfoBatch must be a function \(yTrue, yPred, perSampleLoss\) => scores but got "loss"/);
    await expectRejects(() => trainWithInfoBatch(model, { x, y }, { ...base, score: () => 1 as never }), 'INVALID_TYPE', /'score' function used by trainWithInfoBatch must return a tf.Tensor of one score per sample or a function.*but returned 1\./);
    await expectRejects(() => trainWithInfoBatch(model, { x, y }, { ...base, score: (_t, p) => p }), 'SHAPE_MISMATCH', /scores of the 'score' function used by trainWithInfoBatch must have shape \[50\]/);
    await expectRejects(() => trainWithInfoBatch(model, { x, y }, { ...base, score: () => { throw new Error('no timesteps'); } }), 'INVALID_STATE', /'score' function used by trainWithInfoBatch threw on the first 50 samples: no timesteps/);
    await expectRejects(() => trainWithInfoBatch(model, { x, y }, { ...base, loss: softmaxCrossEntropy, workers: 2, score: (_t, _p, l) => l }), 'UNSUPPORTED', /'score' passed to trainWithInfoBatch cannot be used with 'workers'/);
    expect(tf.memory().numTensors).toBe(before);
    optimizer.dispose();
    model.dispose();
  });
});
