/**
 * `fitWithInfoBatch`: tfjs's `model.fit` with InfoBatch, a one-line swap.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { History, LayersModel, ModelFitArgs } from '@tensorflow/tfjs-layers';
import { describeValue, InfoBatchError } from '../core/errors.js';
import type { InfoBatch, InfoBatchOptions } from '../core/info-batch.js';
import { assertRescaleMode, type RescaleMode } from '../core/rescale.js';
import { assertInteger, assertKnownKeys, assertNumberInRange, assertOptionBag } from '../core/validate.js';
import { compiledTraining } from './compiled-loss.js';
import { checkLossShape, makeInfoBatch, runTraining, trainableVariables, type BatchLoader, type BatchTensors, type EpochMetrics, type TrainableModel } from './engine.js';
import type { ParallelStepRunner } from './parallel/coordinator.js';
import { resolveWorkers, startWorkers, type WorkersOptions } from './parallel/workers-option.js';
import { configureCallbacks, standardizeCallbacks, type AveragerState, type EpochAverager, type FitLogs } from './fit-callbacks.js';
import { InfoBatchTfjs, isTensorLike } from './info-batch-tfjs.js';
import { assertRunCheckpointOptions, openRunCheckpoint, type RunCheckpointOptions } from './run-checkpoint.js';
import { claimModel, type ModelClaim } from './run-claim.js';
import { isSampleSource, sourceLoader, tensorLoader, type SampleSource } from './sample-source.js';

/** `model.fit`'s arguments, plus the InfoBatch to prune with. */
export interface FitWithInfoBatchArgs extends ModelFitArgs {
  /**
   * The pruning: an {@link InfoBatch} over the training samples (after `validationSplit`) with
   * `numEpochs >= epochs`, or its options without `numSamples` and `numEpochs`. Pass an instance
   * to read its `summary()` or `saveState()` afterwards. Its seed also shuffles the batches.
   * @defaultValue `new InfoBatch({ numSamples, numEpochs: epochs })`
   */
  readonly infobatch?: InfoBatch | Omit<InfoBatchOptions, 'numSamples' | 'numEpochs'>;
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
  /** Mean factor applied to the learning rate by rescale mode `'step'` (1 in mode `'loss'`). */
  meanStepScale: 'infobatch_step_scale',
} as const;

const WHERE = 'fitWithInfoBatch';
const SUPPORTED_KEYS = ['batchSize', 'epochs', 'verbose', 'callbacks', 'validationSplit', 'validationData', 'shuffle', 'initialEpoch', 'yieldEvery', 'infobatch', 'checkpoint', 'workers', 'rescaleMode'] as const;
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

function assertSameLength(x: unknown, y: unknown, names: [string, string]): asserts x is tf.Tensor {
  if (!isTensorLike(x) || !isTensorLike(y)) {
    throw new InfoBatchError('INVALID_TYPE', `'${names[0]}' and '${names[1]}' passed to ${WHERE} must be tf.Tensors (models with one input and one output) but got ${describeValue(x)} and ${describeValue(y)}.`);
  }
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
    assertSameLength(data[0], data[1], ['validationData[0]', 'validationData[1]']);
  }
}

/** Input shape check with a message naming the argument (tfjs's own check follows). */
function assertInputShape(model: LayersModel, x: tf.Tensor, name: string): void {
  const expected = (model.inputs[0]?.shape ?? []) as Array<number | null>;
  const ok = expected.length === x.rank && expected.every((d, axis) => axis === 0 || d === null || d === x.shape[axis]);
  if (!ok) {
    throw new InfoBatchError('SHAPE_MISMATCH', `'${name}' passed to ${WHERE} has shape [${x.shape.join(', ')}] but the model's input has shape [${expected.map((d) => d ?? 'null').join(', ')}] (null: any size).`);
  }
}

function formatLogs(logs: FitLogs, keys: readonly string[]): string {
  return keys
    .filter((key) => typeof logs[key] === 'number')
    .map((key) => `${key}=${(logs[key] as number).toPrecision(4)}`)
    .join(' ');
}

