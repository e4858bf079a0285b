import * as tf from '@tensorflow/tfjs';
import { InfoBatchError } from '../core/errors.js';
import { InfoBatch } from '../core/info-batch.js';
import type { PolicyConfig } from '../core/policy.js';
import type { Dataset, DatasetSplit } from '../data/dataset.js';
import { createPolicy } from '../policies/registry.js';
import { sparseSoftmaxCrossEntropy } from '../tfjs/losses.js';
import { cosineSchedule } from '../tfjs/schedules.js';
import { trainWithInfoBatch } from '../tfjs/trainer.js';
import { createModel, type ModelKind } from './models.js';
import type { EpochRecord, RunResult } from './results.js';
import type { RunVariant } from './policy-spec.js';
import { epochRecorder, runResult } from './run-record.js';

import type { ClassificationOptimizer } from './classification-optimizers.js';
export { CLASSIFICATION_OPTIMIZERS, type ClassificationOptimizer } from './classification-optimizers.js';

/** The recipe of one training run (see ../shared/docs/bench-recipe.md). */
export interface TrainRunOptions {
  readonly label: string;
  readonly policy: PolicyConfig;
  /** How the run trains apart from its policy (rescale mode, learning-rate factor). */
  readonly variant?: RunVariant;
  readonly seed: number;
  readonly model: ModelKind;
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  /** @defaultValue 'sgd-momentum' */
  readonly optimizer?: ClassificationOptimizer;
  /** SGD momentum (unused with `'adam'`). */
  readonly momentum: number;
  /** SGD weight decay, applied as an L2 penalty of `weightDecay / 2 · Σw²` on kernels. */
  readonly weightDecay: number;
  /** Epochs at which the score histogram is recorded (before the epoch's plan). */
  readonly histogramEpochs?: readonly number[];
  /** Called after each epoch with its record. */
  readonly onEpoch?: (record: EpochRecord) => void;
}

/** Dataset tensors, made once and shared by every run of a bench. */
export interface DatasetTensors {
  readonly trainX: tf.Tensor;
  readonly trainY: tf.Tensor1D;
  readonly testX: tf.Tensor;
  readonly testY: tf.Tensor1D;
  readonly sampleShape: readonly number[];
  readonly numClasses: number;
  dispose(): void;
}

/** Uploads a dataset split as tensors (samples along axis 0, labels int32). */
export function datasetTensors(split: DatasetSplit): DatasetTensors {
  // Images come as [height, width]; models take [height, width, channels].
  const sampleShape = split.train.sampleShape.length === 2 ? [...split.train.sampleShape, 1] : split.train.sampleShape;
  const upload = (ds: Dataset) => [tf.tensor(ds.x, [ds.numSamples, ...sampleShape]), tf.tensor1d(ds.y, 'int32')] as const;
  const [trainX, trainY] = upload(split.train);
  const [testX, testY] = upload(split.test);
  return {
    trainX, trainY, testX, testY,
    sampleShape,
    numClasses: split.train.numClasses,
    dispose: () => tf.dispose([trainX, trainY, testX, testY]),
  };
}

/** Test accuracy and mean loss, evaluated in chunks (two reads per evaluation). */
export async function evaluateClassifier(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor1D, chunk = 2000): Promise<{ accuracy: number; loss: number }> {
  const n = x.shape[0]!;
  let totals = tf.tensor1d([0, 0]);
  for (let start = 0; start < n; start += chunk) {
    const size = Math.min(chunk, n - start);
    const next = tf.tidy(() => {
      const xs = tf.slice(x, start, size);
      const ys = tf.slice(y, start, size);
      const logits = model.predict(xs) as tf.Tensor2D;
      const correct = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), ys), 'float32'));
      const loss = tf.sum(sparseSoftmaxCrossEntropy(ys, logits));
      return tf.add(totals, tf.stack([correct, loss])) as tf.Tensor1D;
    });
    totals.dispose();
    totals = next;
  }
  const [correct, loss] = await totals.data();
  totals.dispose();
  return { accuracy: correct! / n, loss: loss! / n };
}

/**
 * Trains one model with one policy and seed on the bench recipe and returns its record. The
 * model's initial weights depend on the seed alone, so every policy starts from the same weights.
 */
