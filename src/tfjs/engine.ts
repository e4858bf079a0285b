/**
 * The one training loop of `infobatch/tfjs`. {@link trainWithInfoBatch} and
 * {@link fitWithInfoBatch} are thin front-ends over {@link runTraining}: they validate their
 * arguments, translate their option and callback shapes into an {@link EngineSpec}, and read the
 * results back. Everything a training step does (the weighted loss of InfoBatch, the asynchronous
 * score reads, the regularisation penalties, the learning-rate schedules, the timing) lives here
 * once.
 *
 * Two seams are kept open for features built on top of this loop:
 * - **Position.** A run can start at any `(epoch, step)` ({@link EngineSpec.initialEpoch},
 *   {@link EngineSpec.initialStep}); the hooks receive the {@link TrainPosition} after every step
 *   and every epoch, which is what a checkpoint needs to resume exactly where it stopped (the
 *   plan of an epoch is a pure function of the InfoBatch state, so the same steps are skipped).
 * - **Step.** The "forward, weighted loss, gradients, apply" of one batch is a
 *   {@link StepRunner}. The default, {@link LocalStepRunner}, runs it with `optimizer.minimize` on
 *   this thread; a data-parallel runner can replace it (compute each shard's gradients elsewhere,
 *   all-reduce, apply) without a second copy of the loop.
 *
 * How the features built on it plug in: whole-run checkpoints are an {@link EngineCheckpointer}
 * (run-checkpoint.ts), called after each step and epoch and at the end, and a resumed run starts
 * with `initialEpoch` / `initialStep` / `initialLossSum`; `workers: N` passes {@link EngineSpec.runner}, whose
 * `runStep` gets the plan batch (ids and weights, e.g. to shard with `plan.shard`), the loaded
 * tensors and the position, and returns the same {@link StepOutput}.
 * @internal
 */
import * as tf from '@tensorflow/tfjs-core';
import type { EpochPlan, PlanBatch } from '../core/epoch-plan.js';
import { describeValue, InfoBatchError } from '../core/errors.js';
import { InfoBatch, type InfoBatchOptions } from '../core/info-batch.js';
import { objectiveDenominator, stepScale } from '../core/rescale.js';
import { assertOptionBag } from '../core/validate.js';
import { assertPerSampleLoss, InfoBatchTfjs, isTensorLike, type BatchScores } from './info-batch-tfjs.js';
import { setLearningRate } from './learning-rate.js';
import { withScaledLearningRate } from './rescale.js';
import type { StepSchedule } from './schedules.js';
import { releaseAbandonedTape } from './tape.js';

/**
 * What the training loop needs of a model: a tfjs `LayersModel` fits, and so does any object
 * with `predict` and trainable variables.
 */
export interface TrainableModel {
  /** Forward pass; used when the model has no `apply` (a `LayersModel` is called as `apply(x, { training: true })`). */
  predict(x: tf.Tensor): tf.Tensor | tf.Tensor[];
  /** Variables to train: `tf.Variable`s, or tfjs-layers `LayerVariable`s (read with `read()`). */
  readonly trainableWeights: ReadonlyArray<tf.Variable | {
    /** The variable behind a tfjs-layers `LayerVariable`. */
    read(): tf.Tensor;
  }>;
  /** Training-mode forward pass of tfjs-layers (dropout and batch normalisation in training mode). */
  apply?(x: tf.Tensor, kwargs: { training: boolean }): unknown;
  /** Regularisation penalties of tfjs-layers (`kernelRegularizer` …), added to the objective. */
  calculateLosses?(): tf.Scalar[];
}

/** Per-sample loss: `[batch]` (or `[batch, 1, …]`), no reduction over the batch. */
export type PerSampleLoss = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;

/**
 * What to record as the samples' scores, from the batch's targets, the model's output and the
 * per-sample losses (see {@link BatchScores}); the objective stays on the losses.
 */
