import type { SeededRandom } from './random.js';
import type { ScoreSmoothing } from './score-smoothing.js';

/** JSON description of a policy: its `name` and options, enough to rebuild it from a checkpoint. */
export interface PolicyConfig {
  /** The policy's registry name, e.g. `'infobatch'`. */
  readonly name: string;
  readonly [option: string]: unknown;
}

/** What a policy sees when it plans an epoch. */
export interface PolicyContext {
  /** 0-based epoch being planned. */
  readonly epoch: number;
  /** Total epochs of the run. */
  readonly numEpochs: number;
  /** Number of samples in the dataset. */
  readonly numSamples: number;
  /** Per-sample scores, NaN where unscored. Read only: a policy must not write to it. */
  readonly scores: Float32Array;
  /** Random source derived from `(seed, epoch)` alone. */
  readonly random: SeededRandom;
  /** The run's seed, for policies that need run-level randomness (derive a stream from it). */
  readonly seed: number;
  /** Plan length of each epoch planned so far, -1 where not planned. Read only. */
  readonly plannedLengths: Int32Array;
  /**
   * Buffers of `numSamples` entries each, the plan's own (the caller's `into`, or the new arrays
   * of the plan), that a policy may fill and return views of (`subarray`) instead of allocating
   * its selection: the engine then shuffles the selection where it is. They are only valid until
   * the next `planEpoch`. Optional for policies to use.
   */
  readonly buffers?: SelectionBuffers;
}

/** Reusable output buffers of a selection: `numSamples` ids and weights. */
export interface SelectionBuffers {
  /** Room for the selected sample ids. */
  readonly indices: Int32Array;
  /** Room for their weights. */
  readonly weights: Float32Array;
}

/** The samples a policy keeps for one epoch (any order: the engine shuffles them). */
export interface PolicySelection {
  /** Kept sample ids, each at most once. */
  readonly indices: Int32Array;
  /** Loss weight of each kept sample, aligned with `indices`. */
  readonly weights: Float32Array;
  /** False when the epoch uses the full data with every weight 1. */
  readonly pruning: boolean;
  /** Size of the set the policy pruned from. */
  readonly wellLearned: number;
  /** Score threshold used, NaN when none. */
  readonly threshold: number;
}

/**
 * The seam every pruning policy implements. A policy decides which samples an epoch visits and
 * with what weights; the {@link InfoBatch} engine owns scores, randomness, shuffling, validation
 * and checkpoints.
 */
export interface PruningPolicy {
  /** JSON name and options; `createPolicy(config)` rebuilds a built-in policy from it. */
  readonly config: PolicyConfig;
  /** Score smoothing the policy is defined with, used when the engine is given none. */
  readonly scoreSmoothing?: ScoreSmoothing;
  /** Binds the policy to a run; called once by the engine, before any other call. */
  attach(numSamples: number, numEpochs: number): void;
  /** Chooses the samples and weights of one epoch. Must be a pure function of its context and state. */
  planEpoch(context: PolicyContext): PolicySelection;
  /**
   * Sees each batch's validated losses before the engine updates `scores` (e.g. to keep a
   * variance). Must not throw.
   */
  observeLosses?(indices: ArrayLike<number>, losses: ArrayLike<number>, scores: Float32Array): void;
  /** The policy's own state for a checkpoint (omit when it has none). */
  saveState?(): Uint8Array;
  /** Restores {@link PruningPolicy.saveState}'s bytes; throws without changing state when invalid. */
  loadState?(bytes: Uint8Array): void;
}
