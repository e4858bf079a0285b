import { InfoBatchPolicy, type InfoBatchPolicyOptions } from '../policies/info-batch.js';
import { createPolicy } from '../policies/registry.js';
import { canonicalJson } from './canonical-json.js';
import { decodeRunState, encodeRunStateChunks, runIdentity, type PlanSource, type RunState } from './checkpoint-state.js';
import { DEFAULT_CHUNK_BYTES } from './checkpoint.js';
import { compactSelection, memberWords, type CompactBuffers } from './compact-plan.js';
import { EpochPlan, type PlanStats } from './epoch-plan.js';
import { describeValue, InfoBatchError } from './errors.js';
import type { PolicyConfig, PolicySelection, PruningPolicy } from './policy.js';
import { SeededRandom } from './random.js';
import { shuffleCompact, shufflePlan, type ShuffleScratch } from './shuffle-plan.js';
import { assertScoreSmoothing, newestLossWeight, type ScoreSmoothing } from './score-smoothing.js';
import type { ThresholdRule } from './threshold.js';
import { assertArrayLike, assertInteger, assertKnownKeys, assertOptionBag } from './validate.js';
import { weightedMean } from './weighted-mean.js';

/** Options of {@link InfoBatch}. */
export interface InfoBatchOptions {
  /** Number of samples in the training set (ids are `0 … numSamples − 1`). */
  readonly numSamples: number;
  /** Total epochs of the run (annealing is placed from it), at most 1,000,000 (4 bytes each are kept). */
  readonly numEpochs: number;
  /**
   * Fraction of well-learned samples skipped per pruning epoch (default policy only).
   * @defaultValue 0.5
   */
  readonly pruneRatio?: number;
  /**
   * Fraction of the run that prunes before the full-data epochs (default policy only).
   * @defaultValue 0.875
   */
  readonly delta?: number;
  /**
   * Threshold rule of the well-learned set (default policy only).
   * @defaultValue 'mean'
   */
  readonly threshold?: ThresholdRule;
  /**
   * Overall fraction of sample visits to save, in (0, 1), instead of a fixed `pruneRatio` (default
   * policy only; see {@link InfoBatchPolicyOptions.targetSaving}): each pruning epoch's prune ratio
   * adapts so the whole run saves this much. Not allowed together with `pruneRatio`.
   * @defaultValue undefined (a fixed `pruneRatio`)
   */
  readonly targetSaving?: number;
  /**
   * Highest per-epoch prune ratio `targetSaving` may use, in (0, 1) (default policy only).
   * @defaultValue 0.9
   */
  readonly maxPruneRatio?: number;
  /**
   * The training batch size, so that a pruned epoch's last batch has a size full-data epochs have
   * too (default policy only; see {@link InfoBatchPolicyOptions.alignToBatchSize}). tfjs's
   * `fitWithInfoBatch` and `trainWithInfoBatch` set it to their `batchSize` unless given; `1`
   * turns it off.
   * @defaultValue undefined (no alignment)
   */
  readonly alignToBatchSize?: number;
  /**
   * Seed of every random choice; with the same seed and losses, runs are identical everywhere.
   * An integer in [0, 2^32).
   * @defaultValue 0
   */
  readonly seed?: number;
  /**
   * The pruning policy; build it with its own options (for example `new UcbPolicy({...})`).
   * @defaultValue an {@link InfoBatchPolicy} built from `pruneRatio`, `delta` and `threshold`
   */
  readonly policy?: PruningPolicy;
  /**
   * How scores follow losses.
   * @defaultValue the policy's own rule, else `'last'`
   */
  readonly scoreSmoothing?: ScoreSmoothing;
  /**
   * Accept negative losses and scores (for objectives such as negative log-likelihoods that can go
   * below 0). Off by default, because cross-entropy and squared errors never do and a negative value
   * usually means a wrong loss was passed.
   * @defaultValue false
   */
  readonly allowNegativeLosses?: boolean;
}

/** Totals of a run so far, from {@link InfoBatch.summary}. */
export interface RunSummary {
  /** Distinct epochs whose plan was made. */
  readonly epochsPlanned: number;
  /** Sample visits the planned epochs ask for. */
  readonly samplesVisited: number;
  /** Sample visits skipped compared with the full data over the planned epochs. */
  readonly samplesSkipped: number;
  /** `numSamples × epochsPlanned`. */
  readonly fullDataSamples: number;
  /** `samplesSkipped / fullDataSamples` (0 before any plan). */
  readonly savedFraction: number;
  /** Per-sample losses (or scores, {@link InfoBatch.recordScores}) recorded so far. */
  readonly lossesRecorded: number;
}

/**
 * Where a run continues, from {@link InfoBatch.resumePoint}: the epoch to run and the first plan
 * position of it not yet done. `epoch === numEpochs` once the last epoch is complete.
 */
