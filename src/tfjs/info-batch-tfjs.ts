import * as tf from '@tensorflow/tfjs-core';
import type { EpochPlan, PlanBatch } from '../core/epoch-plan.js';
import { describeValue, InfoBatchError, type InfoBatchErrorCode } from '../core/errors.js';
import { InfoBatch, type RunSummary } from '../core/info-batch.js';
import { objectiveDenominator, stepScale, assertRescaleMode, type AppliedRescaleMode, type RescaleMode } from '../core/rescale.js';
import { assertInteger, assertKnownKeys, assertOptionBag } from '../core/validate.js';
import type { NoiseConditionedScore } from '../core/noise-conditioned-score.js';
import { chooseRescaleMode, withScaledLearningRate, type RescaleChoice } from './rescale.js';
import { releaseAbandonedTape } from './tape.js';

/** One batch whose losses could not be recorded, kept until the next flush reports it. */
interface ReadFailure {
  readonly epoch: number;
  readonly step: number;
  readonly indices: Int32Array;
  readonly cause: unknown;
}

type ReadResult = { readonly values: ArrayLike<number> } | { readonly error: unknown };

/** Options of {@link InfoBatchTfjs}. */
export interface InfoBatchTfjsOptions {
  /**
   * Where the up-weighting goes (see {@link RescaleMode}): `'auto'` picks by the optimizer given
   * to {@link InfoBatchTfjs.minimize} (`'loss'` for SGD and momentum, `'step'` for Adam, RMSProp
   * and the other adaptive optimizers).
   * @defaultValue 'auto'
   */
  readonly rescaleMode?: RescaleMode;
}

/**
 * What a batch records as its samples' scores instead of their losses (see
 * {@link InfoBatch.recordScores}): a tensor of one score per sample (`[B]` or `[B, 1]`), or a
 * function that turns the batch's per-sample losses, once read, into its scores. The function runs
 * on the CPU in the order of the `update` calls (never concurrently), so a running statistic it
 * keeps, such as a {@link NoiseConditionedScore}, gives the same scores on every run; a function
 * that throws, or returns bad scores, leaves the batch unrecorded and is reported by the next
 * {@link InfoBatchTfjs.flush}.
 */
export type BatchScores = tf.Tensor | ((losses: Float32Array) => ArrayLike<number>);

/** Options of {@link InfoBatchTfjs.update}. */
export interface UpdateOptions {
  /**
   * Record these scores instead of the per-sample losses; the objective stays `Σ w·l / B` on the
   * losses. Use it where a sample's loss on one visit says little about the next because the loss
   * follows randomness drawn per visit (diffusion timesteps and noise, MAE masks): e.g. the loss
   * divided by the expected loss at the drawn noise level.
   * @defaultValue the per-sample losses
   */
  readonly scores?: BatchScores;
  /**
   * The objective's form: `'loss'`, `Σ w·l / B`; `'step'`, `Σ w·l / Σ w` (the caller then scales
   * the step's learning rate by `Σ w / B`, as {@link InfoBatchTfjs.minimize} does).
   * @defaultValue the instance's `rescaleMode` when it is `'step'`, else `'loss'`
   */
  readonly rescaleMode?: AppliedRescaleMode;
}

/** A batch's per-sample losses and the scores to record for them (see {@link UpdateOptions.scores}). */
export interface LossWithScores {
  /** Per-sample losses, `[B]`: what is trained on. */
  readonly loss: tf.Tensor;
  /** What is recorded as the samples' scores; the losses when omitted. */
  readonly scores?: BatchScores;
}

/** Options of {@link InfoBatchTfjs.minimize}. */
export interface MinimizeOptions {
  /** Return the objective (as `optimizer.minimize` does); otherwise `null` is returned. @defaultValue false */
  readonly returnCost?: boolean;
  /** The variables to train, as in `optimizer.minimize`. @defaultValue every trainable variable */
  readonly varList?: tf.Variable[];
}

