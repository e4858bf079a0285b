/**
 * `fitWithInfoBatch`: tfjs's `model.fit` with InfoBatch, a one-line swap.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { History, LayersModel, ModelFitArgs } from '@tensorflow/tfjs-layers';
import { describeValue, InfoBatchError } from '../core/errors.js';
import type { EpochPlan } from '../core/epoch-plan.js';
import { InfoBatch } from '../core/info-batch.js';
import { assertRescaleMode, objectiveDenominator, type RescaleMode } from '../core/rescale.js';
import { assertInteger, assertKnownKeys, assertNumberInRange, assertOptionBag } from '../core/validate.js';
import { compiledTraining } from './compiled-loss.js';
import { checkLossShape, regularization, runTraining, trainableVariables, type BatchLoader, type BatchTensors, type EpochMetrics, type TrainableModel } from './engine.js';
import type { ParallelStepRunner } from './parallel/coordinator.js';
import { resolveWorkers, startWorkers, type WorkersOptions } from './parallel/workers-option.js';
import { configureCallbacks, standardizeCallbacks, type AveragerState, type EpochAverager, type FitLogs } from './fit-callbacks.js';
import { createFitLogger, defaultVerbosity, type FitLogger, type Verbosity } from './fit-progress.js';
import { openFitRun, type FitInfoBatchOptions } from './fit-session.js';
import { InfoBatchTfjs, isTensorLike } from './info-batch-tfjs.js';
import { assertRunCheckpointOptions, openRunCheckpoint, type RunCheckpointOptions } from './run-checkpoint.js';
import { claimModel, type ModelClaim } from './run-claim.js';
import { isSampleSource, sourceLoader, tensorLoader, type SampleSource } from './sample-source.js';

/** Inputs or targets as `model.fit` takes them for a one-input, one-output model: a tensor, `[tensor]` or `{ name: tensor }`. */
export type FitTensors = tf.Tensor | tf.Tensor[] | { [name: string]: tf.Tensor };

/** `model.fit`'s arguments, plus the InfoBatch to prune with. */
export interface FitWithInfoBatchArgs extends ModelFitArgs {
  /**
   * The pruning: its options ({@link FitInfoBatchOptions}: `pruneRatio`, `targetSaving`, `delta`,
   * `threshold`, `seed`, `rescaleMode`, `totalEpochs` for a run that spans a loop of calls, …), or
   * an {@link InfoBatch} over the training samples (after `validationSplit`) to read its
   * `summary()` or `saveState()` afterwards. An instance passed to consecutive calls continues
   * one run across them (build it with `numEpochs` = the calls' total epochs). The seed also
   * shuffles the batches; each call that is a run of its own uses `seed + k` for the model's
   * k-th such call, so calls in a loop visit the samples in new orders.
   * @defaultValue `{}`: `new InfoBatch({ numSamples, numEpochs: epochs })`, pruneRatio 0.5, delta 0.875
   */
  readonly infobatch?: InfoBatch | FitInfoBatchOptions;
  /**
   * Batch size of the validation pass (`validationData` or `validationSplit`); `model.fit`
   * accepts it too (it applies to `fitDataset`).
   * @defaultValue `batchSize`
   */
  readonly validationBatchSize?: number;
  /**
   * Checkpoint the whole run (model weights, optimizer state, InfoBatch state, position, History
   * so far) to a folder or a {@link CheckpointStorage}, every `everySteps` steps and/or
   * `everyEpochs` epochs (default: every epoch) and at the end. When a checkpoint is there, the
   * same call continues from it and returns the History of the whole run (see the README's
   * resume contract).
   */
  readonly checkpoint?: RunCheckpointOptions;
  /**
   * Data-parallel training on `N` replicas (in Node: this thread and `N − 1` worker threads), as in
   * {@link trainWithInfoBatch}: each batch is split over them and their summed gradient is applied
   * once, here. The replicas rebuild the model from `model.toJSON()` and compile it with the same
   * loss, which must therefore be given by name (`loss: 'categoricalCrossentropy'`).
   * @defaultValue 1 (this thread)
   */
  readonly workers?: number | WorkersOptions;
  /**
   * Where InfoBatch's up-weighting goes ({@link RescaleMode}): `'auto'` applies it to the loss for
   * `'sgd'`/`'momentum'` and to each step's learning rate for `'adam'`, `'rmsprop'` and the other
   * adaptive optimizers. The mode applied is in `history.params.infobatch_rescale_mode`.
   * @defaultValue 'auto'
   */
  readonly rescaleMode?: RescaleMode;
}

/**
 * Keys {@link fitWithInfoBatch} adds to each epoch of `history.history`, next to tfjs's
 * (`loss`, metrics, `val_*`). Seconds are wall-clock.
 */