export interface ResumePoint {
  /** 0-based epoch to continue (or begin). */
  readonly epoch: number;
  /** Plan positions of that epoch already done; skip them. */
  readonly position: number;
}

/** Caller-owned buffers a plan is written into: `numSamples` ids and weights (or more). */
export interface PlanBuffers {
  /** Receives the plan's sample ids. */
  readonly indices: Int32Array;
  /** Receives the plan's weights; must not share memory with `indices`. */
  readonly weights: Float32Array;
}

/** Options of {@link InfoBatch.beginEpoch}. */
export interface BeginEpochOptions {
  /**
   * Buffers to write the plan into instead of allocating new arrays; the plan's `indices` and
   * `weights` are then views of them, overwritten by the next call that uses them. With them, a
   * steady-state epoch allocates no buffer.
   * @defaultValue undefined (new arrays for each plan)
   */
  readonly into?: PlanBuffers;
}

/** Options of {@link InfoBatch.saveStateChunks}. */
export interface SaveStateChunksOptions {
  /**
   * Largest chunk, in bytes (at least 4).
   * @defaultValue 4194304 (4 MiB)
   */
  readonly chunkBytes?: number;
  /**
   * Write every chunk into the same array instead of a new one: each chunk is then valid only
   * until you ask for the next, so write it first. Saves a checkpoint of any size with one
   * chunk of memory.
   * @defaultValue false
   */
  readonly reuseChunk?: boolean;
}

/** The epoch last begun: how its plan is rebuilt, the plan object while it is held, the positions done. */
interface InProgress {
  readonly epoch: number;
  position: number;
  readonly pruning: boolean;
  readonly stats: PlanStats;
  readonly source: PlanSource;
  /** The plan object, returned again as it is (made again from `source` after a restore). */
  plan: EpochPlan | undefined;
}

/** Options of {@link InfoBatch.loadState}. */
export interface LoadStateOptions {
  /** Policy instance to restore into; needed for policies that are not built in. */
  readonly policy?: PruningPolicy;
  /** When given, the checkpoint must be for this many samples. */
  readonly numSamples?: number;
}

const OPTION_KEYS = [
  'numSamples', 'numEpochs', 'pruneRatio', 'delta', 'threshold', 'targetSaving', 'maxPruneRatio', 'alignToBatchSize', 'seed', 'policy', 'scoreSmoothing', 'allowNegativeLosses',
] as const;
/** Options of {@link InfoBatchOptions} that build the default {@link InfoBatchPolicy}. */
const POLICY_OPTION_KEYS = ['pruneRatio', 'delta', 'threshold', 'targetSaving', 'maxPruneRatio', 'alignToBatchSize'] as const;
const MAX_SEED = 0xffffffff;
/** Scores decoded by {@link InfoBatch.loadState}, taken over by the constructor it calls next. */
let adoptedScores: Float32Array | undefined;
/** Most epochs of a run: each has a plan length in the state and its checkpoints (4 MB at this limit). */
const MAX_EPOCHS = 1_000_000;
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * InfoBatch: unbiased dynamic data pruning (Qin et al., ICLR 2024). Each epoch, a random part of
 * the well-learned samples is skipped and the rest are up-weighted so the expected gradient is
 * unchanged; the last epochs use the full data.
 *
 * @example
 * ```ts
 * const ib = new InfoBatch({ numSamples: 50_000, numEpochs: 30 });
 * for (let epoch = 0; epoch < 30; epoch++) {
 *   for (const batch of ib.beginEpoch(epoch).batches(128)) {
 *     const losses = perSampleLosses(batch.indices);       // your model, no reduction
 *     ib.recordLosses(batch.indices, losses);
 *     train(ib.weightedMean(losses, batch.weights));       // sum(w·l) / B
 *   }
 * }
 * ```
 */
export class InfoBatch {
  /** Number of samples in the training set. */
  readonly numSamples: number;
  /** Total epochs of the run. */
  readonly numEpochs: number;
  /** Seed of every random choice. */
  readonly seed: number;
  /** The pruning policy in use. */
  readonly policy: PruningPolicy;
  /** How scores follow losses. */
  readonly scoreSmoothing: ScoreSmoothing;
  /** Whether negative losses are accepted. */
  readonly allowNegativeLosses: boolean;

  private scoreValues: Float32Array;
  private readonly plannedLengths: Int32Array;
  private lossesRecorded = 0;
  /**
   * The epoch last begun, kept to resume it exactly (see markPosition): its selection in compact
   * form (about 1.1 bytes per sample) and the generator's state before its shuffle, from which
   * the plan is rebuilt bit for bit, not the plan's arrays (8 bytes per kept sample).
   */
  private inProgress: InProgress | undefined;
  /** The shuffle's transient buffers, reused across epochs. */
  private readonly shuffleScratch: ShuffleScratch = {};
  /** The compact form's buffers, reused from one epoch to the next. */
  private compactBuffers: CompactBuffers | undefined;
  /** Counts the changes of state, so that a checkpoint being written in chunks notices one. */
  private changes = 0;

