import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { InfoBatchError } from '../../src/core/errors.js';
import { InfoBatch } from '../../src/core/info-batch.js';
import { FullDataPolicy } from '../../src/policies/full-data.js';
import { selectBackend } from '../../src/tfjs/backend.js';
import { fitWithInfoBatch, INFOBATCH_HISTORY_KEYS, type FitWithInfoBatchArgs } from '../../src/tfjs/fit.js';
import type { SampleSource } from '../../src/tfjs/sample-source.js';

const N = 96;
const FEATURES = 6;
const CLASSES = 3;

beforeAll(async () => {
  expect(await selectBackend()).toBe('wasm');
});

/** Deterministic data: features from a seeded normal, labels from a fixed linear rule. */
function classification(n = N): { x: tf.Tensor2D; labels: tf.Tensor1D; oneHot: tf.Tensor2D } {
  return tf.tidy(() => {
    const x = tf.randomNormal([n, FEATURES], 0, 1, 'float32', 7) as tf.Tensor2D;
    const w = tf.randomNormal([FEATURES, CLASSES], 0, 1, 'float32', 8);
    const labels = tf.argMax(tf.matMul(x, w), 1).toInt() as tf.Tensor1D;
    return { x, labels, oneHot: tf.oneHot(labels, CLASSES).toFloat() as tf.Tensor2D };
  });
}

function dense(units: number, seed: number, extra: Partial<Parameters<typeof tf.layers.dense>[0]> = {}): tf.layers.Layer {
  return tf.layers.dense({ units, kernelInitializer: tf.initializers.glorotUniform({ seed }), biasInitializer: 'zeros', ...extra });
}

type Build = () => tf.LayersModel;

