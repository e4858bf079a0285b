import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
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
    expectClose(history.history[key] as number[], expected[key]!, 1e-5);
  }
  const expectedWeights = weightsOf(reference);
  const actualWeights = weightsOf(ours);
  expectedWeights.forEach((w, i) => expectClose(actualWeights[i]!, w, 1e-5));
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

  it('rank-1 targets of a [batch, 1] output are expanded as tfjs does (meanSquaredError would broadcast otherwise)', async () => {
    const { x, oneHot, labels } = classification();
    const target = tf.tidy(() => tf.sum(tf.mul(x, tf.linspace(1, -1, FEATURES)), 1));
    expect(target.rank).toBe(1);
    await compareWithFit(regressionModel, x, target, { epochs: 2, batchSize: 32 });
    tf.dispose([x, oneHot, labels, target]);
  });

  it('binaryCrossentropy on sigmoid outputs, and a loss function giving elementwise losses: same weights and History', async () => {
    const { x, oneHot, labels } = classification();
    const sigmoid = (loss: string | ((a: tf.Tensor, b: tf.Tensor) => tf.Tensor)) => () => {
      const model = tf.sequential({ layers: [dense(8, 11, { inputShape: [FEATURES], activation: 'relu' }), dense(CLASSES, 12, { activation: 'sigmoid' })] });
      model.compile({ optimizer: tf.train.adam(0.01), loss, metrics: ['binaryAccuracy'] });
      return model;
    };
    await compareWithFit(sigmoid('binaryCrossentropy'), x, oneHot, { epochs: 2, batchSize: 16, validationSplit: 0.25 });
    // [batch, classes] squared errors: tfjs's fit takes their mean; per sample, the non-batch axes are averaged.
    const elementwise = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.squaredDifference(yTrue, yPred);
    await compareWithFit(sigmoid(elementwise), x, oneHot, { epochs: 2, batchSize: 16 });
    tf.dispose([x, oneHot, labels]);
  });

  it('seeded dropout and an L2 regulariser: same weights and History (penalties in the loss)', async () => {
    const { x, oneHot, labels } = classification();
    await compareWithFit(dropoutL2Model, x, oneHot, { epochs: 3, batchSize: 16, validationSplit: 0.25 });
    tf.dispose([x, oneHot, labels]);
  });
});

describe('fitWithInfoBatch: callbacks and stopping', () => {
  it('stops on tf.callbacks.earlyStopping({ monitor: "val_loss", patience }) as model.fit does', async () => {
    const { x, oneHot, labels } = classification();
    // minDelta so large that no epoch after the first counts as an improvement: stops after epoch 1 + patience.
    const early = () => tf.callbacks.earlyStopping({ monitor: 'val_loss', patience: 2, minDelta: 1e9 });
    const reference = softmaxModel();
    const expected = await reference.fit(x, oneHot, { epochs: 10, batchSize: 32, validationSplit: 0.25, verbose: 0, callbacks: early() });
    const model = softmaxModel();
    const history = await fitWithInfoBatch(model, x, oneHot, { epochs: 10, batchSize: 32, validationSplit: 0.25, verbose: 0, callbacks: [early()], infobatch: { seed: 1 } });
    expect(expected.epoch).toEqual([0, 1, 2]);
    expect(history.epoch).toEqual(expected.epoch);
    expect(history.history['val_loss']).toHaveLength(3);
    expect(model.stopTraining).toBe(true);
    tf.dispose([x, oneHot, labels]);
  });

  it('stops after the current batch when a callback sets model.stopTraining, and after the epoch from onEpochEnd', async () => {
    const { x, oneHot, labels } = classification();
    const batches: Array<[number, number]> = [];
    let currentEpoch = -1;
    const model = softmaxModel();
    const history = await fitWithInfoBatch(model, x, oneHot, {
      epochs: 5,
      batchSize: 16,
      validationSplit: 0.25,
      verbose: 0,
      infobatch: { seed: 2 },
      callbacks: {
        onEpochBegin: async (epoch) => {
          currentEpoch = epoch;
        },
        onBatchEnd: async (batch, logs) => {
          batches.push([currentEpoch, batch]);
          expect(typeof logs!['loss']).toBe('number');
          expect(logs!['size']).toBeGreaterThan(0);
          if (batch === 1) model.stopTraining = true;
        },
      },
    });
    expect(batches).toEqual([[0, 0], [0, 1]]);
    expect(history.epoch).toEqual([0]);
    // As in tfjs, an epoch stopped before its last batch has no validation.
    expect(history.history['val_loss']).toBeUndefined();
    expect(history.history['loss']).toHaveLength(1);

    const second = softmaxModel();
    const stopped = await fitWithInfoBatch(second, x, oneHot, {
      epochs: 5,
      batchSize: 16,
      verbose: 0,
      callbacks: { onEpochEnd: async (epoch) => void (epoch === 1 && (second.stopTraining = true)) },
    });
    expect(stopped.epoch).toEqual([0, 1]);
    tf.dispose([x, oneHot, labels]);
  });

  it('calls every hook of a tf.CustomCallback and of hook objects in an array, with tfjs params', async () => {
    const { x, oneHot, labels } = classification();
    const calls: string[] = [];
    const custom = new tf.CustomCallback({
      onTrainBegin: async () => void calls.push('trainBegin'),
      onEpochBegin: async (e) => void calls.push(`epochBegin ${e}`),
      onBatchBegin: async (b) => void calls.push(`batchBegin ${b}`),
      onBatchEnd: async (b) => void calls.push(`batchEnd ${b}`),
      onEpochEnd: async (e, logs) => void calls.push(`epochEnd ${e} ${Object.keys(logs!).sort().join(',')}`),
      onTrainEnd: async () => void calls.push('trainEnd'),
    });
    let params: Record<string, unknown> | undefined;
    const spy = new (class extends tf.Callback {
      override async onTrainBegin(): Promise<void> {
        params = this.params as Record<string, unknown>;
      }
    })();
    const model = softmaxModel();
    await fitWithInfoBatch(model, x, oneHot, { epochs: 2, batchSize: 48, initialEpoch: 1, verbose: 0, callbacks: [custom, spy] });
    expect(calls).toEqual([
      'trainBegin',
      'epochBegin 1',
      'batchBegin 0',
      'batchEnd 0',
      'batchBegin 1',
      'batchEnd 1',
      `epochEnd 1 ${['acc', 'loss', ...Object.values(INFOBATCH_HISTORY_KEYS)].sort().join(',')}`,
      'trainEnd',
    ]);
    expect(params).toMatchObject({ epochs: 2, initialEpoch: 1, samples: N, batchSize: 48, doValidation: false, metrics: ['loss', 'acc'] });
    tf.dispose([x, oneHot, labels]);
  });
});