  constructor(options: InfoBatchOptions) {
    const where = 'new InfoBatch()';
    assertOptionBag(where, 'options', options);
    assertKnownKeys(where, options, OPTION_KEYS);
    const { numSamples, numEpochs, seed = 0, policy, scoreSmoothing, allowNegativeLosses = false } = options;
    assertInteger(where, 'numSamples', numSamples, 1, 2 ** 31 - 1);
    assertInteger(where, 'numEpochs', numEpochs, 1, MAX_EPOCHS);
    assertInteger(where, 'seed', seed, 0, MAX_SEED);
    if (typeof allowNegativeLosses !== 'boolean') {
      throw new InfoBatchError('INVALID_TYPE', `'allowNegativeLosses' passed to ${where} must be a boolean but got ${describeValue(allowNegativeLosses)}.`);
    }
    let chosenPolicy: PruningPolicy;
    if (policy === undefined) {
      const policyOptions = Object.fromEntries(POLICY_OPTION_KEYS.filter((key) => options[key] !== undefined).map((key) => [key, options[key]]));
      try {
        chosenPolicy = new InfoBatchPolicy(policyOptions);
      } catch (error) {
        // The policy's checks name 'new InfoBatchPolicy()'; the caller passed these options here.
        if (error instanceof InfoBatchError) throw new InfoBatchError(error.code, error.message.replaceAll('new InfoBatchPolicy()', where), { cause: error });
        throw error;
      }
    } else {
      assertPolicy(where, policy);
      const stray = POLICY_OPTION_KEYS.filter((key) => options[key] !== undefined);
      if (stray.length > 0) {
        throw new InfoBatchError(
          'INVALID_OPTION',
          `${where} got both 'policy' and ${stray.map((k) => `'${k}'`).join(', ')}; these options belong to the policy: set them when you build it (e.g. new InfoBatchPolicy({ pruneRatio })).`,
        );
      }
      chosenPolicy = policy;
    }
    const smoothing = scoreSmoothing ?? chosenPolicy.scoreSmoothing ?? 'last';
    assertScoreSmoothing(where, smoothing);
    chosenPolicy.attach(numSamples, numEpochs);

    this.numSamples = numSamples;
    this.numEpochs = numEpochs;
    this.seed = seed;
    this.policy = chosenPolicy;
    this.scoreSmoothing = smoothing;
    this.allowNegativeLosses = allowNegativeLosses;
    // loadState hands over the scores it decoded, rather than have a second array made and filled.
    const adopted = adoptedScores;
    adoptedScores = undefined;
    this.scoreValues = adopted?.length === numSamples ? adopted : new Float32Array(numSamples).fill(Number.NaN);
    this.plannedLengths = new Int32Array(numEpochs).fill(-1);
  }

  /**
   * Per-sample scores (the last recorded loss or {@link InfoBatch.recordScores} score, or its
   * moving average), NaN where a sample has never been scored. A live view: do not write to it.
   */
  get scores(): Readonly<Float32Array> {
    return this.scoreValues;
  }

