import { annealingStartEpoch } from '../core/annealing.js';
import { InfoBatchError } from '../core/errors.js';
import { fullSelection, keptCount } from '../core/full-selection.js';
import type { PolicyContext, PolicySelection, PruningPolicy } from '../core/policy.js';
import { assertInteger, assertKnownKeys, assertNumberInRange, assertOptionBag } from '../core/validate.js';
import { lossGroupBoundaries, lossGroupScratch, type LossGroupScratch } from './loss-groups.js';
import { randomSubset } from './random-subset.js';

/**
 * What SeTa does in the epochs from `floor(delta · numEpochs)` on: `'partial'` (the paper's
 * partial annealing) keeps the random subset but drops the window; `'full'` uses the full data.
 */
export type SetaAnnealing = 'partial' | 'full';

/** Options of {@link SetaPolicy}. */
export interface SetaPolicyOptions {
  /**
   * Fraction of all samples removed by the random step each epoch (keeps `round((1 − r)·N)`).
   * @defaultValue 0.1
   */
  readonly pruneRatio?: number;
  /**
   * Number of loss groups (k-means clusters of the loss) the random subset is split into.
   * @defaultValue 5
   */
  readonly numGroups?: number;
  /**
   * Fraction of the groups inside the sliding window: `round(numGroups · windowScale)` groups,
   * rounded half to even like Python's `round` (5 groups at 0.9 give a window of 4).
   * @defaultValue 0.9
   */
  readonly windowScale?: number;
  /**
   * Fraction of the run that uses the window; later epochs anneal (see `annealing`).
   * @defaultValue 0.875
   */
  readonly delta?: number;
  /**
   * The annealing epochs: `'partial'` keeps only the random step (the paper), `'full'` uses the
   * full data with weight 1.
   * @defaultValue 'partial'
   */
  readonly annealing?: SetaAnnealing;
}

const OPTION_KEYS = ['pruneRatio', 'numGroups', 'windowScale', 'delta', 'annealing'] as const;

/**
 * SeTa, Scale Efficient Training (Zhou, Gao and Wang, "Scale Efficient Training for Large
 * Datasets", CVPR 2025, arXiv 2503.13385; reference code github.com/mrazhou/SeTa). Each epoch:
 * (1) a uniform random `round((1 − r)·N)` of all samples is kept (removing redundancy);
 * (2) its scored samples are clustered by loss into `numGroups` groups (1-D k-means), ordered from
 * easy (low loss) to hard; (3) only the groups inside a window of `w = round(numGroups ·
 * windowScale)` groups are kept, the window sliding one group towards the hard end each epoch and
 * starting over (cyclic): in epoch `e ≥ 1` it covers groups `[s, s + w)` with
 * `s = e mod (numGroups − w + 1)`; epoch 0 keeps every group. From `floor(delta · numEpochs)` on,
 * the window is dropped and only the random step remains ("partial annealing"), or the full data
 * is used with `annealing: 'full'`. Every weight is 1: SeTa does not rescale (the reference code
 * never changes a weight), so its epochs are not unbiased estimates of the full data's.
 *
 * The defaults are the reference code's CIFAR setting, labelled lossless there
 * (`scripts/cifar.sh`: ratio 0.1, 5 groups, window scale 0.9, delta 0.875).
 *
 * Simplifications and departures from the reference code:
 * - k-means is exact 1-D Lloyd's algorithm started from equal-count groups (deterministic),
 *   where the reference runs scikit-learn's `KMeans(random_state=0)` (k-means++ start); both
 *   find a local optimum, which may differ. With fewer distinct losses than groups, fewer groups
 *   are formed and the window is `round(groups · windowScale)` of those (the reference fails or
 *   splits equal losses arbitrarily).
 * - Unscored samples have no loss: those drawn by the random step are kept and not grouped (the
 *   reference gives them a made-up loss of 3).
 * - The random step keeps `round((1 − r)·N)` where the reference truncates, and `pruneRatio` is
 *   checked instead of silently clamped to 0.9.
 * - Randomness comes from the run's seed and the epoch (the reference reseeds NumPy's global
 *   generator), and the window position comes from the epoch index (the reference counts calls).
 *
 * @example
 * ```ts
 * const ib = new InfoBatch({ numSamples, numEpochs, policy: new SetaPolicy({ pruneRatio: 0.3, numGroups: 10, windowScale: 0.5 }) });
 * ```
 */