export const INFOBATCH_HISTORY_KEYS = {
  /** Samples visited this epoch / training samples. */
  keptFraction: 'infobatch_kept_fraction',
  /** Seconds spent making the epoch's plan. */
  planSeconds: 'infobatch_plan_seconds',
  /** Seconds spent recording the per-sample losses as scores (part of the training seconds). */
  recordSeconds: 'infobatch_record_seconds',
  /** Seconds of the epoch's batch loop (validation excluded). */
  trainSeconds: 'infobatch_train_seconds',
  /** `Σ w·l / numSamples`: an unbiased estimate of the mean per-sample training loss (no penalties). */
  meanLoss: 'infobatch_mean_loss',
  /**
   * The objective minimised, `Σ w·l / B` (`Σ w·l / Σ w` in rescale mode `'step'`) plus the
   * regularisation penalties, averaged over the epoch's batches by size: what `loss` was before
   * 0.2. It jumps when pruning starts (the kept samples are the harder ones, up-weighted), so do
   * not monitor it; `loss` is the comparable figure. In each batch's logs too.
   */
  objective: 'infobatch_objective',
  /** Mean factor applied to the learning rate by rescale mode `'step'` (1 in mode `'loss'`). */
  meanStepScale: 'infobatch_step_scale',
} as const;

const WHERE = 'fitWithInfoBatch';
const SUPPORTED_KEYS = ['batchSize', 'epochs', 'verbose', 'callbacks', 'validationSplit', 'validationData', 'validationBatchSize', 'shuffle', 'initialEpoch', 'yieldEvery', 'infobatch', 'checkpoint', 'workers', 'rescaleMode'] as const;
/** Models whose compiled loss passed the per-sample check, with the data shapes it was checked on. */
const lossChecked = new WeakMap<object, { lossFunction: unknown; key: string }>();
/** Hidden per-batch figures summed by the epoch averager (never seen by callbacks). */
const SUM_WEIGHTS = '__infobatch_weight_sum';
const SUM_PENALTY = '__infobatch_penalty_sum';
const SUM_CONTROL = '__infobatch_control_sum';
const SUM_OBJECTIVE_EXTRA = '__infobatch_objective_extra';
const MEAN_SCORE = '__infobatch_mean_score';

/**
 * The control variates of a pruned epoch's loss estimate, from the scores its plan was made
 * from: the mean score over all samples (unscored ones count 0) and, per step, `Σ w·score` of its
 * batch. Empty (zeros) for an epoch that visits every sample.
 */
function controlSums(plan: EpochPlan, scores: Readonly<Float32Array>, batchSize: number, steps: number): { meanScore: number; perStep: Float64Array } {
  const perStep = new Float64Array(steps);
  if (plan.length === scores.length) return { meanScore: 0, perStep };
  let total = 0;
  for (let i = 0; i < scores.length; i++) {
    const score = scores[i]!;
    if (score === score) total += score;
  }
  const { indices, weights } = plan;
  for (let k = 0; k < steps; k++) {
    let sum = 0;
    const end = Math.min(plan.length, (k + 1) * batchSize);
    for (let j = k * batchSize; j < end; j++) {
      const score = scores[indices[j]!]!;
      if (score === score) sum += weights[j]! * score;
    }
    perStep[k] = sum;
  }
  return { meanScore: total / scores.length, perStep };
}
const UNSUPPORTED_KEYS: Readonly<Record<string, string>> = {
  sampleWeight: 'InfoBatch sets the weight of every sample itself (the inverse of its keep probability); fold fixed weights into the loss function instead',
  classWeight: 'InfoBatch sets the weight of every sample itself; fold class weights into a custom loss function instead',
  stepsPerEpoch: 'the number of steps of an epoch is set by its InfoBatch plan',
  validationSteps: 'it only applies with stepsPerEpoch',
};

interface ModelInternals {
  isTraining?: boolean;
  stopTraining: boolean;
  history?: History;
  standardizeUserDataXY?(x: tf.Tensor, y: tf.Tensor, checkBatchAxis: boolean, batchSize: number): unknown;
}

/**
 * Runs tfjs's own checks of `x`/`y` against the model's input and output shapes and its loss
 * (`standardizeUserDataXY`, synchronous, in a `tf.tidy` so that the copies it makes, also on
 * error, are disposed).
 */
function checkAgainstModel(model: LayersModel, x: tf.Tensor, y: tf.Tensor, names: string, batchSize: number): void {
  const internals = model as unknown as ModelInternals;
  if (typeof internals.standardizeUserDataXY !== 'function') return;
  try {
    tf.tidy(() => {
      internals.standardizeUserDataXY!(x, y, false, batchSize);
    });
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new InfoBatchError('SHAPE_MISMATCH', `${names} passed to ${WHERE} (shapes [${x.shape.join(', ')}] and [${y.shape.join(', ')}]) do not fit the model: ${reason}`, { cause });
  }
}

/** Rank-1 inputs and targets become `[n, 1]`, as tfjs's `fit` standardises them. */
function expandRank1(loader: BatchLoader): BatchLoader {
  return {
    async load(indices: Int32Array): Promise<BatchTensors> {
      const { xs, ys } = await loader.load(indices);
      if (xs.rank !== 1 && ys.rank !== 1) return { xs, ys };
      const expanded = tf.tidy(() => ({ xs: xs.rank === 1 ? tf.expandDims(xs, 1) : tf.clone(xs), ys: ys.rank === 1 ? tf.expandDims(ys, 1) : tf.clone(ys) }));
      tf.dispose([xs, ys]);
      return expanded;
    },
  };
}