  /**
   * Makes the plan of `epoch`: which samples to visit, in which order, with which weights. The
   * plan is a function of the seed, the epoch and the scores when the epoch begins. The plan of
   * the epoch in progress (the one last begun) is made once: asking for that epoch again returns
   * the same plan, losses recorded since notwithstanding, also after {@link InfoBatch.loadState}
   * (see {@link InfoBatch.resumePoint}): the same object, or after a restore the same plan
   * rebuilt (into `into` when given) from its compact form. Beginning another epoch lets go of
   * the plan before, then makes a new one. Without `into`, the plan's arrays are views of new
   * arrays of `numSamples` entries; with it, a steady-state epoch allocates no buffer. Besides the
   * plan, the instance keeps about 5 bytes per sample: the scores, and the epoch in progress in
   * compact form (what a checkpoint holds).
   * @param epoch - 0-based epoch in `[0, numEpochs)`.
   *
   * @example
   * ```ts
   * const into = { indices: new Int32Array(numSamples), weights: new Float32Array(numSamples) };
   * const plan = ib.beginEpoch(epoch, { into }); // plan.indices is a view of into.indices
   * ```
   */
  beginEpoch(epoch: number, options: BeginEpochOptions = {}): EpochPlan {
    const where = 'InfoBatch.beginEpoch';
    assertInteger(where, 'epoch', epoch, 0, this.numEpochs - 1);
    assertOptionBag(where, 'options', options);
    assertKnownKeys(where, options, ['into']);
    const { into } = options;
    if (into !== undefined) assertPlanBuffers(where, into, this.numSamples);
    if (this.inProgress?.epoch === epoch) return this.planInProgress(into);
    this.inProgress = undefined; // the plan of the epoch before is not needed to make this one
    this.changes++;
    const random = SeededRandom.derive(this.seed, epoch);
    // The policy writes its selection into the plan's own buffers, where it is then shuffled in
    // place from its compact form: no second pair of arrays.
    const output = into ?? { indices: new Int32Array(this.numSamples), weights: new Float32Array(this.numSamples) };
    const selection = this.policy.planEpoch({
      epoch,
      numEpochs: this.numEpochs,
      numSamples: this.numSamples,
      scores: this.scoreValues,
      random,
      seed: this.seed,
      plannedLengths: this.plannedLengths,
      buffers: output,
    });
    assertSelection(this.policy.config.name, selection, this.numSamples);
    const length = selection.indices.length;
    const target = { indices: output.indices.subarray(0, length), weights: output.weights.subarray(0, length) };
    this.compactBuffers ??= { members: new Uint32Array(memberWords(this.numSamples)), weightIds: new Uint8Array(this.numSamples) };
    const compact = compactSelection(selection.indices, selection.weights, this.numSamples, this.compactBuffers);
    let source: PlanSource;
    if (compact !== undefined) {
      source = { kind: 'compact', compact, random: random.state() };
      shuffleCompact(random, compact, target, this.shuffleScratch);
    } else {
      // A policy's own order: shuffled from a copy when it wrote into the plan's buffers.
      const shares = selection.indices.buffer === output.indices.buffer || selection.weights.buffer === output.weights.buffer;
      shufflePlan(random, shares ? { indices: selection.indices.slice(), weights: selection.weights.slice() } : selection, target, this.shuffleScratch);
      source = { kind: 'explicit', indices: target.indices, weights: target.weights };
    }
    this.plannedLengths[epoch] = length;
    const stats: PlanStats = { kept: length, pruned: this.numSamples - length, wellLearned: selection.wellLearned, threshold: selection.threshold };
    const plan = new EpochPlan(epoch, selection.pruning, target.indices, target.weights, stats);
    this.inProgress = { epoch, position: 0, pruning: selection.pruning, stats, source, plan };
    return plan;
  }

  /** The plan of the epoch in progress: the object made when it began, or rebuilt from its source after a restore. */
  private planInProgress(into: PlanBuffers | undefined): EpochPlan {
    const current = this.inProgress!;
    if (current.plan !== undefined) return current.plan;
    const { source, stats } = current;
    let indices: Int32Array;
    let weights: Float32Array;
    if (source.kind === 'explicit') {
      ({ indices, weights } = source);
    } else {
      const length = source.compact.length;
      indices = into?.indices.subarray(0, length) ?? new Int32Array(length);
      weights = into?.weights.subarray(0, length) ?? new Float32Array(length);
      shuffleCompact(SeededRandom.fromState(source.random), source.compact, { indices, weights }, this.shuffleScratch);
    }
    const plan = new EpochPlan(current.epoch, current.pruning, indices, weights, stats);
    current.plan = plan;
    return plan;
  }

  /**
   * Records that the first `position` positions of the epoch in progress are done (trained, their
   * losses recorded), so that a checkpoint saved now resumes after them. Call it after each batch,
   * or at least before each {@link InfoBatch.saveState}; `position` counts positions of the plan
   * you iterate (of your shard, if you shard).
   * @param epoch - the epoch in progress (the one last begun).
   * @param position - positions done, in `[0, plan.length]`; `plan.length` marks the epoch complete.
   *
   * @example
   * ```ts
   * const plan = ib.beginEpoch(epoch);
   * for (let start = 0; start < plan.length; start += 128) {
   *   const indices = plan.indices.subarray(start, start + 128);
   *   // ... train on the batch, ib.recordLosses(indices, losses) ...
   *   ib.markPosition(epoch, start + indices.length);
   * }
   * ```
   */
  markPosition(epoch: number, position: number): void {
    const where = 'InfoBatch.markPosition';
    assertInteger(where, 'epoch', epoch, 0, this.numEpochs - 1);
    const current = this.inProgress;
    if (current === undefined) {
      throw new InfoBatchError('INVALID_STATE', `${where} was called for epoch ${epoch} but no epoch has begun; call beginEpoch(${epoch}) first.`);
    }
    if (current.epoch !== epoch) {
      throw new InfoBatchError('INVALID_STATE', `${where} was called for epoch ${epoch} but the epoch in progress is ${current.epoch}; mark positions of the epoch last begun.`);
    }
    assertInteger(where, 'position', position, 0, current.stats.kept);
    current.position = position;
    this.changes++;
  }

