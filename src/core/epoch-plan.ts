import { InfoBatchError } from './errors.js';
import { assertInteger, assertKnownKeys, assertOptionBag } from './validate.js';

/** Counts that describe how one epoch's plan was made. */
export interface PlanStats {
  /** Samples in the epoch's plan (before sharding). */
  readonly kept: number;
  /** Samples left out of this epoch. */
  readonly pruned: number;
  /** Size of the well-learned set the policy pruned from (0 in full-data epochs). */
  readonly wellLearned: number;
  /** Score threshold that split the well-learned set off; NaN when none was used. */
  readonly threshold: number;
}

/** One batch of a plan: views into the plan's arrays, not copies. */
export interface PlanBatch {
  /** Sample ids of this batch, in visiting order. */
  readonly indices: Int32Array;
  /** Weight of each sample of this batch, aligned with `indices`. */
  readonly weights: Float32Array;
}

/** Options of {@link EpochPlan.batches} and {@link EpochPlan.numBatches}. */
export interface BatchOptions {
  /**
   * Drop the last batch when it is shorter than `batchSize`.
   * @defaultValue false
   */
  readonly dropLast?: boolean;
}

/** Options of {@link EpochPlan.shard}. */
export interface ShardOptions {
  /**
   * Make shards equal by dropping the plan's tail instead of padding with repeated entries.
   * @defaultValue false
   */
  readonly dropLast?: boolean;
}

/**
 * The samples to visit in one epoch, in order, with their loss weights. Its length is known before
 * the epoch starts, so step-based learning-rate schedules can be set from it.
 *
 * @example
 * ```ts
 * const plan = ib.beginEpoch(epoch);
 * for (const batch of plan.batches(128)) {
 *   // forward batch.indices, train on ib.weightedMean(losses, batch.weights)
 * }
 * ```
 */
export class EpochPlan {
  /** 0-based epoch this plan is for. */
  readonly epoch: number;
  /** False in full-data (annealing) epochs, where every weight is exactly 1. */
  readonly pruning: boolean;
  /** Sample ids in visiting order. */
  readonly indices: Int32Array;
  /** Weight of each position, aligned with `indices`. */
  readonly weights: Float32Array;
  /** How the epoch's plan was made (for a shard: the whole epoch's figures). */
  readonly stats: PlanStats;

  /** @internal Plans are made by `InfoBatch.beginEpoch`. */
  constructor(epoch: number, pruning: boolean, indices: Int32Array, weights: Float32Array, stats: PlanStats) {
    if (indices.length !== weights.length) {
      throw new InfoBatchError(
        'SHAPE_MISMATCH',
        `EpochPlan needs one weight per index but got ${indices.length} indices and ${weights.length} weights.`,
      );
    }
    this.epoch = epoch;
    this.pruning = pruning;
    this.indices = indices;
    this.weights = weights;
    this.stats = stats;
  }

  /** Number of positions in the plan. */
  get length(): number {
    return this.indices.length;
  }

  /**
   * Number of batches {@link EpochPlan.batches} yields; use it for step-based schedules.
   * @param batchSize - positive integer batch length.
   */
  numBatches(batchSize: number, options: BatchOptions = {}): number {
    const dropLast = readDropLast('EpochPlan.numBatches', options);
    assertInteger('EpochPlan.numBatches', 'batchSize', batchSize, 1);
    return dropLast ? Math.floor(this.length / batchSize) : Math.ceil(this.length / batchSize);
  }

  /**
   * Consecutive batches of the plan as views (no copies).
   * @param batchSize - positive integer batch length.
   */
  batches(batchSize: number, options: BatchOptions = {}): Iterable<PlanBatch> {
    const count = this.numBatches(batchSize, options);
    const { indices, weights } = this;
    return {
      *[Symbol.iterator]() {
        for (let b = 0; b < count; b++) {
          const start = b * batchSize;
          const end = Math.min(start + batchSize, indices.length);
          yield { indices: indices.subarray(start, end), weights: weights.subarray(start, end) };
        }
      },
    };
  }

  /**
   * This rank's part of the plan for data-parallel training: rank `q` takes positions
   * `q, q + worldSize, …`. Shards are disjoint, equal in length and together cover the plan;
   * to make them equal the plan is padded by repeating its first entries (or its tail is
   * dropped with `dropLast`).
   * @param rank - this process's rank in `[0, worldSize)`.
   * @param worldSize - number of ranks.
   */
  shard(rank: number, worldSize: number, options: ShardOptions = {}): EpochPlan {
    const dropLast = readDropLast('EpochPlan.shard', options);
    assertInteger('EpochPlan.shard', 'worldSize', worldSize, 1);
    assertInteger('EpochPlan.shard', 'rank', rank, 0, worldSize - 1);
    const total = this.length;
    const shardLength = dropLast ? Math.floor(total / worldSize) : Math.ceil(total / worldSize);
    const indices = new Int32Array(shardLength);
    const weights = new Float32Array(shardLength);
    for (let s = 0; s < shardLength; s++) {
      const position = (rank + s * worldSize) % total; // wraps only into the padding
      indices[s] = this.indices[position]!;
      weights[s] = this.weights[position]!;
    }
    return new EpochPlan(this.epoch, this.pruning, indices, weights, this.stats);
  }
}

function readDropLast(where: string, options: BatchOptions): boolean {
  assertOptionBag(where, 'options', options);
  assertKnownKeys(where, options, ['dropLast']);
  const { dropLast = false } = options;
  if (typeof dropLast !== 'boolean') {
    throw new InfoBatchError('INVALID_TYPE', `'dropLast' passed to ${where} must be a boolean but got ${String(dropLast)}.`);
  }
  return dropLast;
}