describe('fitWithInfoBatch: InfoBatch and memory', () => {
  it('prints one line per epoch with verbose 2 (and 1 without a terminal), nothing with verbose 0 or unset (as @tensorflow/tfjs)', async () => {
    const { x, oneHot, labels } = classification();
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      await fitWithInfoBatch(softmaxModel(), x, oneHot, { epochs: 2, batchSize: 48, validationSplit: 0.25, verbose: 2 });
      expect(write.mock.calls.map((c) => String(c[0]))).toEqual([expect.stringMatching(/^Epoch 1\/2 .*loss=.* acc=.* val_loss=.* val_acc=.* kept=100\.0%\n$/), expect.stringMatching(/^Epoch 2\/2 /)]);
      write.mockClear();
      await fitWithInfoBatch(softmaxModel(), x, oneHot, { epochs: 2, batchSize: 48, verbose: 0 });
      await fitWithInfoBatch(softmaxModel(), x, oneHot, { epochs: 2, batchSize: 48 });
      expect(write).not.toHaveBeenCalled();
    } finally {
      write.mockRestore();
    }
    tf.dispose([x, oneHot, labels]);
  });

  it('prunes well-learned samples, reports it in History, and leaks no tensor per epoch or over the run', async () => {
    const { x, oneHot, labels } = classification(200);
    const model = softmaxModel();
    // Warm the optimizer's slots up so that the counts below compare like with like.
    await fitWithInfoBatch(model, x, oneHot, { epochs: 1, batchSize: 50, verbose: 0 });
    const perEpoch: number[] = [];
    const ib = new InfoBatch({ numSamples: 150, numEpochs: 8, seed: 4 });
    const before = tf.memory().numTensors;
    const history = await fitWithInfoBatch(model, x, oneHot, {
      epochs: 8,
      batchSize: 16,
      validationSplit: 0.25,
      verbose: 0,
      infobatch: ib,
      callbacks: { onEpochEnd: async () => void perEpoch.push(tf.memory().numTensors) },
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(new Set(perEpoch).size).toBe(1);
    const kept = history.history[INFOBATCH_HISTORY_KEYS.keptFraction] as number[];
    expect(kept).toHaveLength(8);
    expect(Math.min(...kept)).toBeLessThan(1);
    expect(kept.at(-1)).toBe(1); // annealing: the last epochs use the full data
    expect(ib.summary().samplesVisited).toBeLessThan(150 * 8);
    for (const key of Object.values(INFOBATCH_HISTORY_KEYS)) expect(history.history[key]).toHaveLength(8);
    tf.dispose([x, oneHot, labels]);
  });

  it('trains from an async SampleSource, loading the next batch while the current one trains', async () => {
    const { x, oneHot, labels } = classification();
    const requested: number[] = [];
    let stepsDone = 0;
    const source: SampleSource = {
      size: N,
      async gather(indices) {
        requested.push(stepsDone);
        await new Promise((resolve) => setTimeout(resolve, 1));
        return tf.tidy(() => {
          const ids = tf.tensor1d(indices, 'int32');
          return { xs: tf.gather(x, ids), ys: tf.gather(oneHot, ids) };
        });
      },
    };
    const model = softmaxModel();
    await fitWithInfoBatch(model, x, oneHot, { epochs: 1, batchSize: 32, verbose: 0 }); // warm the optimizer up
    const before = tf.memory().numTensors;
    const history = await fitWithInfoBatch(model, source, {
      epochs: 2,
      batchSize: 32,
      verbose: 0,
      validationData: [x, oneHot],
      callbacks: { onBatchEnd: async () => void stepsDone++ },
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(history.history['val_acc']).toHaveLength(2);
    // One gather for the loss check, then per epoch: batch 0 before any step, batch k+1 before step k ends.
    expect(requested).toEqual([0, 0, 0, 1, 3, 3, 4]);
    tf.dispose([x, oneHot, labels]);
  });
});

describe('fitWithInfoBatch: bad input is an InfoBatchError before any weight changes', () => {
  type Call = [tf.LayersModel, tf.Tensor, tf.Tensor, FitWithInfoBatchArgs?];
  const cases: Array<[string, (m: tf.LayersModel, d: ReturnType<typeof classification>) => Call, string, RegExp]> = [
    ['uncompiled model', (_m, d) => [tf.sequential({ layers: [dense(CLASSES, 1, { inputShape: [FEATURES] })] }), d.x, d.oneHot], 'INVALID_STATE', /not compiled/],
    ['x/y length mismatch', (m, d) => [m, d.x, d.oneHot.slice(0, 10)], 'SHAPE_MISMATCH', /'x' and 'y'.*\[96, 6\] and \[10, 3\]/],
    ['batchSize 0', (m, d) => [m, d.x, d.oneHot, { batchSize: 0 }], 'OUT_OF_RANGE', /batchSize.*0/],
    ['validationSplit 1', (m, d) => [m, d.x, d.oneHot, { validationSplit: 1 }], 'OUT_OF_RANGE', /validationSplit.*\(0, 1\).*got 1/],
    ['validationSplit 0', (m, d) => [m, d.x, d.oneHot, { validationSplit: 0 }], 'OUT_OF_RANGE', /validationSplit.*got 0/],
    ['sampleWeight', (m, d) => [m, d.x, d.oneHot, { sampleWeight: d.labels }], 'UNSUPPORTED', /'sampleWeight'.*not supported/],
    ['classWeight', (m, d) => [m, d.x, d.oneHot, { classWeight: { 0: 2 } }], 'UNSUPPORTED', /'classWeight'/],
    ['shuffle false', (m, d) => [m, d.x, d.oneHot, { shuffle: false }], 'UNSUPPORTED', /'shuffle'.*false/],
    ['unknown argument', (m, d) => [m, d.x, d.oneHot, { epoch: 3 } as unknown as FitWithInfoBatchArgs], 'INVALID_OPTION', /epoch/],
    ['wrong input shape', (m, d) => [m, d.x.slice([0, 0], [N, 4]), d.oneHot], 'SHAPE_MISMATCH', /'x'.*\[96, 4\].*\[null, 6\]/],
    ['targets the loss cannot take', (m, d) => [m, d.x, d.labels], 'SHAPE_MISMATCH', /'x' and 'y'/],
    ['bad callback', (m, d) => [m, d.x, d.oneHot, { callbacks: { onEpochEnd: 3 } as never }], 'INVALID_TYPE', /callbacks\.onEpochEnd/],
    ['infobatch for other data', (m, d) => [m, d.x, d.oneHot, { validationSplit: 0.5, infobatch: new InfoBatch({ numSamples: N, numEpochs: 1 }) }], 'SHAPE_MISMATCH', /'infobatch'.*96 samples.*48/],
    ['initialEpoch past epochs', (m, d) => [m, d.x, d.oneHot, { epochs: 2, initialEpoch: 2 }], 'OUT_OF_RANGE', /initialEpoch/],
    ['yieldEvery', (m, d) => [m, d.x, d.oneHot, { yieldEvery: 'sometimes' as never }], 'INVALID_TYPE', /yieldEvery/],
  ];

  it.each(cases)('%s', async (_name, call, code, message) => {
    const data = classification();
    const [model, x, y, args] = call(softmaxModel(), data);
    const weights = weightsOf(model);
    const before = tf.memory().numTensors;
    const error = await fitWithInfoBatch(model, x, y, args).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(InfoBatchError);
    expect((error as InfoBatchError).code).toBe(code);
    expect((error as InfoBatchError).message).toMatch(/fitWithInfoBatch/);
    expect((error as InfoBatchError).message).toMatch(message);
    expect(tf.memory().numTensors).toBe(before);
    weightsOf(model).forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(weights[i]!)));
    tf.dispose([data.x, data.oneHot, data.labels]);
  });

  it('a compiled loss that does not give one value per sample is a SCALAR_LOSS error, nothing trained or leaked', async () => {
    const { x, oneHot, labels } = classification();
    const model = tf.sequential({ layers: [dense(CLASSES, 1, { inputShape: [FEATURES], activation: 'softmax' })] });
    model.compile({ optimizer: 'sgd', loss: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.mean(tf.squaredDifference(yTrue, yPred)) as tf.Scalar });
    const weights = weightsOf(model);
    const before = tf.memory().numTensors;
    const error = await fitWithInfoBatch(model, x, oneHot, { verbose: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InfoBatchError);
    expect((error as InfoBatchError).code).toBe('SCALAR_LOSS');
    expect((error as InfoBatchError).message).toMatch(/fitWithInfoBatch.*scalar.*Reduction\.NONE/s);
    expect(tf.memory().numTensors).toBe(before);
    weightsOf(model).forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(weights[i]!)));
    tf.dispose([x, oneHot, labels]);
  });

  it('a source whose gather returns the wrong rows or no tensors, or a validationSplit with a source, is an error before training', async () => {
    const { x, oneHot, labels } = classification();
    const model = softmaxModel();
    const weights = weightsOf(model);
    const before = tf.memory().numTensors;
    const wrongRows: SampleSource = { size: N, gather: (indices) => ({ xs: tf.zeros([indices.length + 1, FEATURES]), ys: tf.zeros([indices.length + 1, CLASSES]) }) };
    await expect(fitWithInfoBatch(model, wrongRows, { verbose: 0 })).rejects.toMatchObject({ code: 'SHAPE_MISMATCH', message: expect.stringMatching(/source\.gather.*asked for 32 samples.*\[33, 6\]/) });
    const notTensors = { size: N, gather: async () => ({ xs: [1, 2], ys: tf.zeros([1, CLASSES]) }) } as unknown as SampleSource;
    await expect(fitWithInfoBatch(model, notTensors, { verbose: 0 })).rejects.toMatchObject({ code: 'INVALID_TYPE', message: expect.stringMatching(/source\.gather.*must return \{ xs: tf\.Tensor, ys: tf\.Tensor \}/) });
    const good: SampleSource = { size: N, gather: (indices) => tf.tidy(() => ({ xs: tf.gather(x, indices), ys: tf.gather(oneHot, indices) })) };
    await expect(fitWithInfoBatch(model, good, { validationSplit: 0.2 })).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/validationSplit.*SampleSource.*validationData/) });
    const wrongShape: SampleSource = { size: N, gather: (indices) => ({ xs: tf.zeros([indices.length, FEATURES + 1]), ys: tf.zeros([indices.length, CLASSES]) }) };
    await expect(fitWithInfoBatch(model, wrongShape, { verbose: 0 })).rejects.toMatchObject({ code: 'SHAPE_MISMATCH', message: expect.stringMatching(/batches of 'source'/) });
    expect(tf.memory().numTensors).toBe(before);
    weightsOf(model).forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(weights[i]!)));
    tf.dispose([x, oneHot, labels]);
  });

  it('a multi-output model is UNSUPPORTED', async () => {
    const { x, oneHot, labels } = classification();
    const input = tf.input({ shape: [FEATURES] });
    const a = dense(CLASSES, 1, { activation: 'softmax' }).apply(input) as tf.SymbolicTensor;
    const b = dense(1, 2).apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: [a, b] });
    model.compile({ optimizer: 'sgd', loss: ['categoricalCrossentropy', 'meanSquaredError'] });
    await expect(fitWithInfoBatch(model, x, oneHot)).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/2 outputs/) });
    tf.dispose([x, oneHot, labels]);
  });
});