  /**
   * Where the run continues: the epoch in progress and the position marked in it (see
   * {@link InfoBatch.markPosition}), or the next epoch once the one in progress is complete. With
   * no epoch in progress (a fresh run, or a version-1 checkpoint), the epoch after the last one
   * planned, from position 0.
   *
   * Resume contract: `InfoBatch.loadState(ib.saveState())` continues exactly. Call
   * `beginEpoch(resumePoint().epoch)`, which returns the plan in progress unchanged, skip its
   * first `position` positions, and go on; the result is the run that would have happened without
   * the interruption.
   *
   * @example
   * ```ts
   * const ib = InfoBatch.loadState(bytes);
   * const { epoch: from, position } = ib.resumePoint();
   * for (let epoch = from; epoch < ib.numEpochs; epoch++) {
   *   const plan = ib.beginEpoch(epoch);
   *   for (let start = epoch === from ? position : 0; start < plan.length; start += 128) {
   *     // ... train on plan.indices.subarray(start, start + 128), then markPosition ...
   *   }
   * }
   * ```
   */
  resumePoint(): ResumePoint {
    const current = this.inProgress;
    if (current !== undefined) {
      const { epoch, position, stats } = current;
      return position >= stats.kept ? { epoch: epoch + 1, position: 0 } : { epoch, position };
    }
    let last = -1;
    this.plannedLengths.forEach((length, epoch) => {
      if (length >= 0) last = epoch;
    });
    return { epoch: last + 1, position: 0 };
  }

  /**
   * Records one batch's per-sample losses as the scores of its samples (what the paper does). All
   * inputs are checked before anything is written, so a bad call leaves the state unchanged. To
   * rank samples by something other than their training loss, use {@link InfoBatch.recordScores}.
   * @param indices - sample ids of the batch (integers in `[0, numSamples)`).
   * @param losses - one finite loss per sample, aligned with `indices` (no reduction).
   */
  recordLosses(indices: ArrayLike<number>, losses: ArrayLike<number>): void {
    this.record('InfoBatch.recordLosses', 'losses', 'loss', indices, losses);
  }

  /**
   * Records one batch's scores: the values the plans rank samples by (below the threshold means
   * well learned), when they should not be the training loss itself. Use it where a sample's loss
   * on one visit says little about the next, because the loss follows randomness drawn per visit
   * (a diffusion timestep and noise, an MAE mask): record e.g. the loss divided by the expected
   * loss at the drawn noise level ({@link NoiseConditionedScore}), and keep training on the loss.
   * Scores follow the same rules as losses (finite, non-negative unless `allowNegativeLosses`,
   * smoothed by `scoreSmoothing`, seen by the policy), and a bad call leaves the state unchanged.
   * @param indices - sample ids of the batch (integers in `[0, numSamples)`).
   * @param scores - one finite score per sample, aligned with `indices`.
   *
   * @example
   * ```ts
   * const losses = perSampleLosses(batch.indices, timesteps);   // training loss, random timesteps
   * ib.recordScores(batch.indices, ncs.score(losses, ncs.bucketsOf(timesteps)));
   * train(ib.weightedMean(losses, batch.weights));             // the objective stays on the loss
   * ```
   */
  recordScores(indices: ArrayLike<number>, scores: ArrayLike<number>): void {
    this.record('InfoBatch.recordScores', 'scores', 'score', indices, scores);
  }