export async function runTraining(data: DatasetTensors, options: TrainRunOptions): Promise<RunResult> {
  const { label, policy, variant = {}, seed, epochs, batchSize, learningRate, optimizer: optimizerName = 'sgd-momentum', momentum, weightDecay, histogramEpochs = [], onEpoch } = options;
  if (variant.score !== undefined && variant.score !== 'loss') {
    throw new InfoBatchError('INVALID_OPTION', `'variant.score' passed to runTraining is ${JSON.stringify(variant.score)}, but the classification recipe records the loss as the score; use a task family that offers it (diffusion, mae).`);
  }
  const model = createModel(options.model, { inputShape: data.sampleShape, numClasses: data.numClasses, seed, l2: weightDecay / 2 });
  const optimizer = optimizerName === 'adam' ? tf.train.adam(learningRate) : tf.train.momentum(learningRate, momentum);
  const numSamples = data.trainX.shape[0]!;
  const ib = new InfoBatch({ numSamples, numEpochs: epochs, seed, policy: createPolicy(policy), ...(variant.scoreEma !== undefined && { scoreSmoothing: { ema: variant.scoreEma } }) });
  const lr = cosineSchedule({ baseLr: learningRate * (variant.learningRateScale ?? 1), totalEpochs: epochs });
  const { records, callbacks, timedEvaluate } = epochRecorder(ib, { metricKey: 'accuracy', histogramEpochs, ...(onEpoch !== undefined && { onEpoch }) });
  try {
    const result = await trainWithInfoBatch(model, { x: data.trainX, y: data.trainY }, {
      epochs,
      batchSize,
      optimizer,
      loss: (yTrue, yPred) => sparseSoftmaxCrossEntropy(yTrue, yPred),
      infobatch: ib,
      learningRate: (epoch) => lr(epoch),
      ...(variant.rescaleMode !== undefined && { rescaleMode: variant.rescaleMode }),
      callbacks,
      evaluate: timedEvaluate(async () => {
        const { accuracy, loss } = await evaluateClassifier(model, data.testX, data.testY);
        return { accuracy, loss };
      }),
    });
    return runResult(label, ib, seed, records, result.summary, { rescaleMode: result.rescale.mode, learningRateScale: variant.learningRateScale ?? 1, ...(variant.scoreEma !== undefined && { scoreEma: variant.scoreEma }) });
  } finally {
    model.dispose();
    optimizer.dispose();
    // tfjs 4.22: MomentumOptimizer.dispose() does not call SGDOptimizer's, so the learning-rate
    // scalar `c` it keeps would leak one tensor per run.
    (optimizer as unknown as { c?: tf.Tensor }).c?.dispose();
  }
}

/**
 * Runs short untimed trainings (two epochs on the first samples, repeated) so that one-off costs
 * (kernel compilation, JavaScript and WebAssembly JIT tier-up, first allocations) do not land on
 * whichever timed run comes first. JIT tier-up takes a few seconds of hot code, so the rounds
 * repeat until one is no more than 10% faster than the one before (at most `maxRounds`).
 */
export async function warmUp(data: DatasetTensors, options: Pick<TrainRunOptions, 'model' | 'batchSize' | 'optimizer'>, samples = 1280, maxRounds = 6): Promise<void> {
  let previous = Infinity;
  for (let round = 0; round < maxRounds; round++) {
    const started = performance.now();
    await warmUpRound(data, options, samples);
    const seconds = performance.now() - started;
    if (seconds > 0.9 * previous) return;
    previous = seconds;
  }
}

async function warmUpRound(data: DatasetTensors, options: Pick<TrainRunOptions, 'model' | 'batchSize' | 'optimizer'>, samples: number): Promise<void> {
  // The same last partial batch and the same evaluation size as the real runs: their shapes are warm too.
  const numTrain = data.trainX.shape[0]!;
  const trainCount = Math.min(samples + (numTrain % options.batchSize), numTrain);
  const testCount = data.testX.shape[0]!;
  const small: DatasetTensors = {
    trainX: tf.slice(data.trainX, 0, trainCount),
    trainY: tf.slice(data.trainY, 0, trainCount),
    testX: tf.slice(data.testX, 0, testCount),
    testY: tf.slice(data.testY, 0, testCount),
    sampleShape: data.sampleShape,
    numClasses: data.numClasses,
    dispose: () => tf.dispose([small.trainX, small.trainY, small.testX, small.testY]),
  };
  try {
    await runTraining(small, { label: 'warm-up', policy: { name: 'infobatch' }, seed: 0, model: options.model, epochs: 2, batchSize: options.batchSize, learningRate: 0.01, ...(options.optimizer !== undefined && { optimizer: options.optimizer }), momentum: 0.9, weightDecay: 0 });
  } finally {
    small.dispose();
  }
}