/** Whether `value` looks like a tfjs tensor (duck-typed, so a second copy of tfjs-core still passes). @internal */
export function isTensorLike(value: unknown): value is tf.Tensor {
  return typeof value === 'object' && value !== null && Array.isArray((value as tf.Tensor).shape) && typeof (value as tf.Tensor).data === 'function';
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * Throws unless `loss` holds one value per sample of a batch of `size`: shape `[size]` or
 * `[size, 1, …]`, or a scalar when the batch has one sample (that sample's loss), and is not disposed.
 * @param subject - how messages name the loss, e.g. "'perSampleLoss' passed to InfoBatchTfjs.update".
 * @internal
 */
export function assertPerSampleLoss(subject: string, loss: tf.Tensor, size: number): void {
  if (loss.isDisposed) {
    throw new InfoBatchError('INVALID_STATE', `${subject} is a disposed tensor (shape ${shapeText(loss.shape)}); pass the per-sample losses before disposing them (inside optimizer.minimize, return them from the same function).`);
  }
  const shape = loss.shape;
  if (shape.length === 0 && size === 1) return;
  if (shape.length === 0) {
    throw new InfoBatchError('SCALAR_LOSS', `${subject} is a scalar (rank 0) but the batch has ${size} samples: it is already reduced. Compute one loss per sample with tf.Reduction.NONE (e.g. tf.losses.softmaxCrossEntropy(ys, logits, undefined, undefined, tf.Reduction.NONE)) or a per-sample helper of infobatch/tfjs.`);
  }
  if (shape[0] === size && shape.every((d, axis) => axis === 0 || d === 1)) return;
  if (loss.size === 1 && size > 1) {
    throw new InfoBatchError('SCALAR_LOSS', `${subject} has shape ${shapeText(shape)}, a single value for a batch of ${size} samples: it looks already reduced. Compute one loss per sample with tf.Reduction.NONE.`);
  }
  throw new InfoBatchError('SHAPE_MISMATCH', `${subject} must have shape [${size}] (one loss per sample of the batch) but got rank ${shape.length}, shape ${shapeText(shape)}. Reduce every axis but the batch axis (e.g. with tf.mean(x, axis)) and use tf.Reduction.NONE.`);
}

/** Runs a {@link BatchScores} function, naming it in what it throws. */
function scoresFrom(toScores: (losses: Float32Array) => ArrayLike<number>, losses: Float32Array): ArrayLike<number> {
  let scores: unknown;
  try {
    scores = toScores(losses);
  } catch (cause) {
    if (cause instanceof InfoBatchError) throw cause;
    throw new InfoBatchError('INVALID_STATE', `the scores function given as 'options.scores' threw: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  return scores as ArrayLike<number>;
}

function assertPlanBatch(where: string, batch: PlanBatch): void {
  if (typeof batch !== 'object' || batch === null || !(batch.indices instanceof Int32Array) || !(batch.weights instanceof Float32Array)) {
    throw new InfoBatchError('INVALID_TYPE', `'batch' passed to ${where} must be a plan batch { indices: Int32Array, weights: Float32Array } but got ${describeValue(batch)}.`);
  }
  const size = batch.indices.length;
  if (batch.weights.length !== size || size === 0) {
    throw new InfoBatchError('SHAPE_MISMATCH', `'batch' passed to ${where} must have as many weights as indices, at least one, but got ${size} indices and ${batch.weights.length} weights.`);
  }
}

/**
 * Connects an {@link InfoBatch} to a TensorFlow.js training loop: `update` turns a per-sample
 * loss tensor into the weighted objective and records the losses as scores without ever blocking
 * on the device.
 *
 * Ordering guarantee: each `update` starts an asynchronous read (`data()`, never `dataSync()`) of
 * a kept copy of its per-sample losses, and the reads are recorded in the order of the `update`
 * calls. {@link InfoBatchTfjs.beginEpoch} first awaits every pending read ({@link InfoBatchTfjs.flush}),
 * so the scores of epoch `e` are complete before the plan of epoch `e + 1` is built. A read that
 * rejects, or losses the core refuses (NaN, infinite, negative), leave that batch unrecorded and
 * are reported as an {@link InfoBatchError} by the next `flush()` / `beginEpoch()`, naming the
 * epoch, the step and the batch's sample ids.
 *
 * @example
 * ```ts
 * const ibt = new InfoBatchTfjs(new InfoBatch({ numSamples, numEpochs }));
 * for (let epoch = 0; epoch < numEpochs; epoch++) {
 *   for (const batch of (await ibt.beginEpoch(epoch)).batches(128)) {
 *     const { xs, ys } = gatherBatch(batch.indices);
 *     ibt.minimize(optimizer, batch, () => tf.losses.softmaxCrossEntropy(ys, model.predict(xs), undefined, undefined, tf.Reduction.NONE));
 *   }
 * }
 * await ibt.flush();
 * ```
 */
export class InfoBatchTfjs {
  /** The wrapped core instance. */
  readonly ib: InfoBatch;

  private tail: Promise<void> = Promise.resolve();
  private failures: ReadFailure[] = [];
  private pendingReads = 0;
  private epoch = -1;
  private step = 0;
  private recordingMilliseconds = 0;
  private readonly choices = new WeakMap<tf.Optimizer, RescaleChoice>();
  /** The requested {@link RescaleMode}. */
  readonly rescaleMode: RescaleMode;

  /**
   * Wraps a core instance; the wrapper owns no pruning state of its own.
   * @param ib - the {@link InfoBatch} whose plans and scores are used.
   * @param options - see {@link InfoBatchTfjsOptions}.
   */
  constructor(ib: InfoBatch, options: InfoBatchTfjsOptions = {}) {
    const where = 'new InfoBatchTfjs()';
    if (!(ib instanceof InfoBatch)) {
      throw new InfoBatchError('INVALID_TYPE', `'ib' passed to ${where} must be an InfoBatch instance but got ${describeValue(ib)}.`);
    }
    assertOptionBag(where, 'options', options);
    assertKnownKeys(where, options, ['rescaleMode']);
    const { rescaleMode = 'auto' } = options;
    assertRescaleMode(where, 'rescaleMode', rescaleMode);
    this.ib = ib;
    this.rescaleMode = rescaleMode;
  }

  /**
   * The mode used with `optimizer` ({@link RescaleMode} `'auto'` resolved by the optimizer's
   * class), and why.
   * @throws InfoBatchError 'UNSUPPORTED' for `rescaleMode: 'step'` with an optimizer whose learning rate cannot be set.
   */
  rescaleFor(optimizer: tf.Optimizer): RescaleChoice {
    let choice = this.choices.get(optimizer);
    if (choice === undefined) {
      choice = chooseRescaleMode('InfoBatchTfjs', this.rescaleMode, optimizer);
      this.choices.set(optimizer, choice);
    }
    return choice;
  }

  /**
   * One optimizer step on a batch of the plan, with the up-weighting where the optimizer needs it
   * ({@link InfoBatchTfjs.rescaleFor}): `optimizer.minimize` of the batch's objective (see
   * {@link InfoBatchTfjs.update}), and in `'step'` mode that step's learning rate multiplied by
   * `Σ w / B`, restored right after (also when the step throws). Tensors the failed step's
   * gradient tape kept are released when it throws.
   * @param optimizer - any tfjs optimizer.
   * @param batch - the plan batch (`indices`, `weights`).
   * @param perSampleLoss - computes the batch's per-sample losses (no reduction), like the function
   *   given to `optimizer.minimize`; or `{ loss, scores }` to record scores apart from the loss
   *   (see {@link UpdateOptions.scores}).
   * @returns the objective when `returnCost`, else `null`.
   *
   * @example
   * ```ts
   * for (const batch of (await ibt.beginEpoch(epoch)).batches(128)) {
   *   const { xs, ys } = gatherBatch(batch.indices);
   *   ibt.minimize(optimizer, batch, () => tf.losses.softmaxCrossEntropy(ys, model.predict(xs), undefined, undefined, tf.Reduction.NONE));
   * }
   * ```
   */
  minimize(optimizer: tf.Optimizer, batch: PlanBatch, perSampleLoss: () => tf.Tensor | LossWithScores, options: MinimizeOptions = {}): tf.Scalar | null {
    const where = 'InfoBatchTfjs.minimize';
    if (typeof optimizer !== 'object' || optimizer === null || typeof (optimizer as Partial<tf.Optimizer>).minimize !== 'function') {
      throw new InfoBatchError('INVALID_TYPE', `'optimizer' passed to ${where} must be a tf.Optimizer but got ${describeValue(optimizer)}.`);
    }
    if (typeof perSampleLoss !== 'function') {
      throw new InfoBatchError('INVALID_TYPE', `'perSampleLoss' passed to ${where} must be a function returning the per-sample losses but got ${describeValue(perSampleLoss)}.`);
    }
    assertOptionBag(where, 'options', options);
    assertKnownKeys(where, options, ['returnCost', 'varList']);
    assertPlanBatch(where, batch);
    const { mode } = this.rescaleFor(optimizer);
    const factor = mode === 'step' ? stepScale(batch.weights) : 1;
    try {
      return withScaledLearningRate(optimizer, factor, () =>
        optimizer.minimize(() => {
          const output = perSampleLoss();
          if (isTensorLike(output)) return this.update(output, batch, { rescaleMode: mode });
          if (typeof output !== 'object' || output === null || !isTensorLike((output as Partial<LossWithScores>).loss)) {
            throw new InfoBatchError('INVALID_TYPE', `'perSampleLoss' passed to ${where} must return the per-sample losses as a tf.Tensor, or { loss, scores }, but returned ${describeValue(output)}.`);
          }
          return this.update(output.loss, batch, { rescaleMode: mode, ...(output.scores !== undefined && { scores: output.scores }) });
        }, options.returnCost === true, options.varList));
    } catch (error) {
      releaseAbandonedTape();
      throw error;
    }
  }

  /** Number of loss reads started by `update` and not yet recorded. */
  get pending(): number {
    return this.pendingReads;
  }

  /** Total seconds spent recording losses into the core (synchronous CPU time, excluding the wait for the device). */
  get recordSeconds(): number {
    return this.recordingMilliseconds / 1000;
  }

  /**
   * Waits for every pending loss read, then makes the plan of `epoch` from the complete scores.
   * @param epoch - 0-based epoch in `[0, numEpochs)`.
   * @throws InfoBatchError from {@link InfoBatchTfjs.flush} when a batch's losses could not be recorded.
   */
  async beginEpoch(epoch: number): Promise<EpochPlan> {
    assertInteger('InfoBatchTfjs.beginEpoch', 'epoch', epoch, 0, this.ib.numEpochs - 1);
    await this.flush();
    const plan = this.ib.beginEpoch(epoch);
    this.epoch = epoch;
    this.step = 0;
    return plan;
  }

  /**
   * The objective of one batch, `sum(w·l) / B` as a scalar tensor (`sum(w·l) / sum(w)` in `'step'`
   * mode, see {@link UpdateOptions}), and an asynchronous record of
   * the per-sample losses as scores (or of `options.scores`). Works inside `optimizer.minimize`, `tf.tidy` and
   * `tf.variableGrads` without leaking: the only tensor it keeps is a copy of the losses (or
   * scores), disposed as soon as its read settles.
   * @param perSampleLoss - one loss per sample of the batch, shape `[B]` (or `[B, 1]`; a scalar
   *   when `B` is 1), computed without reduction (`tf.Reduction.NONE`).
   * @param batch - the plan batch the losses belong to (its `indices` and `weights`).
   * @param options - see {@link UpdateOptions}.
   * @throws InfoBatchError 'SCALAR_LOSS' for an already reduced loss, 'SHAPE_MISMATCH' when the
   *   loss (or a scores tensor) does not have one value per sample.
   *
   * @example
   * ```ts
   * // Diffusion: train on the noise-prediction error, rank samples by it relative to their timestep's.
   * const buckets = ncs.bucketsOf(timesteps);           // ncs: a NoiseConditionedScore
   * optimizer.minimize(() => ibt.update(meanSquaredError(noise, predicted), batch, {
   *   scores: (losses) => ncs.score(losses, buckets),   // run in update order, once the losses are read
   * }));
   * ```
   */
  update(perSampleLoss: tf.Tensor, batch: PlanBatch, options: UpdateOptions = {}): tf.Scalar {
    const where = 'InfoBatchTfjs.update';
    if (!isTensorLike(perSampleLoss)) {
      throw new InfoBatchError('INVALID_TYPE', `'perSampleLoss' passed to ${where} must be a tf.Tensor but got ${describeValue(perSampleLoss)}.`);
    }
    assertPlanBatch(where, batch);
    assertOptionBag(where, 'options', options);
    assertKnownKeys(where, options, ['rescaleMode', 'scores']);
    const mode = options.rescaleMode ?? (this.rescaleMode === 'step' ? 'step' : 'loss');
    if (mode !== 'loss' && mode !== 'step') {
      throw new InfoBatchError('INVALID_OPTION', `'options.rescaleMode' passed to ${where} must be 'loss' or 'step' but got ${describeValue(mode)}.`);
    }
    const { indices, weights } = batch;
    const size = indices.length;
    assertPerSampleLoss(`'perSampleLoss' passed to ${where}`, perSampleLoss, size);
    const { scores } = options;
    if (scores !== undefined && typeof scores !== 'function') {
      if (!isTensorLike(scores)) {
        throw new InfoBatchError('INVALID_TYPE', `'options.scores' passed to ${where} must be a tf.Tensor of one score per sample or a function (losses) => scores but got ${describeValue(scores)}.`);
      }
      assertPerSampleLoss(`'options.scores' passed to ${where}`, scores, size);
    }
    const recorded = scores !== undefined && typeof scores !== 'function' ? scores : perSampleLoss;
    const shape = perSampleLoss.shape;
    const denominator = objectiveDenominator(weights, mode);
    const { objective, copy } = tf.tidy(() => {
      const flat = shape.length === 1 ? perSampleLoss : tf.reshape(perSampleLoss, [size]);
      // The multiplication stays when every weight is 1: skipping it changed how a CPU-resident loss
      // is read back on webgl/webgpu (the browser test's out-of-order read check failed without it).
      const weighted = tf.div(tf.sum(tf.mul(flat, tf.tensor1d(weights, 'float32'))), denominator) as tf.Scalar;
      // The record is read off the gradient path: a copy, as float32, whatever the scores' dtype.
      const kept = recorded === perSampleLoss ? flat : tf.reshape(recorded, [size]);
      return { objective: weighted, copy: kept.dtype === 'float32' ? tf.clone(kept) : tf.cast(kept, 'float32') };
    });
    tf.keep(copy); // survives the caller's tidy / minimize until its read settles
    this.scheduleRecord(copy, Int32Array.from(indices), scores === undefined ? 'losses' : typeof scores === 'function' ? scores : 'scores');
    return objective;
  }

  /**
   * Waits until every loss read started so far is recorded; rethrows, once, the first failure.
   * @throws InfoBatchError naming the epoch, step and sample ids of a batch whose losses could not
   *   be read or recorded (its `code` is the core's, e.g. 'NON_FINITE_LOSS'; `cause` holds the original error).
   */
  async flush(): Promise<void> {
    for (;;) {
      const tail = this.tail;
      await tail;
      if (tail === this.tail) break;
    }
    if (this.failures.length === 0) return;
    const [first, ...rest] = this.failures;
    this.failures = [];
    const { epoch, step, indices, cause } = first!;
    const ids = Array.from(indices.subarray(0, 5)).join(', ') + (indices.length > 5 ? ', …' : '');
    const when = epoch < 0 ? `step ${step} (before any beginEpoch)` : `step ${step} of epoch ${epoch}`;
    const reason = cause instanceof Error ? cause.message : String(cause);
    const code: InfoBatchErrorCode = cause instanceof InfoBatchError ? cause.code : 'INVALID_STATE';
    const more = rest.length > 0 ? ` ${rest.length} later batch(es) failed too and were not recorded either.` : '';
    throw new InfoBatchError(code, `InfoBatchTfjs.flush: the per-sample losses of ${when} (${indices.length} samples, ids ${ids}) could not be recorded, so those samples keep their old scores: ${reason}${more}`, { cause });
  }

  /** Totals of the run so far (see {@link InfoBatch.summary}); await {@link InfoBatchTfjs.flush} first for an exact `lossesRecorded`. */
  summary(): RunSummary {
    return this.ib.summary();
  }

  /**
   * The core's checkpoint bytes ({@link InfoBatch.saveState}).
   * @throws InfoBatchError 'INVALID_STATE' while loss reads are pending: `await flush()` first.
   */
  saveState(): Uint8Array {
    if (this.pendingReads > 0) {
      throw new InfoBatchError('INVALID_STATE', `InfoBatchTfjs.saveState was called with ${this.pendingReads} loss read(s) still pending, so the scores are incomplete; await ibt.flush() first.`);
    }
    return this.ib.saveState();
  }

  /**
   * Reads `copy` asynchronously and records it, in call order: as losses, as scores, or through a
   * function that turns the read losses into scores.
   */
  private scheduleRecord(copy: tf.Tensor, indices: Int32Array, as: 'losses' | 'scores' | ((losses: Float32Array) => ArrayLike<number>)): void {
    const epoch = this.epoch;
    const step = this.step++;
    let read: Promise<ReadResult>;
    try {
      read = copy.data().then(
        (values) => ({ values }),
        (error: unknown) => ({ error }),
      );
    } catch (error) {
      read = Promise.resolve({ error });
    }
    // Dispose the copy as soon as its read settles; recording waits for its turn below.
    read = read.then((result) => {
      copy.dispose();
      return result;
    });
    this.pendingReads++;
    this.tail = this.tail.then(async () => {
      const result = await read;
      this.pendingReads--;
      if ('error' in result) {
        this.failures.push({ epoch, step, indices, cause: result.error });
        return;
      }
      const start = performance.now();
      try {
        if (as === 'losses') this.ib.recordLosses(indices, result.values);
        else if (as === 'scores') this.ib.recordScores(indices, result.values);
        else this.ib.recordScores(indices, scoresFrom(as, result.values as Float32Array));
      } catch (cause) {
        this.failures.push({ epoch, step, indices, cause });
      } finally {
        this.recordingMilliseconds += performance.now() - start;
      }
    });
  }
}