  /** Checks a batch of values, then writes them as scores (through the smoothing). */
  private record(where: string, name: string, noun: string, indices: ArrayLike<number>, values: ArrayLike<number>): void {
    assertArrayLike(where, 'indices', indices);
    if (typeof values === 'number') {
      throw new InfoBatchError('SCALAR_LOSS', `'${name}' passed to ${where} is a single number (${values}); pass one ${noun} per sample, computed without reduction (for tfjs: Reduction.NONE).`);
    }
    assertArrayLike(where, name, values);
    const count = indices.length;
    if (values.length !== count) {
      if (values.length === 1 && count > 1) {
        throw new InfoBatchError('SCALAR_LOSS', `'${name}' passed to ${where} has 1 value for a batch of ${count} samples: it looks like an already reduced ${noun}. Pass one ${noun} per sample, computed without reduction (for tfjs: Reduction.NONE).`);
      }
      throw new InfoBatchError('SHAPE_MISMATCH', `'${name}' passed to ${where} must have one value per index: got ${values.length} ${name} for ${count} indices.`);
    }
    const { numSamples, allowNegativeLosses } = this;
    const integerIndices = indices instanceof Int32Array || indices instanceof Uint16Array || indices instanceof Uint8Array;
    for (let j = 0; j < count; j++) {
      const index = indices[j]!;
      if (!(index >= 0 && index < numSamples) || (!integerIndices && !Number.isInteger(index))) {
        throw new InfoBatchError('OUT_OF_RANGE', `'indices[${j}]' passed to ${where} must be an integer sample id in [0, ${numSamples - 1}] but got ${describeValue(index)}.`);
      }
      const value = values[j]!;
      if (typeof value !== 'number') {
        throw new InfoBatchError('INVALID_TYPE', `'${name}[${j}]' passed to ${where} (sample ${index}) must be a number but got ${describeValue(value)}; nothing was recorded.`);
      }
      if (!Number.isFinite(Math.fround(value))) {
        // Scores are float32: a finite value beyond its range would be stored as ±Infinity.
        const what = Number.isFinite(value) ? `${value}, beyond the float32 range (magnitude at most ${FLOAT32_MAX}) that scores are stored in` : describeValue(value);
        throw new InfoBatchError('NON_FINITE_LOSS', `'${name}[${j}]' passed to ${where} (sample ${index}) is ${what}; ${name} must be finite. Check the model's outputs and learning rate; nothing was recorded.`);
      }
      if (value < 0 && !allowNegativeLosses) {
        throw new InfoBatchError('OUT_OF_RANGE', `'${name}[${j}]' passed to ${where} (sample ${index}) is ${value}, below 0; pass per-sample ${name} such as cross-entropy, or set allowNegativeLosses: true if your ${name} can be negative. Nothing was recorded.`);
      }
    }
    this.changes++;
    this.policy.observeLosses?.(indices, values, this.scoreValues);
    const scores = this.scoreValues;
    const alpha = newestLossWeight(this.scoreSmoothing);
    if (alpha === 1) {
      for (let j = 0; j < count; j++) scores[indices[j]!] = values[j]!;
    } else {
      for (let j = 0; j < count; j++) {
        const index = indices[j]!;
        const previous = scores[index]!;
        scores[index] = previous === previous ? alpha * values[j]! + (1 - alpha) * previous : values[j]!;
      }
    }
    this.lossesRecorded += count;
  }

  /**
   * The loss to train on: `sum(w·l) / B` with `B` the batch length (not the sum of weights, which
   * is what keeps each epoch's expected gradient equal to the full data's).
   * @param losses - per-sample losses of the batch.
   * @param weights - the batch's weights from the plan.
   */
  weightedMean(losses: ArrayLike<number>, weights: ArrayLike<number>): number {
    return weightedMean(losses, weights);
  }

  /** Totals over the epochs planned so far. */
  summary(): RunSummary {
    let epochsPlanned = 0;
    let samplesVisited = 0;
    for (const length of this.plannedLengths) {
      if (length >= 0) {
        epochsPlanned++;
        samplesVisited += length;
      }
    }
    const fullDataSamples = epochsPlanned * this.numSamples;
    const samplesSkipped = fullDataSamples - samplesVisited;
    return {
      epochsPlanned,
      samplesVisited,
      samplesSkipped,
      fullDataSamples,
      savedFraction: fullDataSamples === 0 ? 0 : samplesSkipped / fullDataSamples,
      lossesRecorded: this.lossesRecorded,
    };
  }

  /**
   * The whole pruning state (options, policy, scores, totals, and the epoch in progress with its
   * plan, in compact form, and the position marked in it) as versioned bytes with a checksum;
   * {@link InfoBatch.loadState} continues the run exactly (see {@link InfoBatch.resumePoint}).
   * About 5 bytes per sample. For states larger than one array can hold (billions of samples),
   * use {@link InfoBatch.saveStateChunks}.
   * @throws InfoBatchError 'UNSUPPORTED' when the state does not fit in one array here.
   */
  saveState(): Uint8Array {
    const chunks = [...this.saveStateChunks({ chunkBytes: Number.MAX_SAFE_INTEGER })];
    return chunks[0]!;
  }

