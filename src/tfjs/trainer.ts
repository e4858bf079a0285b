import * as tf from '@tensorflow/tfjs-core';
import type { EpochPlan } from '../core/epoch-plan.js';
import { describeValue, InfoBatchError } from '../core/errors.js';
import { InfoBatch, type InfoBatchOptions, type RunSummary } from '../core/info-batch.js';
import { assertInteger, assertKnownKeys, assertOptionBag } from '../core/validate.js';
import { assertPerSampleLoss, InfoBatchTfjs, isTensorLike } from './info-batch-tfjs.js';
import type { StepSchedule } from './schedules.js';

/**
 * What {@link trainWithInfoBatch} needs of a model: a tfjs `LayersModel` fits, and so does any
 * object with `predict` and trainable variables.
 */
export interface TrainableModel {
  /** Forward pass; used when the model has no `apply` (a `LayersModel` is called as `apply(x, { training: true })`). */
  predict(x: tf.Tensor): tf.Tensor | tf.Tensor[];
  /** Variables to train: `tf.Variable`s, or tfjs-layers `LayerVariable`s (read with `read()`). */
  readonly trainableWeights: ReadonlyArray<tf.Variable | { read(): tf.Tensor }>;
  /** Training-mode forward pass of tfjs-layers (dropout and batch normalisation in training mode). */
  apply?(x: tf.Tensor, kwargs: { training: boolean }): unknown;
  /** Regularisation penalties of tfjs-layers (`kernelRegularizer` …), added to the objective. */
  calculateLosses?(): tf.Scalar[];
}

/** Training data: samples along axis 0 of both tensors. */
export interface TrainingData {
  /** Inputs, `[numSamples, ...]`. */
  readonly x: tf.Tensor;
  /** Targets, `[numSamples, ...]` (class ids, one-hot rows, values…), passed to `loss` as gathered. */
  readonly y: tf.Tensor;
}

/** Figures of one epoch, returned by {@link trainWithInfoBatch} and passed to `onEpochEnd`. */
export interface EpochMetrics {
  /** 0-based epoch. */
  readonly epoch: number;
  /** Samples forwarded this epoch (the plan's length). */
  readonly planLength: number;
  /** Optimizer steps this epoch. */
  readonly steps: number;
  /**
   * `Σ w·l / numSamples` over the epoch's samples: with InfoBatch's weights an unbiased estimate of
   * the mean per-sample training loss over the full data (the plain mean in full-data epochs).
   * Regularisation penalties are not included. Read from the device once per epoch.
   */
  readonly meanLoss: number;
  /** Wall-clock seconds of the batch loop, including the final wait for the loss reads. */
  readonly trainSeconds: number;
  /** `planSeconds + recordSeconds`: the pruning overhead of the epoch. */
  readonly pruneSeconds: number;
  /** Seconds spent making the epoch's plan (`beginEpoch`), before the batch loop. */
  readonly planSeconds: number;
  /**
   * Seconds spent recording this epoch's per-sample losses as scores; the recording runs between
   * training steps, so it is also part of `trainSeconds`.
   */
  readonly recordSeconds: number;
  /** `planLength / numSamples`. */
  readonly keptFraction: number;
  /** The plan's score threshold (NaN when none was used, e.g. in full-data epochs). */
  readonly threshold: number;
  /** Learning rate set at the start of the epoch, when a `learningRate` schedule is given. */
  readonly learningRate?: number;
  /** What `evaluate` returned for this epoch, when given. */
  readonly evaluation?: Readonly<Record<string, number>>;
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

/** Learning rate of each epoch, from the epoch and its plan. */
export type EpochLearningRate = (epoch: number, plan: EpochPlan) => number;

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
}

/** Result of {@link trainWithInfoBatch}. */
export interface TrainResult {
  /** Metrics of each epoch run, in order. */
  readonly epochs: readonly EpochMetrics[];
  /** Totals of the run ({@link InfoBatch.summary}). */
  readonly summary: RunSummary;
  /** The InfoBatch instance used (e.g. for `saveState()`). */
  readonly infoBatch: InfoBatch;
}

const OPTION_KEYS = ['epochs', 'batchSize', 'optimizer', 'loss', 'infobatch', 'learningRate', 'initialEpoch', 'callbacks', 'evaluate'] as const;
const CALLBACK_KEYS = ['onEpochBegin', 'onBatchEnd', 'onEpochEnd'] as const;

function isStepSchedule(value: unknown): value is StepSchedule {
  return typeof value === 'object' && value !== null && typeof (value as StepSchedule).beginEpoch === 'function' && typeof (value as StepSchedule).lr === 'function';
}