export type PerSampleScore = (yTrue: tf.Tensor, yPred: tf.Tensor, perSampleLoss: tf.Tensor) => BatchScores;

/** Learning rate of each epoch, from the epoch and its plan. */
export type EpochLearningRate = (epoch: number, plan: EpochPlan) => number;

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
  /**
   * Mean over the epoch's steps of the factor applied to the learning rate (`Σ w / B` in rescale
   * mode `'step'`, 1 in mode `'loss'`).
   */
  readonly meanStepScale: number;
  /** The plan's score threshold (NaN when none was used, e.g. in full-data epochs). */
  readonly threshold: number;
  /** Learning rate set at the start of the epoch, when a `learningRate` schedule is given. */
  readonly learningRate?: number;
  /** What `evaluate` returned for this epoch, when given. */
  readonly evaluation?: Readonly<Record<string, number>>;
}

/** Where a run is: an epoch, and a 0-based step of that epoch's plan. */
export interface TrainPosition {
  /** 0-based epoch. */
  readonly epoch: number;
  /** 0-based step within the epoch's plan (for an epoch end: the number of steps run in it). */
  readonly step: number;
}

/** Tensors of one batch, samples along axis 0; the loop owns (and disposes) them. */
export interface BatchTensors {
  readonly xs: tf.Tensor;
  readonly ys: tf.Tensor;
}

/**
 * Loads the tensors of a batch from its sample ids. The loop asks for batch `k + 1` before it
 * runs step `k`, so an asynchronous loader overlaps loading with training.
 */
export interface BatchLoader {
  load(indices: Int32Array): BatchTensors | Promise<BatchTensors>;
}

/** What one step produced; the loop owns the tensors and disposes them after the hooks ran. */
export interface StepOutput {
  /** `Σ w·l` over the batch (the data loss only), for the epoch's `meanLoss`. */
  readonly weightedSum: tf.Scalar;
  /** The objective minimised (`Σ w·l / B` plus penalties), when the loop asked for it. */
  readonly cost?: tf.Scalar;
  /** Extra figures of the training forward pass (e.g. compiled metrics), in {@link EngineSpec.extras} order. */
  readonly extras: readonly tf.Scalar[];
}

/** Input of {@link StepRunner.runStep}. */
export interface StepInput {
  /** The plan batch: sample ids and InfoBatch weights. */
  readonly batch: PlanBatch;
  /** The batch's tensors (owned by the loop: do not dispose). */
  readonly tensors: BatchTensors;
  /** Where the step is in the run. */
  readonly position: TrainPosition;
  /** Whether {@link StepOutput.cost} is needed. */
  readonly wantCost: boolean;
}

/**
 * The step seam: one optimizer update on one batch. A runner must (1) compute the per-sample
 * losses of the batch in training mode, (2) pass them through {@link InfoBatchTfjs.update} with
 * the batch (this weights them and records them as scores, asynchronously, in step order),
 * (3) add the model's regularisation penalties, (4) compute the gradients of that objective and
 * apply them, and (5) return the step's figures. It must leave no tensor behind other than those
 * it returns. A data-parallel runner implements the same contract over shards.
 */
export interface StepRunner {
  /** May be asynchronous (e.g. waiting for other workers' gradients); the loop awaits it. */
  runStep(input: StepInput): StepOutput | Promise<StepOutput>;
  /**
   * Called at each epoch end, after the epoch's scores are recorded and before `evaluate` (e.g.
   * for a data-parallel runner to check that its replicas agree).
   */
  endEpoch?(epoch: number): void | Promise<void>;
}

/** Options of {@link LocalStepRunner}. */
export interface LocalStepRunnerOptions {
  readonly model: TrainableModel;
  readonly loss: PerSampleLoss;
  /** What to record as scores instead of the losses; the losses when omitted. */
  readonly score?: PerSampleScore;
  readonly optimizer: tf.Optimizer;
  readonly ibt: InfoBatchTfjs;
  /** The variables to update; read from the model when omitted. */
  readonly variables?: tf.Variable[];
  /** Extra scalars from `(yTrue, yPred)` of the training forward pass (compiled metrics). */
  readonly extras?: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Scalar[];
  /** Function name used in error messages. */
  readonly where: string;
}