  /**
   * {@link InfoBatch.saveState}'s bytes in chunks of at most `chunkBytes` (new arrays, made one at
   * a time as you iterate): write each one as it comes, and a checkpoint of any size is written
   * without ever being one array. Concatenated, they are `saveState()`'s bytes; pass them to
   * {@link InfoBatch.loadState} as they are (an array of chunks) or concatenated. The state must
   * not change while you iterate (an INVALID_STATE error says so if it does).
   *
   * @example
   * ```ts
   * const file = await open('run.ibck.tmp', 'w');
   * for (const chunk of ib.saveStateChunks()) await file.write(chunk);
   * ```
   */
  *saveStateChunks(options: SaveStateChunksOptions = {}): Generator<Uint8Array> {
    const where = 'InfoBatch.saveStateChunks';
    assertOptionBag(where, 'options', options);
    assertKnownKeys(where, options, ['chunkBytes', 'reuseChunk']);
    const { chunkBytes = DEFAULT_CHUNK_BYTES, reuseChunk = false } = options;
    assertInteger(where, 'chunkBytes', chunkBytes, 4, Number.MAX_SAFE_INTEGER);
    if (typeof reuseChunk !== 'boolean') throw new InfoBatchError('INVALID_TYPE', `'reuseChunk' passed to ${where} must be a boolean but got ${describeValue(reuseChunk)}.`);
    const current = this.inProgress;
    const changes = this.changes;
    const chunks = encodeRunStateChunks({
      ...this.identityState(),
      lossesRecorded: this.lossesRecorded,
      scores: this.scoreValues,
      plannedLengths: this.plannedLengths,
      epochInProgress: current === undefined ? null : {
        epoch: current.epoch,
        position: current.position,
        pruning: current.pruning,
        wellLearned: current.stats.wellLearned,
        threshold: current.stats.threshold,
        length: current.stats.kept,
        source: current.source,
      },
      policyState: this.policy.saveState?.(),
    }, chunkBytes, reuseChunk);
    for (;;) {
      if (this.changes !== changes) {
        throw new InfoBatchError('INVALID_STATE', `${where}: the state changed (losses recorded, an epoch begun or a position marked) while its chunks were being read; the chunks so far are not a checkpoint. Read them all before training goes on.`);
      }
      let next: IteratorResult<Uint8Array>;
      try {
        next = chunks.next();
      } catch (cause) {
        if (!(cause instanceof RangeError)) throw cause;
        throw new InfoBatchError('UNSUPPORTED', `${where}: a chunk of ${chunkBytes} bytes is larger than one array can be here (${cause.message}); pass a smaller chunkBytes, or use saveStateChunks() instead of saveState().`, { cause });
      }
      if (next.done === true) return;
      yield next.value;
    }
  }

  /** The options a checkpoint must share with the run it is restored into. */
  private identityState(): Pick<RunState, 'numSamples' | 'numEpochs' | 'seed' | 'scoreSmoothing' | 'allowNegativeLosses' | 'policy'> {
    return {
      numSamples: this.numSamples,
      numEpochs: this.numEpochs,
      seed: this.seed,
      scoreSmoothing: this.scoreSmoothing,
      allowNegativeLosses: this.allowNegativeLosses,
      policy: this.policy.config,
    };
  }

  /**
   * Rebuilds a run from {@link InfoBatch.saveState}'s bytes (format version 1, 2 or 3), or from
   * the chunks of {@link InfoBatch.saveStateChunks} (an array, split anywhere). The bytes are
   * checked (checksum, sizes, ranges, finiteness) before anything is allocated for them.
   * @param bytes - the checkpoint: one array, or its chunks in order.
   * @throws InfoBatchError 'CORRUPT_CHECKPOINT' naming the field when the bytes are damaged or
   *   hold an impossible state; 'CHECKPOINT_MISMATCH' when `options.numSamples` differs.
   *
   * @example
   * ```ts
   * await writeAtomically(path, ib.saveState()); // durable atomic write, from infobatch/data/node
   * const resumed = InfoBatch.loadState(new Uint8Array(await readFile(path)));
   * const { epoch, position } = resumed.resumePoint();
   * ```
   */
  static loadState(bytes: Uint8Array | readonly Uint8Array[], options: LoadStateOptions = {}): InfoBatch {
    const where = 'InfoBatch.loadState';
    assertOptionBag(where, 'options', options);
    assertKnownKeys(where, options, ['policy', 'numSamples']);
    const state = decodeRunState(where, bytes);
    if (options.numSamples !== undefined && state.numSamples !== options.numSamples) {
      throw new InfoBatchError('CHECKPOINT_MISMATCH', `Checkpoint passed to ${where} is for numSamples ${describeValue(state.numSamples)} but ${options.numSamples} were expected; load the checkpoint of this dataset.`);
    }
    let instance: InfoBatch;
    try {
      adoptedScores = state.scores;
      instance = new InfoBatch({
        numSamples: state.numSamples,
        numEpochs: state.numEpochs,
        seed: state.seed,
        scoreSmoothing: state.scoreSmoothing,
        allowNegativeLosses: state.allowNegativeLosses,
        policy: options.policy ?? createPolicy(state.policy),
      });
    } catch (cause) {
      throw new InfoBatchError('CORRUPT_CHECKPOINT', `Checkpoint passed to ${where} holds invalid options: ${(cause as Error).message}`, { cause });
    } finally {
      adoptedScores = undefined;
    }
    instance.applyState(where, state);
    return instance;
  }

  /**
   * Restores {@link InfoBatch.saveState}'s bytes (or {@link InfoBatch.saveStateChunks}'s chunks)
   * into this instance, which must have the same options; on any error the state is unchanged.
   * @param bytes - the checkpoint: one array, or its chunks in order.
   */
  restoreState(bytes: Uint8Array | readonly Uint8Array[]): void {
    this.applyState('InfoBatch.restoreState', decodeRunState('InfoBatch.restoreState', bytes));
  }

