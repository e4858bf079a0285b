import * as tf from '@tensorflow/tfjs-core';
import type { EpochPlan } from '../core/epoch-plan.js';
import { describeValue, InfoBatchError } from '../core/errors.js';
import type { InfoBatch, InfoBatchOptions, RunSummary } from '../core/info-batch.js';
import { assertRescaleMode, type RescaleMode } from '../core/rescale.js';
import { assertInteger, assertKnownKeys, assertOptionBag } from '../core/validate.js';
import { checkLossShape, isStepSchedule, makeInfoBatch, runTraining, trainableVariables, type EpochLearningRate, type EpochMetrics, type PerSampleScore, type TrainableModel } from './engine.js';
import { InfoBatchTfjs, isTensorLike } from './info-batch-tfjs.js';
import type { RescaleChoice } from './rescale.js';
import type { BatchScores } from './info-batch-tfjs.js';
import type { NoiseConditionedScore } from '../core/noise-conditioned-score.js';
import type { StepSchedule } from './schedules.js';
import { assertRunCheckpointOptions, openRunCheckpoint, type RunCheckpointOptions } from './run-checkpoint.js';
import { tensorLoader } from './sample-source.js';
import { resolveWorkers, startWorkers, type WorkersOptions } from './parallel/workers-option.js';
import { claimModel, type ModelClaim } from './run-claim.js';

export type { EpochLearningRate, EpochMetrics, PerSampleLoss, PerSampleScore, TrainableModel } from './engine.js';
export type { CheckpointStorage, RunCheckpointOptions } from './run-checkpoint.js';

/** Training data: samples along axis 0 of both tensors. */
export interface TrainingData {
  /** Inputs, `[numSamples, ...]`. */
  readonly x: tf.Tensor;
  /** Targets, `[numSamples, ...]` (class ids, one-hot rows, values…), passed to `loss` as gathered. */
  readonly y: tf.Tensor;
}

/** Callbacks of {@link trainWithInfoBatch}; any may return a promise, which is awaited. */
export interface TrainCallbacks {
  /** After the epoch's plan is made, before its first step. */
  onEpochBegin?(epoch: number, plan: EpochPlan, info: { readonly steps: number }): void | Promise<void>;
  /**
   * After each step. `loss` is the step's objective (weighted data loss plus regularisation) as a
   * scalar tensor, disposed after the callback returns (or its promise settles); reading it with
   * `dataSync()` stalls the device every step, prefer `await loss.data()` or sampling a few steps.
   */
  onBatchEnd?(epoch: number, step: number, logs: { readonly loss: tf.Scalar }): void | Promise<void>;
  /** After the epoch, its scores recorded and `evaluate` run. */
  onEpochEnd?(epoch: number, metrics: EpochMetrics): void | Promise<void>;
}