/**
 * The default {@link StepRunner}: one `optimizer.minimize` of `Σ w·l / B + penalties` in one
 * `tf.tidy`, on this thread.
 */
export class LocalStepRunner implements StepRunner {
  private readonly options: LocalStepRunnerOptions;
  private readonly variables: tf.Variable[];

  constructor(options: LocalStepRunnerOptions) {
    this.options = options;
    this.variables = options.variables ?? trainableVariables(options.model, options.where);
  }

  runStep({ batch, tensors, wantCost }: StepInput): StepOutput {
    const { model, loss, score, optimizer, ibt, extras, where } = this.options;
    const { mode } = ibt.rescaleFor(optimizer);
    const denominator = objectiveDenominator(batch.weights, mode);
    let weightedSum: tf.Scalar | undefined;
    let extraValues: tf.Scalar[] = [];
    try {
      return tf.tidy(() => {
        // In 'step' mode the step's learning rate carries the up-weighting (restored after the step).
        const cost = withScaledLearningRate(optimizer, mode === 'step' ? stepScale(batch.weights) : 1, () => optimizer.minimize(() => {
          const output = forward(model, tensors.xs, true, where);
          const perSample = loss(tensors.ys, output);
          const scores = score?.(tensors.ys, output, perSample);
          const dataLoss = ibt.update(perSample, batch, { rescaleMode: mode, ...(scores !== undefined && { scores }) });
          // These outlive minimize's own tidy; the outer tidy keeps them as they are returned.
          weightedSum = tf.keep(tf.mul(dataLoss, denominator) as tf.Scalar);
          if (extras !== undefined) extraValues = extras(tensors.ys, output).map((t) => tf.keep(t));
          const penalty = regularization(model);
          return penalty === undefined ? dataLoss : (tf.add(dataLoss, penalty) as tf.Scalar);
        }, wantCost, this.variables));
        return { weightedSum: weightedSum!, extras: extraValues, ...(cost !== null && { cost }) };
      });
    } catch (error) {
      tf.dispose([...(weightedSum ? [weightedSum] : []), ...extraValues]);
      releaseAbandonedTape();
      throw error;
    }
  }
}

/** Hooks of the loop; any may return a promise, which is awaited. */
export interface EngineHooks {
  /** After the epoch's plan is made (and its learning rate set), before its first step. */
  onEpochBegin?(epoch: number, plan: EpochPlan, info: { readonly steps: number }): void | Promise<void>;
  /** Before each step, its batch loaded. */
  onBatchBegin?(position: TrainPosition, batch: PlanBatch): void | Promise<void>;
  /** After each step; the output's tensors are disposed when this returns (or its promise settles). */
  onBatchEnd?(position: TrainPosition, output: StepOutput, batch: PlanBatch): void | Promise<void>;
  /**
   * After the epoch, its scores recorded and `evaluate` run. `position.step` is the number of
   * steps run in it; `stopped` is true when {@link EngineHooks.shouldStop} ended it early.
   */
  onEpochEnd?(epoch: number, metrics: EpochMetrics, info: { readonly position: TrainPosition; readonly stopped: boolean }): void | Promise<void>;
  /** Asked after each step and each epoch (e.g. `model.stopTraining`); true ends the run there. */
  shouldStop?(): boolean;
}

/** A point of the run where a checkpoint can be taken (see run-checkpoint.ts). */
export interface CheckpointPoint {
  /** The epoch in progress: the one whose plan the InfoBatch holds. */
  readonly epoch: number;
  /** Steps of that epoch run so far. */
  readonly stepsDone: number;
  /** Steps of that epoch. */
  readonly steps: number;
  /** Plan positions of that epoch done (`plan.length` once it is complete). */
  readonly positionsDone: number;
  /** `Σ w·l` of the steps of that epoch run so far; absent once the epoch has ended. */
  readonly lossSum?: tf.Scalar;
  /** Where a run resumed from here continues. */
  readonly next: TrainPosition;
}