  /** Checks a decoded checkpoint against this run, then adopts it; nothing changes on error. */
  private applyState(where: string, state: RunState): void {
    const saved = runIdentity(state);
    for (const [key, value] of Object.entries(runIdentity(this.identityState()))) {
      if (canonicalJson(saved[key]) !== canonicalJson(value)) {
        throw new InfoBatchError('CHECKPOINT_MISMATCH', `Checkpoint passed to ${where} has ${key} ${canonicalJson(saved[key])} but this run has ${canonicalJson(value)}; load it into a run built with the same options.`);
      }
    }
    const hasPolicyState = this.policy.saveState !== undefined;
    if (hasPolicyState !== (state.policyState !== undefined)) {
      throw new InfoBatchError('CORRUPT_CHECKPOINT', `Checkpoint passed to ${where} is not usable: 'policyState' is ${hasPolicyState ? 'missing although' : 'present although'} policy '${this.policy.config.name}' ${hasPolicyState ? 'keeps' : 'keeps no'} state. Load the bytes that saveState() wrote, unmodified.`);
    }
    if (state.policyState !== undefined) this.policy.loadState?.(state.policyState);
    if (this.scoreValues !== state.scores) this.scoreValues.set(state.scores);
    this.plannedLengths.set(state.plannedLengths);
    this.lossesRecorded = state.lossesRecorded;
    this.changes++;
    const progress = state.epochInProgress;
    this.inProgress = progress === null ? undefined : {
      epoch: progress.epoch,
      position: progress.position,
      pruning: progress.pruning,
      stats: { kept: progress.length, pruned: this.numSamples - progress.length, wellLearned: progress.wellLearned, threshold: progress.threshold },
      source: progress.source,
      plan: undefined,
    };
  }
}

function assertPolicy(where: string, policy: unknown): asserts policy is PruningPolicy {
  const candidate = policy as Partial<PruningPolicy> | null;
  if (
    typeof candidate !== 'object' || candidate === null ||
    typeof candidate.planEpoch !== 'function' || typeof candidate.attach !== 'function' ||
    typeof candidate.config !== 'object' || candidate.config === null || typeof candidate.config.name !== 'string'
  ) {
    throw new InfoBatchError('INVALID_OPTION', `'policy' passed to ${where} must implement PruningPolicy (config.name, attach, planEpoch) but got ${describeValue(policy)}.`);
  }
}

function assertPlanBuffers(where: string, into: unknown, numSamples: number): asserts into is PlanBuffers {
  const candidate = into as Partial<PlanBuffers> | null;
  if (typeof candidate !== 'object' || candidate === null || !(candidate.indices instanceof Int32Array) || !(candidate.weights instanceof Float32Array)) {
    throw new InfoBatchError('INVALID_TYPE', `'into' passed to ${where} must be { indices: Int32Array, weights: Float32Array } but got ${describeValue(into)}.`);
  }
  const { indices, weights } = candidate;
  if (indices.length < numSamples || weights.length < numSamples) {
    throw new InfoBatchError('SHAPE_MISMATCH', `'into' passed to ${where} must hold at least numSamples (${numSamples}) entries in each array but got ${indices.length} indices and ${weights.length} weights.`);
  }
  if (indices.buffer === weights.buffer && indices.byteOffset < weights.byteOffset + weights.byteLength && weights.byteOffset < indices.byteOffset + indices.byteLength) {
    throw new InfoBatchError('INVALID_OPTION', `'into.indices' and 'into.weights' passed to ${where} share memory; give them separate buffers.`);
  }
}

function assertSelection(name: string, selection: PolicySelection, numSamples: number): void {
  const { indices, weights } = selection;
  if (!(indices instanceof Int32Array) || !(weights instanceof Float32Array) || indices.length !== weights.length || indices.length > numSamples) {
    throw new InfoBatchError('INVALID_STATE', `Policy '${name}' returned an invalid selection: indices must be an Int32Array and weights a Float32Array of equal length at most numSamples (${numSamples}).`);
  }
  // What a checkpoint of the plan must satisfy to load again (see checkpoint-state.ts).
  for (let p = 0; p < weights.length; p++) {
    const index = indices[p]!;
    const weight = weights[p]!;
    if (index < 0 || index >= numSamples || !(weight >= 0 && weight < Infinity)) {
      throw new InfoBatchError('INVALID_STATE', `Policy '${name}' returned an invalid selection: sample ${index} with weight ${describeValue(weight)} at position ${p}; ids must be in [0, ${numSamples - 1}] and weights finite and >= 0.`);
    }
  }
}