/** Each batch of a source checked as tfjs checks `fit`'s data. */
function checkedSource(loader: BatchLoader, model: LayersModel, batchSize: number): BatchLoader {
  return {
    async load(indices: Int32Array): Promise<BatchTensors> {
      const batch = await loader.load(indices);
      try {
        checkAgainstModel(model, batch.xs, batch.ys, "The batches of 'source'", batchSize);
      } catch (error) {
        tf.dispose([batch.xs, batch.ys]);
        throw error;
      }
      return batch;
    },
  };
}

/**
 * The one tensor of `x` or `y` as `model.fit` takes them for a one-input (one-output) model: the
 * tensor itself, `[tensor]`, or `{ name: tensor }` with the model's input (output) name.
 */
function oneTensor(value: unknown, name: string, role: 'input' | 'output', modelNames: readonly string[]): tf.Tensor {
  if (isTensorLike(value)) return value;
  const expected = modelNames[0] ?? role;
  const forms = `one tf.Tensor, [tensor] or { ${JSON.stringify(expected)}: tensor }`;
  if (Array.isArray(value)) {
    if (value.length === 1 && isTensorLike(value[0])) return value[0];
    throw new InfoBatchError(
      value.length === 1 ? 'INVALID_TYPE' : 'UNSUPPORTED',
      `'${name}' passed to ${WHERE} is an array of ${value.length} item${value.length === 1 ? ' that is not a tensor' : 's'} but the model has one ${role}: pass ${forms}${value.length > 1 ? ' (models with several inputs or outputs: use trainWithInfoBatch)' : ''}. Got ${value.length === 1 ? describeValue(value[0]) : describeValue(value)}.`,
    );
  }
  if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    const keys = Object.keys(value);
    const tensor = (value as Record<string, unknown>)[expected];
    if (keys.length === 1 && keys[0] === expected && isTensorLike(tensor)) return tensor;
    throw new InfoBatchError(
      'INVALID_OPTION',
      `'${name}' passed to ${WHERE} maps ${keys.length === 0 ? 'no name' : keys.map((k) => JSON.stringify(k)).join(', ')} but the model's one ${role} is named ${JSON.stringify(expected)}: pass ${forms}${keys.length === 1 && keys[0] === expected ? `; got ${describeValue(tensor)} for it` : ''}.`,
    );
  }
  throw new InfoBatchError('INVALID_TYPE', `'${name}' passed to ${WHERE} must be ${forms} but got ${describeValue(value)}.`);
}

function assertSameLength(x: tf.Tensor, y: tf.Tensor, names: [string, string]): void {
  if (x.rank < 1 || y.rank < 1 || x.shape[0] !== y.shape[0] || x.shape[0] === 0) {
    throw new InfoBatchError('SHAPE_MISMATCH', `'${names[0]}' and '${names[1]}' passed to ${WHERE} must hold the same number of samples (axis 0), at least one, but got shapes [${x.shape.join(', ')}] and [${y.shape.join(', ')}].`);
  }
}

function validateArgs(args: FitWithInfoBatchArgs): void {
  assertOptionBag(WHERE, 'args', args);
  for (const [key, why] of Object.entries(UNSUPPORTED_KEYS)) {
    const value = (args as Record<string, unknown>)[key];
    if (value !== undefined && value !== null) {
      throw new InfoBatchError('UNSUPPORTED', `'${key}' passed to ${WHERE} is not supported (got ${describeValue(value)}): ${why}.`);
    }
  }
  assertKnownKeys(WHERE, args, [...SUPPORTED_KEYS, ...Object.keys(UNSUPPORTED_KEYS)]);
  if (args.shuffle !== undefined && args.shuffle !== true) {
    throw new InfoBatchError('UNSUPPORTED', `'shuffle' passed to ${WHERE} is ${describeValue(args.shuffle)}, but InfoBatch always visits each epoch's samples in a shuffled order, seeded by the InfoBatch seed; drop 'shuffle' (or pass true), and set 'infobatch: { seed }' to change the order.`);
  }
  if (args.checkpoint !== undefined) assertRunCheckpointOptions(WHERE, args.checkpoint);
  if (args.rescaleMode !== undefined) assertRescaleMode(WHERE, 'rescaleMode', args.rescaleMode);
  if (args.verbose !== undefined && args.verbose !== 0 && args.verbose !== 1 && args.verbose !== 2) {
    throw new InfoBatchError('OUT_OF_RANGE', `'verbose' passed to ${WHERE} must be 0, 1 or 2 but got ${describeValue(args.verbose)}.`);
  }
  const { yieldEvery } = args;
  if (yieldEvery !== undefined && !['auto', 'batch', 'epoch', 'never'].includes(yieldEvery as string)) {
    if (typeof yieldEvery !== 'number') {
      throw new InfoBatchError('INVALID_TYPE', `'yieldEvery' passed to ${WHERE} must be 'auto', 'batch', 'epoch', 'never' or a number of milliseconds but got ${describeValue(yieldEvery)}.`);
    }
    assertNumberInRange(WHERE, 'yieldEvery', yieldEvery, 0, Number.MAX_VALUE);
  }
  if (args.validationSplit !== undefined) {
    if (typeof args.validationSplit !== 'number' || !(args.validationSplit > 0 && args.validationSplit < 1)) {
      throw new InfoBatchError('OUT_OF_RANGE', `'validationSplit' passed to ${WHERE} must be a number in (0, 1), the fraction of samples held out at the end, but got ${describeValue(args.validationSplit)}.`);
    }
    if (args.validationData !== undefined) {
      throw new InfoBatchError('INVALID_OPTION', `${WHERE} got both 'validationData' and 'validationSplit'; give one of them (tfjs would silently ignore 'validationSplit').`);
    }
  }
  if (args.validationData !== undefined) {
    const data = args.validationData as unknown;
    if (!Array.isArray(data) || (data.length !== 2 && data.length !== 3)) {
      throw new InfoBatchError('INVALID_TYPE', `'validationData' passed to ${WHERE} must be [xVal, yVal] but got ${describeValue(data)}.`);
    }
    if (data.length === 3) {
      throw new InfoBatchError('UNSUPPORTED', `'validationData' passed to ${WHERE} has 3 items [xVal, yVal, sampleWeight]; validation sample weights are not supported (nor by tfjs's fit): pass [xVal, yVal].`);
    }
  }
  if (args.validationBatchSize !== undefined) assertInteger(WHERE, 'validationBatchSize', args.validationBatchSize, 1);
}