/**
 * Saves the run's state when due; the loop awaits it after each step, after each complete epoch
 * (its hooks run) and once when the run ends (all epochs done, or stopped).
 */
export interface EngineCheckpointer {
  afterStep(at: CheckpointPoint): Promise<void>;
  afterEpoch(at: CheckpointPoint): Promise<void>;
  afterRun(at: CheckpointPoint): Promise<void>;
}

/** Everything {@link runTraining} needs; front-ends validate it before. */
export interface EngineSpec {
  /** Function name used in error messages (`trainWithInfoBatch`, `fitWithInfoBatch`). */
  readonly where: string;
  readonly model: TrainableModel;
  readonly loader: BatchLoader;
  /** Samples of the training data (the InfoBatch run's `numSamples`). */
  readonly numSamples: number;
  readonly epochs: number;
  readonly batchSize: number;
  readonly optimizer: tf.Optimizer;
  readonly loss: PerSampleLoss;
  /** What to record as scores instead of the losses (see {@link PerSampleScore}). */
  readonly score?: PerSampleScore;
  readonly ibt: InfoBatchTfjs;
  readonly learningRate?: EpochLearningRate | StepSchedule;
  /** First epoch to run. */
  readonly initialEpoch: number;
  /**
   * Steps of `initialEpoch` already done (resuming inside an epoch); 0 by default. The epoch's
   * plan comes from `ibt.beginEpoch(initialEpoch)`: after `restoreState`/`loadState` of a
   * checkpoint taken inside that epoch, that is the interrupted epoch's plan, kept in the
   * checkpoint (never re-planned from the scores recorded since). Pass the `Σ w·l` of the steps
   * already done as `initialLossSum` for the epoch's `meanLoss` to cover them.
   */
  readonly initialStep?: number;
  /** `Σ w·l` (float32) of those steps, so that the epoch's `meanLoss` comes out whole; 0 by default. */
  readonly initialLossSum?: number;
  /** Writes checkpoints (the `checkpoint` option of the front-ends). */
  readonly checkpointer?: EngineCheckpointer;
  /** Whether `onBatchEnd` needs each step's `cost`. */
  readonly wantCost: boolean;
  /** Extra per-step scalars (see {@link LocalStepRunnerOptions.extras}). */
  readonly extras?: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Scalar[];
  /** Replaces the {@link LocalStepRunner} (e.g. a data-parallel runner). */
  readonly runner?: StepRunner;
  /** Called after each epoch (time not counted in `trainSeconds`); its numbers land in `metrics.evaluation`. */
  readonly evaluate?: (epoch: number) => Promise<Record<string, number>> | Record<string, number>;
  readonly hooks: EngineHooks;
}

/** Result of {@link runTraining}. */
export interface EngineResult {
  /** Metrics of each epoch run, in order. */
  readonly epochs: EpochMetrics[];
  /** Where the run ended: the next step to run. */
  readonly position: TrainPosition;
  /** Whether `shouldStop` ended the run before `epochs`. */
  readonly stopped: boolean;
}

/** Mean of `stepScale` over the first `steps` batches (the whole epoch's so far, also when resumed inside it). */
function meanStepScale(batches: readonly PlanBatch[], steps: number): number {
  let sum = 0;
  for (let k = 0; k < steps; k++) sum += stepScale(batches[k]!.weights);
  return steps > 0 ? sum / steps : 1;
}

/** Whether `value` is a per-step {@link StepSchedule}. @internal */
export function isStepSchedule(value: unknown): value is StepSchedule {
  return typeof value === 'object' && value !== null && typeof (value as StepSchedule).beginEpoch === 'function' && typeof (value as StepSchedule).lr === 'function';
}