function softmaxModel(): tf.LayersModel {
  const model = tf.sequential({ layers: [dense(8, 1, { inputShape: [FEATURES], activation: 'relu' }), dense(CLASSES, 2, { activation: 'softmax' })] });
  model.compile({ optimizer: 'rmsprop', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

function sparseModel(): tf.LayersModel {
  const model = tf.sequential({ layers: [dense(8, 3, { inputShape: [FEATURES], activation: 'tanh' }), dense(CLASSES, 4, { activation: 'softmax' })] });
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

/** A functional model for regression, mean squared error, metric mae. */
function regressionModel(): tf.LayersModel {
  const input = tf.input({ shape: [FEATURES] });
  const hidden = dense(8, 5, { activation: 'relu' }).apply(input) as tf.SymbolicTensor;
  const output = dense(1, 6).apply(hidden) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: output });
  model.compile({ optimizer: tf.train.sgd(0.05), loss: 'meanSquaredError', metrics: ['mae'] });
  return model;
}

/**
 * Dropout with a fixed seed: tfjs's dropout then draws its mask from `randomUniform(shape, seed)`,
 * the same mask for the same batch shape in both runs, so the two trainings consume identical
 * randomness and can be compared exactly.
 */
function dropoutL2Model(): tf.LayersModel {
  const model = tf.sequential({
    layers: [
      dense(16, 9, { inputShape: [FEATURES], activation: 'relu', kernelRegularizer: tf.regularizers.l2({ l2: 0.01 }) }),
      tf.layers.dropout({ rate: 0.3, seed: 42 }),
      dense(CLASSES, 10, { activation: 'softmax', kernelRegularizer: tf.regularizers.l2({ l2: 0.01 }) }),
    ],
  });
  model.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

function fullData(numSamples: number, numEpochs: number, seed = 3): InfoBatch {
  return new InfoBatch({ numSamples, numEpochs, seed, policy: new FullDataPolicy() });
}

/**
 * tfjs's own `model.fit` on the same batches as `fitWithInfoBatch` with the full-data policy:
 * one `fit` call per epoch (`shuffle: false`) on the training samples put in that epoch's plan
 * order, which a second, identical InfoBatch instance gives.
 */
async function referenceFit(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor, epochs: number, batchSize: number, validation?: [tf.Tensor, tf.Tensor]): Promise<Record<string, number[]>> {
  const plans = fullData(x.shape[0]!, epochs);
  const history: Record<string, number[]> = {};
  for (let epoch = 0; epoch < epochs; epoch++) {
    const ids = tf.tensor1d(plans.beginEpoch(epoch).indices, 'int32');
    const xe = tf.gather(x, ids);
    const ye = tf.gather(y, ids);
    const h = await model.fit(xe, ye, { epochs: epoch + 1, initialEpoch: epoch, batchSize, shuffle: false, verbose: 0, ...(validation && { validationData: validation }) });
    tf.dispose([ids, xe, ye]);
    for (const [key, values] of Object.entries(h.history)) (history[key] ??= []).push(...(values as number[]));
  }
  return history;
}

/** Variables an optimizer holds for its state (its `getWeights()` less the iteration count it creates). */
async function optimizerSlotCount(model: tf.LayersModel): Promise<number> {
  const weights = await model.optimizer.getWeights();
  tf.dispose(weights[0]!.tensor);
  return weights.length - 1;
}

function weightsOf(model: tf.LayersModel): Float32Array[] {
  return model.getWeights().map((w) => w.dataSync() as Float32Array);
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  expect(worst).toBeLessThan(tolerance);
}

async function compareWithFit(build: Build, x: tf.Tensor, y: tf.Tensor, options: { epochs: number; batchSize: number; validationSplit?: number }): Promise<Record<string, number[]>> {
  const { epochs, batchSize, validationSplit } = options;
  const reference = build();
  const ours = build();
  // The split tfjs makes: the last samples are held out.
  const numTrain = validationSplit === undefined ? x.shape[0]! : Math.floor(x.shape[0]! * (1 - validationSplit));
  const xTrain = tf.slice(x, 0, numTrain);
  const yTrain = tf.slice(y, 0, numTrain);
  const validation: [tf.Tensor, tf.Tensor] | undefined = validationSplit === undefined ? undefined : [tf.slice(x, numTrain), tf.slice(y, numTrain)];
  const expected = await referenceFit(reference, xTrain, yTrain, epochs, batchSize, validation);

  const before = tf.memory().numTensors;
  const history = await fitWithInfoBatch(ours, x, y, { epochs, batchSize, verbose: 0, infobatch: fullData(numTrain, epochs), ...(validationSplit !== undefined && { validationSplit }) });
  // The only new tensors are the optimizer's slots (e.g. RMSProp's accumulators), made at its first step.
  expect(tf.memory().numTensors - before).toBe(await optimizerSlotCount(ours));

  for (const key of Object.keys(expected)) {
    expect(history.history[key], key).toBeDefined();
    expectClose(history.history[key] as number[], expected[key]!, 1e-4);
  }
  const expectedWeights = weightsOf(reference);
  const actualWeights = weightsOf(ours);
  expectedWeights.forEach((w, i) => expectClose(actualWeights[i]!, w, 1e-4));
  // Training changed the weights (the comparison is not between two untouched models).
  const untouched = weightsOf(build());
  expect(Math.max(...actualWeights[0]!.map((v, i) => Math.abs(v - untouched[0]![i]!)))).toBeGreaterThan(1e-3);
  expect(history.history[INFOBATCH_HISTORY_KEYS.keptFraction]).toEqual(Array(epochs).fill(1));
  tf.dispose([xTrain, yTrain, ...(validation ?? [])]);
  return history.history as Record<string, number[]>;
}

describe('fitWithInfoBatch: faithful to model.fit with the full-data policy and the same batches', () => {
  it('softmax + categoricalCrossentropy + accuracy + rmsprop, with validationSplit: same weights and History', async () => {
    const { x, oneHot, labels } = classification();
    const history = await compareWithFit(softmaxModel, x, oneHot, { epochs: 3, batchSize: 16, validationSplit: 0.25 });
    expect(Object.keys(history)).toEqual(expect.arrayContaining(['loss', 'acc', 'val_loss', 'val_acc', ...Object.values(INFOBATCH_HISTORY_KEYS)]));
    tf.dispose([x, oneHot, labels]);
  });

  it('sparseCategoricalCrossentropy with adam: same weights and History', async () => {
    const { x, oneHot, labels } = classification();
    const history = await compareWithFit(sparseModel, x, labels.toFloat(), { epochs: 3, batchSize: 20 });
    expect(Object.keys(history)).toEqual(expect.arrayContaining(['loss', 'acc']));
    tf.dispose([x, oneHot, labels]);
  });

  it('meanSquaredError regression on a functional model, metric mae: same weights and History', async () => {
    const { x, oneHot, labels } = classification();
    const target = tf.tidy(() => tf.sum(tf.mul(x, tf.linspace(-1, 1, FEATURES)), 1, true));
    const history = await compareWithFit(regressionModel, x, target, { epochs: 3, batchSize: 16, validationSplit: 0.2 });
    expect(Object.keys(history)).toEqual(expect.arrayContaining(['loss', 'mae', 'val_loss', 'val_mae']));
    tf.dispose([x, oneHot, labels, target]);
  });

  it('seeded dropout and an L2 regulariser: same weights and History (penalties in the loss)', async () => {
    const { x, oneHot, labels } = classification();
    await compareWithFit(dropoutL2Model, x, oneHot, { epochs: 3, batchSize: 16, validationSplit: 0.25 });
    tf.dispose([x, oneHot, labels]);
  });
});