/** Sets an optimizer's learning rate: `setLearningRate` (SGD, momentum) or the `learningRate` field (Adam, RMSProp, …). */
function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  if (!Number.isFinite(lr) || lr < 0) {
    throw new InfoBatchError('OUT_OF_RANGE', `'learningRate' passed to trainWithInfoBatch gave ${describeValue(lr)}; a learning rate must be a finite number >= 0.`);
  }
  const target = optimizer as unknown as { setLearningRate?: (lr: number) => void; learningRate?: unknown };
  if (typeof target.setLearningRate === 'function') target.setLearningRate(lr);
  else if (typeof target.learningRate === 'number') target.learningRate = lr;
  else {
    throw new InfoBatchError('UNSUPPORTED', `trainWithInfoBatch cannot set the learning rate of ${optimizer.getClassName()}: it has neither setLearningRate() nor a numeric learningRate field; drop the 'learningRate' option or use a tfjs optimizer.`);
  }
}

function trainableVariables(model: TrainableModel): tf.Variable[] {
  const where = 'trainWithInfoBatch';
  return model.trainableWeights.map((w, i) => {
    const variable = 'read' in w && typeof w.read === 'function' ? w.read() : w;
    if (!(variable instanceof tf.Variable)) {
      throw new InfoBatchError('INVALID_TYPE', `'model.trainableWeights[${i}]' passed to ${where} must be a tf.Variable or a LayerVariable whose read() gives one, but got ${describeValue(variable)}.`);
    }
    return variable;
  });
}

/** Training-mode forward pass. */
function forward(model: TrainableModel, xs: tf.Tensor): tf.Tensor {
  const output = typeof model.apply === 'function' ? model.apply(xs, { training: true }) : model.predict(xs);
  if (!isTensorLike(output)) {
    throw new InfoBatchError('UNSUPPORTED', `trainWithInfoBatch supports models with one output tensor but the model returned ${describeValue(output)}.`);
  }
  return output;
}

/**
 * Checks the loss on the first samples in inference mode, outside any gradient tape, so that a
 * reduced or misshapen loss fails before training starts (an error thrown inside
 * `optimizer.minimize` leaves the tape's saved tensors behind).
 */
function checkLossShape(model: TrainableModel, data: TrainingData, loss: TrainOptions['loss'], batchSize: number): void {
  tf.tidy(() => {
    const size = Math.min(batchSize, data.x.shape[0]!);
    const xs = tf.slice(data.x, 0, size);
    const output = typeof model.apply === 'function' ? model.apply(xs, { training: false }) : model.predict(xs);
    if (!isTensorLike(output)) {
      throw new InfoBatchError('UNSUPPORTED', `trainWithInfoBatch supports models with one output tensor but the model returned ${describeValue(output)}.`);
    }
    const perSample = loss(tf.slice(data.y, 0, size), output);
    if (!isTensorLike(perSample)) {
      throw new InfoBatchError('INVALID_TYPE', `'loss' passed to trainWithInfoBatch must return a tf.Tensor of per-sample losses but returned ${describeValue(perSample)}.`);
    }
    assertPerSampleLoss("The tensor returned by 'loss' passed to trainWithInfoBatch", perSample, size);
  });
}

/** Sum of the model's regularisation penalties, or undefined when it has none. */
function regularization(model: TrainableModel): tf.Scalar | undefined {
  const penalties = typeof model.calculateLosses === 'function' ? model.calculateLosses() : [];
  if (penalties.length === 0) return undefined;
  return (penalties.length === 1 ? penalties[0]! : tf.addN(penalties)) as tf.Scalar;
}

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
  if (options.learningRate !== undefined && typeof options.learningRate !== 'function' && !isStepSchedule(options.learningRate)) {
    throw new InfoBatchError('INVALID_TYPE', `'learningRate' passed to ${where} must be a function (epoch, plan) => number or a StepSchedule (beginEpoch, lr) but got ${describeValue(options.learningRate)}.`);
  }
  if (options.evaluate !== undefined && typeof options.evaluate !== 'function') {
    throw new InfoBatchError('INVALID_TYPE', `'evaluate' passed to ${where} must be a function (epoch) => metrics but got ${describeValue(options.evaluate)}.`);
  }
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