/** Sets the learning rate a schedule gave, checked. */
function setScheduledRate(optimizer: tf.Optimizer, lr: number, where: string): void {
  if (!Number.isFinite(lr) || lr < 0) {
    throw new InfoBatchError('OUT_OF_RANGE', `'learningRate' passed to ${where} gave ${describeValue(lr)}; a learning rate must be a finite number >= 0.`);
  }
  setLearningRate(optimizer, lr, where, "drop the 'learningRate' option or use a tfjs optimizer");
}

/** The model's trainable variables. @internal */
export function trainableVariables(model: TrainableModel, where: string): tf.Variable[] {
  return model.trainableWeights.map((w, i) => {
    const variable = 'read' in w && typeof w.read === 'function' ? w.read() : w;
    if (!(variable instanceof tf.Variable)) {
      throw new InfoBatchError('INVALID_TYPE', `'model.trainableWeights[${i}]' passed to ${where} must be a tf.Variable or a LayerVariable whose read() gives one, but got ${describeValue(variable)}.`);
    }
    return variable;
  });
}

/** Forward pass, in training mode when `training` (dropout, batch normalisation). @internal */
export function forward(model: TrainableModel, xs: tf.Tensor, training: boolean, where: string): tf.Tensor {
  const output = typeof model.apply === 'function' ? model.apply(xs, { training }) : model.predict(xs);
  if (!isTensorLike(output)) {
    throw new InfoBatchError('UNSUPPORTED', `${where} supports models with one output tensor but the model returned ${describeValue(output)}.`);
  }
  return output;
}

/** Sum of the model's regularisation penalties, or undefined when it has none. @internal */
export function regularization(model: TrainableModel): tf.Scalar | undefined {
  const penalties = typeof model.calculateLosses === 'function' ? model.calculateLosses() : [];
  if (penalties.length === 0) return undefined;
  return (penalties.length === 1 ? penalties[0]! : tf.addN(penalties)) as tf.Scalar;
}

function disposeBatch(tensors: BatchTensors | undefined): void {
  if (tensors !== undefined) tf.dispose([tensors.xs, tensors.ys]);
}

/**
 * Checks the loss on the first samples in inference mode, outside any gradient tape, so that a
 * reduced or misshapen loss fails before training starts (an error thrown inside
 * `optimizer.minimize` leaves the tape's saved tensors behind). Other errors of the forward pass
 * or the loss (shapes the model or the loss refuses) become an InfoBatchError naming `where`.
 * @internal
 */