export class SetaPolicy implements PruningPolicy {
  readonly config: {
    /** The policy's name in the registry and in checkpoints. */
    readonly name: 'seta';
    /** The `pruneRatio` option, default applied. */
    readonly pruneRatio: number;
    /** The `numGroups` option, default applied. */
    readonly numGroups: number;
    /** The `windowScale` option, default applied. */
    readonly windowScale: number;
    /** The `delta` option, default applied. */
    readonly delta: number;
    /** The `annealing` option, default applied. */
    readonly annealing: SetaAnnealing;
  };
  private numSamples = 0;
  private values: Float32Array | undefined;
  private scratch: LossGroupScratch | undefined;

  constructor(options: SetaPolicyOptions = {}) {
    const where = 'new SetaPolicy()';
    assertOptionBag(where, 'options', options);
    assertKnownKeys(where, options, OPTION_KEYS);
    const { pruneRatio = 0.1, numGroups = 5, windowScale = 0.9, delta = 0.875, annealing = 'partial' } = options;
    assertNumberInRange(where, 'pruneRatio', pruneRatio, 0, 1, '[)');
    assertInteger(where, 'numGroups', numGroups, 1, 2 ** 31 - 1);
    assertNumberInRange(where, 'windowScale', windowScale, 0, 1, '(]');
    assertNumberInRange(where, 'delta', delta, 0, 1, '[]');
    if (annealing !== 'partial' && annealing !== 'full') {
      throw new InfoBatchError('INVALID_OPTION', `'annealing' passed to ${where} must be 'partial' or 'full' but got ${JSON.stringify(annealing)}.`);
    }
    if (roundHalfEven(numGroups * windowScale) < 1) {
      throw new InfoBatchError(
        'OUT_OF_RANGE',
        `'windowScale' passed to ${where} must leave at least one group in the window, i.e. round(numGroups · windowScale) >= 1, but got ${windowScale} with numGroups ${numGroups}.`,
      );
    }
    this.config = { name: 'seta', pruneRatio, numGroups, windowScale, delta, annealing };
  }

  attach(numSamples: number): void {
    if (this.numSamples !== 0) {
      throw new InfoBatchError('INVALID_STATE', 'This SetaPolicy is already attached to an InfoBatch run; create one policy per run.');
    }
    this.numSamples = numSamples;
  }

  planEpoch({ epoch, numEpochs, numSamples, scores, random, buffers }: PolicyContext): PolicySelection {
    const { pruneRatio, numGroups, windowScale, delta, annealing } = this.config;
    const keep = keptCount(numSamples, pruneRatio);
    const annealed = epoch >= annealingStartEpoch(numEpochs, delta);
    if (annealed && (annealing === 'full' || keep === numSamples)) return fullSelection(numSamples, false, buffers);

    // (1) Random step over all samples.
    const subset = randomSubset(random, numSamples, keep);
    if (annealed) return ones(subset, numSamples);

    // (2) Loss groups of the subset's scored samples.
    const values = (this.values ??= new Float32Array(keep));
    let scored = 0;
    for (let p = 0; p < keep; p++) {
      const s = scores[subset[p]!]!;
      if (s === s) values[scored++] = s;
    }
    if (epoch === 0 || scored === 0) return ones(subset, numSamples);
    const bounds = lossGroupBoundaries(values, scored, numGroups, (this.scratch ??= lossGroupScratch(keep)));

    // (3) The window over the groups, easy to hard, cyclic; a value interval [lower, upper).
    const groups = bounds.length + 1;
    const width = Math.max(1, roundHalfEven(groups * windowScale));
    const start = epoch % (groups - width + 1);
    const lower = start === 0 ? Number.NEGATIVE_INFINITY : bounds[start - 1]!;
    const upper = start + width === groups ? Number.POSITIVE_INFINITY : bounds[start + width - 1]!;
    let length = 0;
    for (let p = 0; p < keep; p++) {
      const s = scores[subset[p]!]!;
      if (s !== s || (s >= lower && s < upper)) length++;
    }
    const indices = new Int32Array(length);
    let position = 0;
    for (let p = 0; p < keep; p++) {
      const index = subset[p]!;
      const s = scores[index]!;
      if (s !== s || (s >= lower && s < upper)) indices[position++] = index;
    }
    return { indices, weights: new Float32Array(length).fill(1), pruning: true, wellLearned: numSamples, threshold: Number.NaN };
  }
}

/** The subset itself, every weight 1. */
function ones(indices: Int32Array, numSamples: number): PolicySelection {
  return { indices, weights: new Float32Array(indices.length).fill(1), pruning: true, wellLearned: numSamples, threshold: Number.NaN };
}

/** Rounds half to even, like Python's `round` (used by the reference code for the window). */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}