/** Options of {@link trainWithInfoBatch}. */
export interface TrainOptions {
  /** Number of epochs; training stops before epoch `epochs` (as in tfjs `fit`). */
  readonly epochs: number;
  /** Samples per step; the last batch of an epoch may be shorter. */
  readonly batchSize: number;
  /** The optimizer (e.g. `tf.train.sgd(0.1)`). */
  readonly optimizer: tf.Optimizer;
  /** Per-sample loss, `[batch]`, e.g. `(y, p) => softmaxCrossEntropy(y, p)` (no reduction). */
  readonly loss: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;
  /**
   * What to record as each sample's score instead of its loss (the objective stays on the loss):
   * called every step with the batch's targets, the model's output and the per-sample losses, it
   * returns a tensor of one score per sample or a function that turns the losses, once read, into
   * scores (run in step order; see {@link BatchScores}). Use it when the loss follows randomness
   * drawn per visit more than the sample (diffusion timesteps and noise, MAE masks), e.g. with a
   * {@link NoiseConditionedScore}. Called once on the first batch before training, to check its
   * shape. Not with `workers` (the forward passes run on the replicas). A checkpoint does not hold
   * the state a score function keeps (save a `NoiseConditionedScore`'s `saveState()` beside it).
   * @defaultValue the per-sample losses are the scores
   *
   * @example
   * ```ts
   * const ncs = new NoiseConditionedScore({ buckets: 20, range: [0, 200] });
   * await trainWithInfoBatch(model, data, { epochs, batchSize, optimizer, loss,
   *   score: () => { const buckets = ncs.bucketsOf(lastTimesteps); return (losses) => ncs.score(losses, buckets); } });
   * ```
   */
  readonly score?: PerSampleScore;
  /**
   * The pruning: an {@link InfoBatch} over the data's samples with `numEpochs >= epochs`, or its
   * options without `numSamples` and `numEpochs` (taken from the data and `epochs`).
   * @defaultValue `new InfoBatch({ numSamples, numEpochs: epochs })`
   */
  readonly infobatch?: InfoBatch | Omit<InfoBatchOptions, 'numSamples' | 'numEpochs'>;
  /**
   * Learning rate: a function of the epoch and its plan (set once per epoch), or a per-step
   * {@link StepSchedule} such as {@link OneCycle} (told each epoch's step count, set every step).
   * The optimizer's rate is left alone when omitted.
   */
  readonly learningRate?: EpochLearningRate | StepSchedule;
  /**
   * First epoch to run, to resume a run (with the restored `InfoBatch` passed as `infobatch`).
   * @defaultValue 0
   */
  readonly initialEpoch?: number;
  /** Epoch hooks. */
  readonly callbacks?: TrainCallbacks;
  /** Called after each epoch (time not counted in `trainSeconds`); its numbers land in `metrics.evaluation`. */
  readonly evaluate?: (epoch: number) => Promise<Record<string, number>> | Record<string, number>;
  /**
   * Checkpoint the whole run (model weights, optimizer state, InfoBatch state, position, metrics
   * so far) to a folder or a {@link CheckpointStorage}, every `everySteps` steps and/or
   * `everyEpochs` epochs (default: every epoch) and at the end. When a checkpoint is there, the
   * same call continues from it: the result is the run that would have happened without the
   * interruption (see the README's resume contract).
   */
  readonly checkpoint?: RunCheckpointOptions;
  /**
   * Data-parallel training on `N` replicas (in Node: this thread and `N − 1` worker threads): each global batch of
   * `batchSize` is split over them, their gradients are summed and applied once, so a run
   * follows the same plans and, within float rounding, the same weights as on one thread. The
   * model, optimizer, schedules and callbacks stay on this thread. A number, or
   * {@link WorkersOptions} for models that are not tfjs-layers models or for your own transport.
   * @defaultValue 1 (this thread)
   */
  readonly workers?: number | WorkersOptions;
  /**
   * Where InfoBatch's up-weighting goes ({@link RescaleMode}): `'auto'` applies it to the loss for
   * SGD and momentum (the paper's form) and to each step's learning rate (`× Σ w / B`, restored
   * after the step) for Adam, RMSProp and the other adaptive optimizers, which would otherwise
   * normalise it away. The choice is in {@link TrainResult.rescale}.
   * @defaultValue 'auto'
   */
  readonly rescaleMode?: RescaleMode;
}

/** Result of {@link trainWithInfoBatch}. */
export interface TrainResult {
  /** Metrics of each epoch run, in order. */
  readonly epochs: readonly EpochMetrics[];
  /** Totals of the run ({@link InfoBatch.summary}). */
  readonly summary: RunSummary;
  /** The InfoBatch instance used (e.g. for `saveState()`). */
  readonly infoBatch: InfoBatch;
  /** The rescale mode applied with this optimizer, and why. */
  readonly rescale: RescaleChoice;
}

const OPTION_KEYS = ['epochs', 'batchSize', 'optimizer', 'loss', 'score', 'infobatch', 'learningRate', 'initialEpoch', 'callbacks', 'evaluate', 'checkpoint', 'workers', 'rescaleMode'] as const;
const CALLBACK_KEYS = ['onEpochBegin', 'onBatchEnd', 'onEpochEnd'] as const;