/** Input shape check with a message naming the argument (tfjs's own check follows). */
function assertInputShape(model: LayersModel, x: tf.Tensor, name: string): void {
  const expected = (model.inputs[0]?.shape ?? []) as Array<number | null>;
  const ok = expected.length === x.rank && expected.every((d, axis) => axis === 0 || d === null || d === x.shape[axis]);
  if (!ok) {
    throw new InfoBatchError('SHAPE_MISMATCH', `'${name}' passed to ${WHERE} has shape [${x.shape.join(', ')}] but the model's input has shape [${expected.map((d) => d ?? 'null').join(', ')}] (null: any size).`);
  }
}

/**
 * Trains a compiled tfjs `LayersModel` with InfoBatch: a drop-in for `model.fit(x, y, args)`.
 * It uses what `compile` set (the optimizer; the loss, computed per sample exactly as tfjs
 * defines it; the metrics) plus the model's regularisation penalties, runs the forward pass in
 * training mode, and honours `epochs` (0: an empty History), `batchSize`, `initialEpoch`,
 * `validationData`, `validationSplit` (split off the end first, as tfjs does; only the training
 * part is pruned), `validationBatchSize`, `callbacks` (hook objects,
 * `tf.callbacks.earlyStopping(…)`, `tf.CustomCallback`, arrays of them), `model.stopTraining`,
 * `verbose` and `yieldEvery`. `x` and `y` may be a tensor, `[tensor]` or `{ name: tensor }`.
 * Batches are always shuffled, seeded by the InfoBatch seed.
 *
 * It returns a tfjs `History` with the keys `model.fit` gives (`loss`, metric names, `val_*`)
 * plus {@link INFOBATCH_HISTORY_KEYS}. `loss` means what it means for `model.fit`, in the epoch
 * logs and in each batch's: the mean training loss over the data (plus the regularisation
 * penalties), estimated without bias from a pruned epoch's up-weighted samples (`Σ w·l / Σ w`),
 * so it is comparable across pruned and full epochs and `earlyStopping({ monitor: 'loss' })`
 * stops when the loss stops improving, not when pruning starts (pruned epochs are aligned to
 * `batchSize`, `infobatch.alignToBatchSize`, so no step runs on a handful of up-weighted samples:
 * under SGD those made the loss itself jump). The objective actually minimised, which jumps when
 * pruning starts, is `infobatch_objective`.
 *
 * Output, as `model.fit` prints in your flavour of tfjs: with `verbose` unset, nothing under
 * `@tensorflow/tfjs` and a progress bar under `@tensorflow/tfjs-node`; `verbose: 1` a progress
 * bar per batch with an ETA on a terminal (one line per epoch elsewhere); `verbose: 2` one line
 * per epoch.
 *
 * In a loop (`for (…) await model.fit(x, y, { epochs: 1 })`, as tfjs examples train): add
 * `infobatch: { totalEpochs: N }` with the loop's total, and the calls continue one InfoBatch run
 * kept with the model (scores, epoch count and shuffles, pruning, annealing). Without it, each
 * call is a run of its own: a 1-epoch run prunes nothing (a warning says so once per model).
 *
 * Data larger than memory: pass a random-access {@link SampleSource} instead of `x, y`. A
 * streaming `tf.data.Dataset` (`model.fitDataset`) cannot be pruned: InfoBatch chooses each
 * epoch's samples before the epoch starts, which needs random access.
 *
 * Not supported (a clear InfoBatchError): models with several inputs or outputs, `sampleWeight`,
 * `classWeight`, `stepsPerEpoch`, `shuffle: false`.
 *
 * @param model - a compiled `tf.LayersModel` (sequential or functional), one input, one output.
 * @param x - inputs, `[numSamples, ...]`: a tensor, `[tensor]` or `{ inputName: tensor }`.
 * @param y - targets, `[numSamples, ...]`, as `model.fit` takes them.
 * @param args - `model.fit`'s arguments, plus `infobatch`.
 * @returns the run's `History`.
 *
 * @example
 * ```ts
 * model.compile({ optimizer: 'rmsprop', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
 * // before: const history = await model.fit(x, y, { epochs: 20, batchSize: 128, validationSplit: 0.15 });
 * const history = await fitWithInfoBatch(model, x, y, { epochs: 20, batchSize: 128, validationSplit: 0.15 });
 *
 * // A loop of short calls continues one run when it knows the loop's total:
 * for (let i = 0; i < 40; i++) {
 *   await fitWithInfoBatch(model, x, y, { epochs: 1, batchSize: 128, infobatch: { totalEpochs: 40 } });
 * }
 * ```
 */