/**
 * Trains a compiled tfjs `LayersModel` with InfoBatch: a drop-in for `model.fit(x, y, args)`.
 * It uses what `compile` set (the optimizer; the loss, computed per sample exactly as tfjs
 * defines it; the metrics) plus the model's regularisation penalties, runs the forward pass in
 * training mode, and honours `epochs`, `batchSize`, `initialEpoch`, `validationData`,
 * `validationSplit` (split off the end first, as tfjs does; only the training part is pruned),
 * `callbacks` (hook objects, `tf.callbacks.earlyStopping(…)`, `tf.CustomCallback`, arrays of
 * them), `model.stopTraining`, `verbose` (1 or 2: one line per epoch) and `yieldEvery`. Batches
 * are always shuffled, seeded by the InfoBatch seed.
 *
 * It returns a tfjs `History` with the keys `model.fit` gives (`loss`, metric names, `val_*`)
 * plus {@link INFOBATCH_HISTORY_KEYS}. With InfoBatch's weights, `loss` is the epoch mean of the
 * minimised objective `Σ w·l / B (+ penalties)`, the same quantity `model.fit` logs, and
 * `infobatch_mean_loss` is the unbiased estimate of the full data's mean loss.
 *
 * Data larger than memory: pass a random-access {@link SampleSource} instead of `x, y`. A
 * streaming `tf.data.Dataset` (`model.fitDataset`) cannot be pruned: InfoBatch chooses each
 * epoch's samples before the epoch starts, which needs random access.
 *
 * Not supported (a clear InfoBatchError): models with several inputs or outputs, `sampleWeight`,
 * `classWeight`, `stepsPerEpoch`, `shuffle: false`.
 *
 * @param model - a compiled `tf.LayersModel` (sequential or functional), one input, one output.
 * @param x - inputs, `[numSamples, ...]`.
 * @param y - targets, `[numSamples, ...]`, as `model.fit` takes them.
 * @param args - `model.fit`'s arguments, plus `infobatch`.
 * @returns the run's `History`.
 *
 * @example
 * ```ts
 * model.compile({ optimizer: 'rmsprop', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
 * // before: const history = await model.fit(x, y, { epochs: 20, batchSize: 128, validationSplit: 0.15 });
 * const history = await fitWithInfoBatch(model, x, y, { epochs: 20, batchSize: 128, validationSplit: 0.15 });
 * ```
 */
export function fitWithInfoBatch(model: LayersModel, x: tf.Tensor, y: tf.Tensor, args?: FitWithInfoBatchArgs): Promise<History>;
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
export function fitWithInfoBatch(userModel: LayersModel, xOrSource: tf.Tensor | SampleSource, yOrArgs?: tf.Tensor | FitWithInfoBatchArgs, maybeArgs?: FitWithInfoBatchArgs): Promise<History> {
  let claim: ModelClaim;
  try {
    claim = claimModel(WHERE, userModel); // synchronously: a second run on this model is refused here
  } catch (error) {
    return Promise.reject(error);
  }
  return fit(userModel, xOrSource, yOrArgs, maybeArgs).finally(() => claim.release());
}