function validate(model: TrainableModel, data: TrainingData, options: TrainOptions): void {
  const where = 'trainWithInfoBatch';
  if (typeof model !== 'object' || model === null || typeof model.predict !== 'function' || !Array.isArray(model.trainableWeights)) {
    throw new InfoBatchError('INVALID_TYPE', `'model' passed to ${where} must be a tfjs LayersModel or an object with predict() and trainableWeights but got ${describeValue(model)}.`);
  }
  if (model.trainableWeights.length === 0) {
    throw new InfoBatchError('INVALID_OPTION', `'model' passed to ${where} has no trainable weights (build it first, e.g. give its first layer an inputShape).`);
  }
  assertOptionBag(where, 'data', data);
  if (!isTensorLike(data.x) || !isTensorLike(data.y)) {
    throw new InfoBatchError('INVALID_TYPE', `'data' passed to ${where} must be { x: tf.Tensor, y: tf.Tensor } but got x: ${describeValue(data.x)}, y: ${describeValue(data.y)}.`);
  }
  if (data.x.rank < 1 || data.y.rank < 1 || data.x.shape[0] !== data.y.shape[0] || data.x.shape[0] === 0) {
    throw new InfoBatchError('SHAPE_MISMATCH', `'data.x' and 'data.y' passed to ${where} must hold the same number of samples (axis 0), at least one, but got shapes [${data.x.shape.join(', ')}] and [${data.y.shape.join(', ')}].`);
  }
  assertOptionBag(where, 'options', options);
  assertKnownKeys(where, options, OPTION_KEYS);
  assertInteger(where, 'epochs', options.epochs, 1);
  assertInteger(where, 'batchSize', options.batchSize, 1);
  if (typeof options.optimizer !== 'object' || options.optimizer === null || typeof options.optimizer.minimize !== 'function') {
    throw new InfoBatchError('INVALID_TYPE', `'optimizer' passed to ${where} must be a tf.Optimizer (e.g. tf.train.sgd(0.1)) but got ${describeValue(options.optimizer)}.`);
  }
  if (typeof options.loss !== 'function') {
    throw new InfoBatchError('INVALID_TYPE', `'loss' passed to ${where} must be a function (yTrue, yPred) => per-sample loss tensor but got ${describeValue(options.loss)}.`);
  }
  if (options.score !== undefined && typeof options.score !== 'function') {
    throw new InfoBatchError('INVALID_TYPE', `'score' passed to ${where} must be a function (yTrue, yPred, perSampleLoss) => scores but got ${describeValue(options.score)}.`);
  }
  if (options.learningRate !== undefined && typeof options.learningRate !== 'function' && !isStepSchedule(options.learningRate)) {
    throw new InfoBatchError('INVALID_TYPE', `'learningRate' passed to ${where} must be a function (epoch, plan) => number or a StepSchedule (beginEpoch, lr) but got ${describeValue(options.learningRate)}.`);
  }
  if (options.evaluate !== undefined && typeof options.evaluate !== 'function') {
    throw new InfoBatchError('INVALID_TYPE', `'evaluate' passed to ${where} must be a function (epoch) => metrics but got ${describeValue(options.evaluate)}.`);
  }
  if (options.checkpoint !== undefined) assertRunCheckpointOptions(where, options.checkpoint);
  if (options.callbacks !== undefined) {
    assertOptionBag(where, 'callbacks', options.callbacks);
    assertKnownKeys(`${where} callbacks`, options.callbacks, CALLBACK_KEYS);
    for (const key of CALLBACK_KEYS) {
      const callback = options.callbacks[key];
      if (callback !== undefined && typeof callback !== 'function') {
        throw new InfoBatchError('INVALID_TYPE', `'callbacks.${key}' passed to ${where} must be a function but got ${describeValue(callback)}.`);
      }
    }
  }
}

/**
 * Trains a model with InfoBatch, `fit`-style: each epoch visits the InfoBatch plan in batches
 * (gathered from `data` with `tf.gather`), minimises `sum(w·l) / B` plus the model's regularisation
 * penalties in one `tf.tidy` per step, and records the per-sample losses asynchronously (no
 * per-step `dataSync`). Tensors it creates are all disposed; `data` stays the caller's.
 * @param model - a tfjs `LayersModel` (called with `training: true`) or any {@link TrainableModel}.
 * @param data - `{ x, y }` with the samples along axis 0.
 * @param options - see {@link TrainOptions}.
 * @returns each epoch's {@link EpochMetrics}, the run summary and the InfoBatch instance.
 *
 * @example
 * ```ts
 * const result = await trainWithInfoBatch(model, { x, y }, {
 *   epochs: 20, batchSize: 64, optimizer: tf.train.adam(1e-3),
 *   loss: (yTrue, yPred) => softmaxCrossEntropy(yTrue, yPred),
 * });
 * console.log(result.summary.savedFraction);
 * ```
 */