export function fitWithInfoBatch(model: LayersModel, x: FitTensors, y: FitTensors, args?: FitWithInfoBatchArgs): Promise<History>;
/**
 * Trains a compiled tfjs `LayersModel` with InfoBatch on a random-access {@link SampleSource}
 * (data larger than memory; the next batch is loaded while the current one trains). Validation
 * needs `validationData` (`validationSplit` would have to load the held-out part).
 * @param model - a compiled `tf.LayersModel`, one input, one output.
 * @param source - `{ size, gather(indices) }` returning `{ xs, ys }`, sync or async.
 * @param args - `model.fit`'s arguments (not `validationSplit`), plus `infobatch`.
 * @returns the run's `History`.
 *
 * @example
 * ```ts
 * const history = await fitWithInfoBatch(model, { size: n, gather: (ids) => readBatch(ids) }, { epochs: 10, batchSize: 256 });
 * ```
 */
export function fitWithInfoBatch(model: LayersModel, source: SampleSource, args?: FitWithInfoBatchArgs): Promise<History>;
export function fitWithInfoBatch(userModel: LayersModel, xOrSource: FitTensors | SampleSource, yOrArgs?: FitTensors | FitWithInfoBatchArgs, maybeArgs?: FitWithInfoBatchArgs): Promise<History> {
  let claim: ModelClaim;
  try {
    claim = claimModel(WHERE, userModel); // synchronously: a second run on this model is refused here
  } catch (error) {
    return Promise.reject(error);
  }
  return fit(userModel, xOrSource, yOrArgs, maybeArgs).finally(() => claim.release());
}