function makeInfoBatch(numSamples: number, epochs: number, option: TrainOptions['infobatch']): InfoBatch {
  const where = 'trainWithInfoBatch';
  if (option instanceof InfoBatch) {
    if (option.numSamples !== numSamples) {
      throw new InfoBatchError('SHAPE_MISMATCH', `'infobatch' passed to ${where} is for ${option.numSamples} samples but data.x holds ${numSamples}.`);
    }
    if (option.numEpochs < epochs) {
      throw new InfoBatchError('OUT_OF_RANGE', `'infobatch' passed to ${where} plans ${option.numEpochs} epochs but 'epochs' is ${epochs}; build it with numEpochs >= epochs.`);
    }
    return option;
  }
  if (option !== undefined) {
    assertOptionBag(where, 'infobatch', option);
    for (const key of ['numSamples', 'numEpochs'] as const) {
      if (key in option) {
        throw new InfoBatchError('INVALID_OPTION', `'infobatch.${key}' passed to ${where} is not allowed: it is taken from ${key === 'numSamples' ? 'data.x' : "'epochs'"}.`);
      }
    }
  }
  return new InfoBatch({ ...option, numSamples, numEpochs: epochs });
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
export async function trainWithInfoBatch(model: TrainableModel, data: TrainingData, options: TrainOptions): Promise<TrainResult> {
  validate(model, data, options);
  const { epochs, batchSize, optimizer, loss, infobatch, learningRate, initialEpoch = 0, callbacks = {}, evaluate } = options;
  const numSamples = data.x.shape[0]!;
  const ib = makeInfoBatch(numSamples, epochs, infobatch);
  assertInteger('trainWithInfoBatch', 'initialEpoch', initialEpoch, 0, epochs - 1);
  const ibt = new InfoBatchTfjs(ib);
  const variables = trainableVariables(model);
  checkLossShape(model, data, loss, batchSize);
  const history: EpochMetrics[] = [];
  const stepSchedule = isStepSchedule(learningRate) ? learningRate : undefined;

  for (let epoch = initialEpoch; epoch < epochs; epoch++) {
    const planStart = performance.now();
    const recordedBefore = ibt.recordSeconds;
    const plan = await ibt.beginEpoch(epoch);
    const planSeconds = (performance.now() - planStart) / 1000;
    const steps = plan.numBatches(batchSize);

    let epochLr: number | undefined;
    if (stepSchedule !== undefined) {
      stepSchedule.beginEpoch(epoch, steps);
      epochLr = stepSchedule.lr(0);
    } else if (learningRate !== undefined) {
      epochLr = (learningRate as EpochLearningRate)(epoch, plan);
      setLearningRate(optimizer, epochLr);
    }
    await callbacks.onEpochBegin?.(epoch, plan, { steps });

    const trainStart = performance.now();
    let lossSum: tf.Scalar = tf.scalar(0);
    try {
      let step = 0;
      let lastLr = Number.NaN;
      for (const batch of plan.batches(batchSize)) {
        if (stepSchedule !== undefined) {
          const lr = stepSchedule.lr(step);
          if (lr !== lastLr) setLearningRate(optimizer, lr);
          lastLr = lr;
        }
        const wantCost = callbacks.onBatchEnd !== undefined;
        const { sum, cost } = tf.tidy(() => {
          const ids = tf.tensor1d(batch.indices, 'int32');
          const xs = tf.gather(data.x, ids);
          const ys = tf.gather(data.y, ids);
          let weightedSum: tf.Scalar | undefined;
          const objective = optimizer.minimize(() => {
            const dataLoss = ibt.update(loss(ys, forward(model, xs)), batch);
            weightedSum = tf.keep(tf.mul(dataLoss, batch.indices.length) as tf.Scalar); // outlives minimize's tidy; disposed below
            const penalty = regularization(model);
            return penalty === undefined ? dataLoss : (tf.add(dataLoss, penalty) as tf.Scalar);
          }, wantCost, variables);
          const next = tf.add(lossSum, weightedSum!) as tf.Scalar;
          weightedSum!.dispose();
          return { sum: next, cost: objective ?? undefined };
        });
        lossSum.dispose();
        lossSum = sum;
        if (cost !== undefined) {
          try {
            await callbacks.onBatchEnd!(epoch, step, { loss: cost });
          } finally {
            cost.dispose();
          }
        }
        step++;
      }
      await ibt.flush();
      const meanLoss = (await lossSum.data())[0]! / numSamples;
      const trainSeconds = (performance.now() - trainStart) / 1000;
      const recordSeconds = ibt.recordSeconds - recordedBefore;

      const evaluation = evaluate === undefined ? undefined : await evaluate(epoch);
      const metrics: EpochMetrics = {
        epoch,
        planLength: plan.length,
        steps,
        meanLoss,
        trainSeconds,
        pruneSeconds: planSeconds + recordSeconds,
        planSeconds,
        recordSeconds,
        keptFraction: plan.length / numSamples,
        threshold: plan.stats.threshold,
        ...(epochLr !== undefined && { learningRate: epochLr }),
        ...(evaluation !== undefined && { evaluation: { ...evaluation } }),
      };
      history.push(metrics);
      await callbacks.onEpochEnd?.(epoch, metrics);
    } finally {
      lossSum.dispose();
    }
  }
  await ibt.flush();
  return { epochs: history, summary: ib.summary(), infoBatch: ib };
}