export function trainWithInfoBatch(model: TrainableModel, data: TrainingData, options: TrainOptions): Promise<TrainResult> {
  let claim: ModelClaim;
  try {
    validate(model, data, options);
    claim = claimModel('trainWithInfoBatch', model); // synchronously: a second run on this model is refused here
  } catch (error) {
    return Promise.reject(error);
  }
  return train(model, data, options).finally(() => claim.release());
}

async function train(model: TrainableModel, data: TrainingData, options: TrainOptions): Promise<TrainResult> {
  const where = 'trainWithInfoBatch';
  const { epochs, batchSize, optimizer, loss, score, infobatch, learningRate, initialEpoch = 0, callbacks = {}, evaluate, checkpoint, workers, rescaleMode = 'auto' } = options;
  assertRescaleMode(where, 'rescaleMode', rescaleMode);
  const parallel = resolveWorkers(where, model, loss, workers);
  if (parallel !== undefined && score !== undefined) {
    throw new InfoBatchError('UNSUPPORTED', `'score' passed to ${where} cannot be used with 'workers': the forward passes it reads run on the replicas, which send back only losses. Drop 'workers', or record losses as scores.`);
  }
  const numSamples = data.x.shape[0]!;
  const ib = makeInfoBatch(where, numSamples, epochs, infobatch, 'data.x', options.batchSize);
  assertInteger(where, 'initialEpoch', initialEpoch, 0, epochs - 1);
  const ibt = new InfoBatchTfjs(ib, { rescaleMode });
  const rescale = ibt.rescaleFor(optimizer);
  trainableVariables(model, where);
  const loader = tensorLoader(data.x, data.y);
  await checkLossShape({ where, model, loader, numSamples, batchSize, loss, ...(score !== undefined && { score }) });
  const { onEpochBegin, onBatchEnd, onEpochEnd } = callbacks;
  const history: EpochMetrics[] = [];
  const opened = checkpoint === undefined ? undefined : await openRunCheckpoint(checkpoint, {
    where, model, optimizer, ibt, numSamples, epochs, batchSize,
    frontState: () => ({ epochs: history }),
    isFrontState: (front) => {
      const saved = (front as { epochs?: unknown } | null)?.epochs;
      return Array.isArray(saved) && saved.every((m) => typeof m === 'object' && m !== null && typeof (m as EpochMetrics).epoch === 'number');
    },
  });
  const resumed = opened?.resumed;
  if (resumed !== undefined) {
    history.push(...(resumed.front as { epochs: EpochMetrics[] }).epochs);
    if (resumed.finished) return { epochs: history, summary: ib.summary(), infoBatch: ib, rescale };
  }
  const runner = parallel === undefined ? undefined : await startWorkers(where, parallel, model, optimizer, ibt);
  await runTraining({
    where,
    model,
    loader,
    numSamples,
    epochs,
    batchSize,
    optimizer,
    loss,
    ...(score !== undefined && { score }),
    ibt,
    initialEpoch: resumed?.next.epoch ?? initialEpoch,
    initialStep: resumed?.next.step ?? 0,
    initialLossSum: resumed?.epochLossSum ?? 0,
    ...(opened && { checkpointer: opened.checkpointer }),
    wantCost: onBatchEnd !== undefined,
    ...(learningRate !== undefined && { learningRate }),
    ...(evaluate !== undefined && { evaluate }),
    ...(runner !== undefined && { runner }),
    hooks: {
      ...(onEpochBegin && { onEpochBegin: (epoch, plan, info) => onEpochBegin.call(callbacks, epoch, plan, info) }),
      ...(onBatchEnd && { onBatchEnd: (position, output) => onBatchEnd.call(callbacks, position.epoch, position.step, { loss: output.cost! }) }),
      onEpochEnd: async (epoch, metrics) => {
        history.push(metrics);
        await onEpochEnd?.call(callbacks, epoch, metrics);
      },
    },
  }).finally(() => runner?.close());
  return { epochs: history, summary: ib.summary(), infoBatch: ib, rescale };
}
