import { annealingStartEpoch } from '../core/annealing.js';
import { InfoBatchError } from '../core/errors.js';
import { fullSelection, keptCount } from '../core/full-selection.js';
import type { PolicyContext, PolicySelection, PruningPolicy } from '../core/policy.js';
import { SeededRandom } from '../core/random.js';
import { assertKnownKeys, assertNumberInRange, assertOptionBag } from '../core/validate.js';
import { randomSubset } from './random-subset.js';

/** Options of {@link StaticRandomPolicy}. */
export interface StaticRandomPolicyOptions {
  /**
   * Fraction of the samples left out of the run (the subset keeps `round((1 − r)·N)`, at least 1).
   * @defaultValue 0.5
   */
  readonly pruneRatio?: number;
  /**
   * Weight each kept sample `N / k`, so a weighted epoch sum has the scale of the full data's.
   * @defaultValue true
   */
  readonly rescale?: boolean;
  /**
   * Fraction of the run trained on the subset; epochs from `floor(delta · numEpochs)` on use the
   * full data. 1 (the classic baseline) never anneals.
   * @defaultValue 1
   */
  readonly delta?: number;
}

/** Stream of the run-level random subset: `SeededRandom.derive(seed, 0x5a7, 0)`. */
const SUBSET_STREAM = 0x5a7;
const OPTION_KEYS = ['pruneRatio', 'rescale', 'delta'] as const;

/**
 * Static random pruning, the classic "train on a random subset" baseline (one of the static
 * methods InfoBatch, Qin et al., ICLR 2024, arXiv 2303.04947, is compared with): one uniform random
 * subset of `k = round((1 − r)·N)` samples, drawn from the seed alone, is used in every epoch,
 * each kept sample weighted `N / k` when `rescale` is on.
 *
 * The subset is fixed for the whole run, so, unlike InfoBatch or dynamic random pruning, an epoch
 * is not an unbiased estimate of the full data: `N / k` makes the weighted sum unbiased only on
 * average over seeds (over the choice of subset), and the pruned samples are never seen.
 *
 * @example
 * ```ts
 * const ib = new InfoBatch({ numSamples, numEpochs, policy: new StaticRandomPolicy({ pruneRatio: 0.3 }) });
 * ```
 */
export class StaticRandomPolicy implements PruningPolicy {
  readonly config: {
    /** The policy's name in the registry and in checkpoints. */
    readonly name: 'static-random';
    /** The `pruneRatio` option, default applied. */
    readonly pruneRatio: number;
    /** The `rescale` option, default applied. */
    readonly rescale: boolean;
    /** The `delta` option, default applied. */
    readonly delta: number;
  };
  private numSamples = 0;
  private subset: { readonly seed: number; readonly indices: Int32Array } | undefined;

  constructor(options: StaticRandomPolicyOptions = {}) {
    const where = 'new StaticRandomPolicy()';
    assertOptionBag(where, 'options', options);
    assertKnownKeys(where, options, OPTION_KEYS);
    const { pruneRatio = 0.5, rescale = true, delta = 1 } = options;
    assertNumberInRange(where, 'pruneRatio', pruneRatio, 0, 1, '[)');
    assertNumberInRange(where, 'delta', delta, 0, 1, '[]');
    if (typeof rescale !== 'boolean') {
      throw new InfoBatchError('INVALID_TYPE', `'rescale' passed to ${where} must be a boolean but got ${String(rescale)}.`);
    }
    this.config = { name: 'static-random', pruneRatio, rescale, delta };
  }

  attach(numSamples: number): void {
    if (this.numSamples !== 0) {
      throw new InfoBatchError('INVALID_STATE', 'This StaticRandomPolicy is already attached to an InfoBatch run; create one policy per run.');
    }
    this.numSamples = numSamples;
  }

  planEpoch({ epoch, numEpochs, numSamples, seed, buffers }: PolicyContext): PolicySelection {
    const { pruneRatio, rescale, delta } = this.config;
    if (epoch >= annealingStartEpoch(numEpochs, delta)) return fullSelection(numSamples, false, buffers);
    // The subset depends on the seed alone; it is cached, and a copy is returned because the
    // engine shuffles the selection in place.
    if (this.subset?.seed !== seed) {
      const keep = keptCount(numSamples, pruneRatio);
      this.subset = { seed, indices: randomSubset(SeededRandom.derive(seed, SUBSET_STREAM, 0), numSamples, keep) };
    }
    const indices = this.subset.indices.slice();
    const weight = rescale ? numSamples / indices.length : 1;
    return { indices, weights: new Float32Array(indices.length).fill(weight), pruning: true, wellLearned: numSamples, threshold: Number.NaN };
  }
}