async function fit(userModel: LayersModel, xOrSource: FitTensors | SampleSource, yOrArgs?: FitTensors | FitWithInfoBatchArgs, maybeArgs?: FitWithInfoBatchArgs): Promise<History> {
  if (typeof userModel !== 'object' || userModel === null || typeof (userModel as Partial<LayersModel>).fit !== 'function' || !Array.isArray((userModel as Partial<LayersModel>).inputs)) {
    throw new InfoBatchError('INVALID_TYPE', `'model' passed to ${WHERE} must be a compiled tf.LayersModel (tf.sequential or tf.model) but got ${describeValue(userModel)}.`);
  }
  // A tf.Sequential trains through the LayersModel it wraps (its fit, evaluate, stopTraining and
  // history are that model's), so that is the model used here too.
  const inner = (userModel as unknown as { model?: unknown }).model;
  const model = typeof inner === 'object' && inner !== null && typeof (inner as Partial<LayersModel>).fit === 'function' ? (inner as LayersModel) : userModel;
  const source = isSampleSource(xOrSource) ? xOrSource : undefined;
  if (source !== undefined && isTensorLike(yOrArgs)) {
    throw new InfoBatchError('INVALID_TYPE', `${WHERE}(model, source, args) takes no 'y': the source's gather returns the targets with the inputs, but a tf.Tensor of shape [${yOrArgs.shape.join(', ')}] was passed after the source. Drop it (or pass x and y tensors instead of a source).`);
  }
  const args: FitWithInfoBatchArgs = (source !== undefined ? (yOrArgs as FitWithInfoBatchArgs | undefined) : maybeArgs) ?? {};
  const compiled = compiledTraining(model, WHERE);
  validateArgs(args);
  const batchSize = args.batchSize ?? 32;
  const epochs = args.epochs ?? 1;
  const initialEpoch = args.initialEpoch ?? 0;
  assertInteger(WHERE, 'batchSize', batchSize, 1);
  assertInteger(WHERE, 'epochs', epochs, 0);
  assertInteger(WHERE, 'initialEpoch', initialEpoch, 0, Math.max(0, epochs - 1));
  const verbose: Verbosity = args.verbose ?? defaultVerbosity();
  const validationBatchSize = args.validationBatchSize ?? batchSize;
  const nestedMode = args.infobatch instanceof InfoBatch ? undefined : (args.infobatch as FitInfoBatchOptions | undefined)?.rescaleMode;
  if (nestedMode !== undefined && args.rescaleMode !== undefined && nestedMode !== args.rescaleMode) {
    throw new InfoBatchError('INVALID_OPTION', `${WHERE} got 'rescaleMode' ${describeValue(args.rescaleMode)} and 'infobatch.rescaleMode' ${describeValue(nestedMode)}; give one of them.`);
  }

  let loader: BatchLoader;
  let numTrain: number;
  let numAll: number;
  let x: tf.Tensor | undefined;
  let y: tf.Tensor | undefined;
  if (source !== undefined) {
    assertInteger(WHERE, 'source.size', source.size, 1);
    if (args.validationSplit !== undefined) {
      throw new InfoBatchError('UNSUPPORTED', `'validationSplit' passed to ${WHERE} with a SampleSource is not supported: the held-out part would have to be loaded whole. Pass 'validationData: [xVal, yVal]' instead.`);
    }
    numAll = numTrain = source.size;
    loader = checkedSource(sourceLoader(source, WHERE), model, batchSize);
  } else {
    x = oneTensor(xOrSource, 'x', 'input', model.inputNames);
    y = oneTensor(yOrArgs, 'y', 'output', model.outputNames);
    assertSameLength(x, y, ['x', 'y']);
    assertInputShape(model, x, 'x');
    numAll = x.shape[0]!;
    numTrain = args.validationSplit === undefined ? numAll : Math.floor(numAll * (1 - args.validationSplit));
    if (args.validationSplit !== undefined && (numTrain < 1 || numTrain >= numAll)) {
      throw new InfoBatchError('OUT_OF_RANGE', `'validationSplit' passed to ${WHERE} is ${args.validationSplit}, which leaves ${numTrain} of the ${numAll} samples for training and ${numAll - numTrain} for validation; both need at least one.`);
    }
    loader = tensorLoader(x, y);
    checkAgainstModel(model, x, y, "'x' and 'y'", batchSize);
  }
  let xVal: tf.Tensor | undefined;
  let yVal: tf.Tensor | undefined;
  if (args.validationData !== undefined) {
    const [xv, yv] = args.validationData as unknown[];
    xVal = oneTensor(xv, 'validationData[0]', 'input', model.inputNames);
    yVal = oneTensor(yv, 'validationData[1]', 'output', model.outputNames);
    assertSameLength(xVal, yVal, ['validationData[0]', 'validationData[1]']);
    assertInputShape(model, xVal, 'validationData[0]');
    checkAgainstModel(model, xVal, yVal, "'validationData'", batchSize);
  }
  loader = expandRank1(loader);
  const callbacks = standardizeCallbacks(args.callbacks, args.yieldEvery, WHERE);
  const internals = model as unknown as ModelInternals;
  const labels = compiled.labels;
  const doValidation = args.validationData !== undefined || args.validationSplit !== undefined;
  const metricsNames = doValidation ? [...labels, ...labels.map((l) => `val_${l}`)] : [...labels];
  const keys = INFOBATCH_HISTORY_KEYS;
  const fitParams = { epochs, initialEpoch, samples: numTrain, batchSize, verbose, doValidation, metrics: metricsNames };
  if (epochs === 0) {
    // As model.fit: callbacks begin and end, no epoch runs, an empty History.
    const { list, history } = configureCallbacks(model, callbacks, fitParams);
    await list.onTrainBegin();
    await list.onTrainEnd();
    return history;
  }

  const run = openFitRun(WHERE, userModel, args.infobatch, numTrain, epochs, initialEpoch, source !== undefined ? 'source.size' : 'the training part of x (after validationSplit)', args.checkpoint !== undefined, batchSize);
  if (args.checkpoint !== undefined && run.spansCalls) {
    throw new InfoBatchError('UNSUPPORTED', `'checkpoint' passed to ${WHERE} checkpoints the run of one call, but this call continues a run of earlier calls ('infobatch.totalEpochs', or an InfoBatch that earlier calls trained in); drop one of them (a checkpointed call runs all its epochs itself: epochs: N).`);
  }
  const ib = run.ib;
  const ibt = new InfoBatchTfjs(ib, { rescaleMode: args.rescaleMode ?? run.rescaleMode ?? 'auto' });
  const rescale = ibt.rescaleFor(compiled.optimizer);
  trainableVariables(model as unknown as TrainableModel, WHERE);
  // The loss check runs a forward pass: once per model, compiled loss and data shapes, not on
  // every call of a loop of short calls.
  const checkKey = x === undefined ? undefined : `${x.shape.slice(1).join('x')}|${x.dtype}|${y!.shape.slice(1).join('x')}|${y!.dtype}|${Math.min(batchSize, numTrain)}`;
  const checked = lossChecked.get(model);
  if (checkKey === undefined || checked === undefined || checked.lossFunction !== compiled.lossFunction || checked.key !== checkKey) {
    await checkLossShape({ where: WHERE, model: model as unknown as TrainableModel, loader, numSamples: numTrain, batchSize, loss: compiled.loss });
    if (checkKey !== undefined) lossChecked.set(model, { lossFunction: compiled.lossFunction, key: checkKey });
  }
  const parallel = resolveWorkers(WHERE, model as unknown as TrainableModel, compiled.loss, args.workers, { compiledLoss: (model as unknown as { loss?: unknown }).loss });
  const hasPenalty = tf.tidy(() => regularization(model as unknown as TrainableModel) !== undefined);
  let runner: ParallelStepRunner | undefined;

  // Every check passed: from here on the model trains.
  let ownsValidation = false;
  let averager: EpochAverager | undefined;
  let logger: FitLogger | undefined;
  let lastEpochBegun: number | undefined;
  let control: ReturnType<typeof controlSums> | undefined;
  run.begin();
  try {
    if (args.validationData === undefined && args.validationSplit !== undefined) {
      xVal = tf.slice(x!, numTrain, numAll - numTrain);
      yVal = tf.slice(y!, numTrain, numAll - numTrain);
      ownsValidation = true;
    }
    logger = await createFitLogger(verbose, { epochs, keys: metricsNames, keptKey: keys.keptFraction, secondsKey: keys.trainSeconds });
    const configured = configureCallbacks(model, callbacks, fitParams, {
      averaged: {
        mean: labels.slice(1),
        sum: [SUM_WEIGHTS, SUM_PENALTY, SUM_CONTROL, MEAN_SCORE, SUM_OBJECTIVE_EXTRA],
        // `loss` of the epoch: the mean loss over the data, estimated from the visited samples'
        // `Σ w·l / Σ w` (unbiased with InfoBatch's weights; the plain mean in full-data epochs)
        // with the scores the plan was made from as control variates, `s̄ + Σ w·(l − s) / Σ w`:
        // still unbiased, and far less noisy, since a sample's loss changes little from one
        // epoch to the next. Plus the mean regularisation penalty.
        finish: (logs, sums, seen) => {
          const weights = sums[SUM_WEIGHTS];
          if (weights === undefined || !(weights > 0)) return;
          // Σ w·l of the steps run, from the engine's own running sum (infobatch_mean_loss · numSamples).
          const weightedLoss = (logs[keys.meanLoss] as number) * numTrain;
          const dataLoss = (sums[MEAN_SCORE] ?? 0) + (weightedLoss - (sums[SUM_CONTROL] ?? 0)) / weights;
          logs[labels[0]!] = dataLoss + (sums[SUM_PENALTY] ?? 0) / seen;
          // The objective's size-weighted mean over the batches, Σ size·(Σ w·l / d + penalty) / seen,
          // from the same sums: Σ w·l, plus Σ (size / d − 1)·Σ w·l of the batches whose d is not
          // their size (rescale mode 'step', pruned batches), plus Σ size·penalty.
          logs[keys.objective] = (weightedLoss + (sums[SUM_OBJECTIVE_EXTRA] ?? 0) + (sums[SUM_PENALTY] ?? 0)) / seen;
        },
      },
      ...(logger !== undefined && { logger }),
    });
    const { list, history } = configured;
    averager = configured.averager;
    internals.history = history;
    await list.onTrainBegin();
    internals.stopTraining = false;
    history.params = { ...history.params, infobatch_rescale_mode: rescale.mode, infobatch_seed: run.seed, infobatch_first_run_epoch: run.offset + initialEpoch };
    const epochSums = configured.averager;
    const opened = args.checkpoint === undefined ? undefined : await openRunCheckpoint(args.checkpoint, {
      where: WHERE,
      model: model as unknown as TrainableModel,
      optimizer: compiled.optimizer,
      ibt,
      numSamples: numTrain,
      epochs,
      batchSize,
      frontState: async () => {
        await history.syncData();
        return { epoch: history.epoch, history: history.history, epochSums: await epochSums.snapshot() };
      },
      isFrontState: (front) => {
        const saved = front as { epoch?: unknown; history?: unknown; epochSums?: { seen?: unknown; totals?: unknown } } | null;
        return Array.isArray(saved?.epoch) && typeof saved.history === 'object' && saved.history !== null &&
          typeof saved.epochSums === 'object' && saved.epochSums !== null && typeof saved.epochSums.seen === 'number' &&
          typeof saved.epochSums.totals === 'object' && saved.epochSums.totals !== null;
      },
    });
    const resumed = opened?.resumed;
    // Running sums of the epoch the checkpoint was taken in, put back when it begins again.
    let pendingSums: AveragerState | undefined;
    if (resumed !== undefined) {
      const saved = resumed.front as { epoch: number[]; history: typeof history.history; epochSums: AveragerState };
      history.epoch = [...saved.epoch];
      history.history = { ...saved.history };
      if (resumed.next.step > 0) pendingSums = saved.epochSums;
      if (resumed.finished) {
        await list.onTrainEnd();
        return history;
      }
    }
    if (parallel !== undefined) runner = await startWorkers(WHERE, parallel, model as unknown as TrainableModel, compiled.optimizer, ibt, compiled.metrics);

    // The engine runs InfoBatch epochs; callbacks and History see the call's own (epoch − offset).
    const offset = run.offset;
    await runTraining({
      where: WHERE,
      model: model as unknown as TrainableModel,
      loader,
      numSamples: numTrain,
      epochs: offset + epochs,
      batchSize,
      optimizer: compiled.optimizer,
      loss: compiled.loss,
      ibt,
      initialEpoch: resumed?.next.epoch ?? offset + initialEpoch,
      initialStep: resumed?.next.step ?? 0,
      initialLossSum: resumed?.epochLossSum ?? 0,
      ...(opened && { checkpointer: opened.checkpointer }),
      wantCost: true,
      extras: compiled.metrics,
      ...(runner !== undefined && { runner }),
      hooks: {
        onEpochBegin: async (epoch, plan, { steps }) => {
          lastEpochBegun = epoch;
          control = controlSums(plan, ib.scores, batchSize, steps);
          logger?.epochSteps(steps);
          await list.onEpochBegin(epoch - offset);
          if (pendingSums !== undefined) epochSums.restore(pendingSums);
          pendingSums = undefined;
        },
        onBatchBegin: (position) => list.onBatchBegin(position.step, {}),
        onBatchEnd: async (position, output, batch) => {
          const { cost, weightedSum } = output;
          const size = batch.indices.length;
          let weightSum = 0;
          for (let j = 0; j < size; j++) weightSum += batch.weights[j]!;
          const denominator = objectiveDenominator(batch.weights, rescale.mode);
          const made: tf.Tensor[] = [];
          try {
            // The batch's loss: Σ w·l / Σ w + penalty, which is the objective itself whenever its
            // denominator is Σ w (full batches, rescale mode 'step'), so no op runs then.
            let loss: tf.Scalar = cost!;
            if (weightSum > 0 && Math.abs(denominator - weightSum) > 1e-6 * weightSum) {
              loss = tf.tidy(() => tf.add(cost!, tf.mul(weightedSum, 1 / weightSum - 1 / denominator)) as tf.Scalar);
              made.push(loss);
            }
            const logs: FitLogs = { batch: position.step, size, [labels[0]!]: loss, [keys.objective]: cost!, [SUM_WEIGHTS]: weightSum };
            if (control !== undefined && control.meanScore !== 0) {
              logs[SUM_CONTROL] = control.perStep[position.step]!;
              if (position.step === 0) logs[MEAN_SCORE] = control.meanScore;
            }
            if (Math.abs(size / denominator - 1) > 1e-9) {
              const extra = tf.mul(weightedSum, size / denominator - 1) as tf.Scalar;
              made.push(extra);
              logs[SUM_OBJECTIVE_EXTRA] = extra;
            }
            if (hasPenalty) {
              const penalty = tf.tidy(() => tf.mul(tf.sub(cost!, tf.div(weightedSum, denominator)), size) as tf.Scalar);
              made.push(penalty);
              logs[SUM_PENALTY] = penalty;
            }
            output.extras.forEach((value, i) => {
              logs[labels[i + 1]!] = value;
            });
            await list.onBatchEnd(position.step, logs as unknown as Parameters<typeof list.onBatchEnd>[1]);
          } finally {
            tf.dispose(made);
          }
        },
        onEpochEnd: async (epoch, metrics: EpochMetrics, { position }) => {
          const logs: FitLogs = {};
          // As in tfjs, validation runs once the epoch's last batch has run.
          if (xVal !== undefined && yVal !== undefined && position.step === metrics.steps) {
            const outs = model.evaluate(xVal, yVal, { batchSize: validationBatchSize, verbose: 0 });
            const scalars = Array.isArray(outs) ? outs : [outs];
            try {
              const values = await Promise.all(scalars.map((s) => s.data()));
              values.forEach((v, i) => {
                logs[`val_${labels[i]}`] = v[0]!;
              });
            } finally {
              tf.dispose(scalars);
            }
          }
          logs[keys.keptFraction] = metrics.keptFraction;
          logs[keys.planSeconds] = metrics.planSeconds;
          logs[keys.recordSeconds] = metrics.recordSeconds;
          logs[keys.trainSeconds] = metrics.trainSeconds;
          logs[keys.meanLoss] = metrics.meanLoss;
          logs[keys.meanStepScale] = metrics.meanStepScale;
          await list.onEpochEnd(epoch - offset, logs as unknown as Parameters<typeof list.onEpochEnd>[1]);
        },
        shouldStop: () => internals.stopTraining,
      },
    });
    await list.onTrainEnd();
    await history.syncData();
    return history;
  } finally {
    run.end(lastEpochBegun);
    logger?.close();
    await runner?.close();
    averager?.reset(); // an epoch's running sums, left when a step failed
    if (ownsValidation) tf.dispose([xVal!, yVal!]);
  }
}