async function fit(userModel: LayersModel, xOrSource: tf.Tensor | SampleSource, yOrArgs?: tf.Tensor | FitWithInfoBatchArgs, maybeArgs?: FitWithInfoBatchArgs): Promise<History> {
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
  const verbose = args.verbose ?? 1;
  assertInteger(WHERE, 'batchSize', batchSize, 1);
  assertInteger(WHERE, 'epochs', epochs, 1);
  assertInteger(WHERE, 'initialEpoch', initialEpoch, 0, epochs - 1);

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
    x = xOrSource as tf.Tensor;
    y = yOrArgs as tf.Tensor;
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
  if (args.validationData !== undefined) {
    const [xVal, yVal] = args.validationData as [tf.Tensor, tf.Tensor];
    assertInputShape(model, xVal, 'validationData[0]');
    checkAgainstModel(model, xVal, yVal, "'validationData'", batchSize);
  }
  loader = expandRank1(loader);
  const callbacks = standardizeCallbacks(args.callbacks, args.yieldEvery, WHERE);
  const internals = model as unknown as ModelInternals;
  const ib = makeInfoBatch(WHERE, numTrain, epochs, args.infobatch, source !== undefined ? 'source.size' : 'the training part of x (after validationSplit)');
  const ibt = new InfoBatchTfjs(ib, { rescaleMode: args.rescaleMode ?? 'auto' });
  const rescale = ibt.rescaleFor(compiled.optimizer);
  trainableVariables(model as unknown as TrainableModel, WHERE);
  await checkLossShape({ where: WHERE, model: model as unknown as TrainableModel, loader, numSamples: numTrain, batchSize, loss: compiled.loss });
  const parallel = resolveWorkers(WHERE, model as unknown as TrainableModel, compiled.loss, args.workers, { compiledLoss: (model as unknown as { loss?: unknown }).loss });
  let runner: ParallelStepRunner | undefined;

  // Every check passed: from here on the model trains.
  const labels = compiled.labels;
  const doValidation = args.validationData !== undefined || args.validationSplit !== undefined;
  const metricsNames = doValidation ? [...labels, ...labels.map((l) => `val_${l}`)] : [...labels];
  let xVal: tf.Tensor | undefined;
  let yVal: tf.Tensor | undefined;
  let ownsValidation = false;
  let averager: EpochAverager | undefined;
  try {
    if (args.validationData !== undefined) {
      [xVal, yVal] = args.validationData as [tf.Tensor, tf.Tensor];
    } else if (args.validationSplit !== undefined) {
      xVal = tf.slice(x!, numTrain, numAll - numTrain);
      yVal = tf.slice(y!, numTrain, numAll - numTrain);
      ownsValidation = true;
    }
    const configured = configureCallbacks(model, callbacks, { epochs, initialEpoch, samples: numTrain, batchSize, verbose, doValidation, metrics: metricsNames });
    const { list, history } = configured;
    averager = configured.averager;
    internals.history = history;
    await list.onTrainBegin();
    internals.stopTraining = false;
    history.params = { ...history.params, infobatch_rescale_mode: rescale.mode };
    const keys = INFOBATCH_HISTORY_KEYS;
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

    await runTraining({
      where: WHERE,
      model: model as unknown as TrainableModel,
      loader,
      numSamples: numTrain,
      epochs,
      batchSize,
      optimizer: compiled.optimizer,
      loss: compiled.loss,
      ibt,
      initialEpoch: resumed?.next.epoch ?? initialEpoch,
      initialStep: resumed?.next.step ?? 0,
      initialLossSum: resumed?.epochLossSum ?? 0,
      ...(opened && { checkpointer: opened.checkpointer }),
      wantCost: true,
      extras: compiled.metrics,
      ...(runner !== undefined && { runner }),
      hooks: {
        onEpochBegin: async (epoch) => {
          await list.onEpochBegin(epoch);
          if (pendingSums !== undefined) epochSums.restore(pendingSums);
          pendingSums = undefined;
        },
        onBatchBegin: (position) => list.onBatchBegin(position.step, {}),
        onBatchEnd: async (position, output, batch) => {
          const logs: FitLogs = { batch: position.step, size: batch.indices.length, [labels[0]!]: output.cost! };
          output.extras.forEach((value, i) => {
            logs[labels[i + 1]!] = value;
          });
          await list.onBatchEnd(position.step, logs as unknown as Parameters<typeof list.onBatchEnd>[1]);
        },
        onEpochEnd: async (epoch, metrics: EpochMetrics, { position }) => {
          const logs: FitLogs = {};
          // As in tfjs, validation runs once the epoch's last batch has run.
          if (xVal !== undefined && yVal !== undefined && position.step === metrics.steps) {
            const outs = model.evaluate(xVal, yVal, { batchSize, verbose: 0 });
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
          await list.onEpochEnd(epoch, logs as unknown as Parameters<typeof list.onEpochEnd>[1]);
          if (verbose > 0) {
            console.log(`Epoch ${epoch + 1}/${epochs} ${metrics.trainSeconds.toFixed(1)}s ${formatLogs(logs, metricsNames)} kept=${(metrics.keptFraction * 100).toFixed(1)}%`);
          }
        },
        shouldStop: () => internals.stopTraining,
      },
    });
    await list.onTrainEnd();
    await history.syncData();
    return history;
  } finally {
    await runner?.close();
    averager?.reset(); // an epoch's running sums, left when a step failed
    if (ownsValidation) tf.dispose([xVal!, yVal!]);
  }
}