export async function checkLossShape(spec: Pick<EngineSpec, 'where' | 'model' | 'loader' | 'numSamples' | 'batchSize' | 'loss' | 'score'>): Promise<void> {
  const { where, model, loader, numSamples, batchSize, loss, score } = spec;
  const size = Math.min(batchSize, numSamples);
  const tensors = await loader.load(Int32Array.from({ length: size }, (_, i) => i));
  try {
    tf.tidy(() => {
      let perSample: unknown;
      let output: tf.Tensor | undefined;
      try {
        output = forward(model, tensors.xs, false, where);
        perSample = loss(tensors.ys, output);
      } catch (cause) {
        if (cause instanceof InfoBatchError) throw cause;
        const reason = cause instanceof Error ? cause.message : String(cause);
        throw new InfoBatchError('SHAPE_MISMATCH', `${where} could not compute the loss of the first ${size} samples (inputs [${tensors.xs.shape.join(', ')}], targets [${tensors.ys.shape.join(', ')}]): ${reason}`, { cause });
      }
      if (!isTensorLike(perSample)) {
        throw new InfoBatchError('INVALID_TYPE', `The loss used by ${where} must return a tf.Tensor of per-sample losses but returned ${describeValue(perSample)}.`);
      }
      assertPerSampleLoss(`The loss used by ${where}`, perSample, size);
      if (score !== undefined) {
        let scores: unknown;
        try {
          scores = score(tensors.ys, output!, perSample);
        } catch (cause) {
          if (cause instanceof InfoBatchError) throw cause;
          throw new InfoBatchError('INVALID_STATE', `The 'score' function used by ${where} threw on the first ${size} samples: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
        }
        if (typeof scores !== 'function') {
          if (!isTensorLike(scores)) {
            throw new InfoBatchError('INVALID_TYPE', `The 'score' function used by ${where} must return a tf.Tensor of one score per sample or a function (losses) => scores but returned ${describeValue(scores)}.`);
          }
          assertPerSampleLoss(`The scores of the 'score' function used by ${where}`, scores, size);
        }
      }
    });
  } finally {
    disposeBatch(tensors);
  }
}

/**
 * The InfoBatch of a run: `option` itself when it is an instance (checked against the data and
 * epochs), or a new one built from its options; with the default policy, pruned epochs are
 * aligned to `batchSize` unless the options say otherwise ({@link InfoBatchPolicyOptions.alignToBatchSize}).
 * @internal
 */
export function makeInfoBatch(where: string, numSamples: number, epochs: number, option: InfoBatch | Omit<InfoBatchOptions, 'numSamples' | 'numEpochs'> | undefined, dataName: string, batchSize?: number): InfoBatch {
  if (option instanceof InfoBatch) {
    if (option.numSamples !== numSamples) {
      throw new InfoBatchError('SHAPE_MISMATCH', `'infobatch' passed to ${where} is for ${option.numSamples} samples but ${dataName} holds ${numSamples}.`);
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
        throw new InfoBatchError('INVALID_OPTION', `'infobatch.${key}' passed to ${where} is not allowed: it is taken from ${key === 'numSamples' ? dataName : "'epochs'"}.`);
      }
    }
  }
  const bag = option ?? {};
  // A pruned epoch's last batch keeps a size full data has: no step on a handful of samples, no
  // new kernel shapes to compile on GPU backends.
  const align = batchSize !== undefined && bag.policy === undefined && bag.alignToBatchSize === undefined;
  return new InfoBatch({ ...bag, ...(align && { alignToBatchSize: batchSize }), numSamples, numEpochs: epochs });
}


/**
 * Runs epochs `initialEpoch … epochs − 1` (from step `initialStep` of the first): each epoch
 * visits the InfoBatch plan in batches, loading batch `k + 1` while step `k` runs, and hands each
 * batch to the {@link StepRunner}. Per-sample losses are recorded asynchronously; the epoch's
 * mean loss is read once, at its end. Every tensor the loop creates is disposed, on error paths
 * too (the caller's data stays the caller's).
 * @internal
 */
export async function runTraining(spec: EngineSpec): Promise<EngineResult> {
  const { where, numSamples, epochs, batchSize, optimizer, ibt, learningRate, initialEpoch, initialStep = 0, initialLossSum = 0, checkpointer, wantCost, evaluate, hooks, loader } = spec;
  const runner: StepRunner = spec.runner ?? new LocalStepRunner({ model: spec.model, loss: spec.loss, optimizer, ibt, where, ...(spec.extras && { extras: spec.extras }), ...(spec.score && { score: spec.score }) });
  const stepSchedule = isStepSchedule(learningRate) ? learningRate : undefined;
  const history: EpochMetrics[] = [];
  let position: TrainPosition = { epoch: initialEpoch, step: initialStep };
  let stopped = false;
  let endPoint: CheckpointPoint | undefined;

  for (let epoch = initialEpoch; epoch < epochs && !stopped; epoch++) {
    const planStart = performance.now();
    const recordedBefore = ibt.recordSeconds;
    const plan = await ibt.beginEpoch(epoch);
    const planSeconds = (performance.now() - planStart) / 1000;
    const steps = plan.numBatches(batchSize);
    const batches = Array.from(plan.batches(batchSize));
    const firstStep = epoch === initialEpoch ? Math.min(initialStep, steps) : 0;

    let epochLr: number | undefined;
    if (stepSchedule !== undefined) {
      stepSchedule.beginEpoch(epoch, steps);
      epochLr = stepSchedule.lr(0); // the rate the epoch started at, also when resuming inside it
    } else if (learningRate !== undefined) {
      epochLr = (learningRate as EpochLearningRate)(epoch, plan);
      setScheduledRate(optimizer, epochLr, where);
    }
    await hooks.onEpochBegin?.(epoch, plan, { steps });

    const trainStart = performance.now();
    let lossSum: tf.Scalar = tf.scalar(firstStep > 0 ? initialLossSum : 0);
    let next: Promise<BatchTensors> | undefined;
    let current: BatchTensors | undefined;
    let step = firstStep;
    const scaled = ibt.rescaleFor(optimizer).mode === 'step';
    let completed = false;
    try {
      let lastLr = Number.NaN;
      const load = (k: number): Promise<BatchTensors> => {
        const pending = Promise.resolve().then(() => loader.load(batches[k]!.indices));
        pending.catch(() => undefined); // a failed prefetch surfaces when awaited, not as an unhandled rejection
        return pending;
      };
      if (step < steps) next = load(step);
      for (; step < steps; step++) {
        current = await next!;
        next = step + 1 < steps ? load(step + 1) : undefined;
        const batch = batches[step]!;
        position = { epoch, step };
        if (stepSchedule !== undefined) {
          const lr = stepSchedule.lr(step);
          if (lr !== lastLr) setScheduledRate(optimizer, lr, where);
          lastLr = lr;
        }
        await hooks.onBatchBegin?.(position, batch);
        const output = await runner.runStep({ batch, tensors: current, position, wantCost });
        disposeBatch(current);
        current = undefined;
        try {
          const sum = tf.add(lossSum, output.weightedSum) as tf.Scalar;
          lossSum.dispose();
          lossSum = sum;
          await hooks.onBatchEnd?.(position, output, batch);
        } finally {
          tf.dispose([output.weightedSum, ...(output.cost ? [output.cost] : []), ...output.extras]);
        }
        if (checkpointer !== undefined) {
          const done = step + 1;
          await checkpointer.afterStep({ epoch, stepsDone: done, steps, positionsDone: Math.min(done * batchSize, plan.length), lossSum, next: { epoch, step: done } });
        }
        if (hooks.shouldStop?.() === true) {
          stopped = true;
          step++;
          break;
        }
      }
      await ibt.flush();
      await runner.endEpoch?.(epoch);
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
        meanStepScale: scaled ? meanStepScale(batches, step) : 1,
        threshold: plan.stats.threshold,
        ...(epochLr !== undefined && { learningRate: epochLr }),
        ...(evaluation !== undefined && { evaluation: { ...evaluation } }),
      };
      history.push(metrics);
      position = { epoch, step };
      await hooks.onEpochEnd?.(epoch, metrics, { position, stopped });
      if (!stopped && hooks.shouldStop?.() === true) stopped = true;
      position = step < steps ? { epoch, step } : { epoch: epoch + 1, step: 0 };
      endPoint = { epoch, stepsDone: step, steps, positionsDone: Math.min(step * batchSize, plan.length), next: position };
      if (checkpointer !== undefined && !stopped) await checkpointer.afterEpoch(endPoint);
      completed = true;
    } finally {
      lossSum.dispose();
      disposeBatch(current);
      if (next !== undefined) {
        // A prefetched batch is disposed when it arrives; after an error it is not waited for
        // (the error is known, and a gather that never settles must not hold it back).
        const settled = next.then(disposeBatch, () => undefined);
        next = undefined;
        if (completed) await settled;
      }
    }
  }
  await ibt.flush();
  if (checkpointer !== undefined && endPoint !== undefined) await checkpointer.afterRun(endPoint);
  return { epochs: history, position, stopped };
}
