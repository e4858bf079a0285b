import { annealingStartEpoch } from '../core/annealing.js';
import { InfoBatchError } from '../core/errors.js';
import { fullSelection, keptCount } from '../core/full-selection.js';
import type { PolicyContext, PolicySelection, PruningPolicy } from '../core/policy.js';
import { assertKnownKeys, assertNumberInRange, assertOptionBag } from '../core/validate.js';
import { randomSubset } from './random-subset.js';

/** Options of {@link DynamicRandomPolicy}. */
export interface DynamicRandomPolicyOptions {
  /**
   * Fraction of all samples skipped in each pruning epoch (each keeps `round((1 − r)·N)`, at least 1).
   * @defaultValue 0.5
   */
  readonly pruneRatio?: number;
  /**
   * Fraction of the run that prunes; later epochs use the full data (annealing, as in InfoBatch).
   * @defaultValue 0.875
   */
  readonly delta?: number;
  /**
   * Weight each kept sample `N / k`, the inverse of its inclusion probability, so each epoch's
   * weighted sum is an unbiased estimate of the full data's.
   * @defaultValue true
   */
  readonly rescale?: boolean;
}

const OPTION_KEYS = ['pruneRatio', 'delta', 'rescale'] as const;

/**
 * Dynamic random pruning, the "random pruning at equal saving" rival of InfoBatch: each pruning
 * epoch visits a new uniform random `k = round((1 − r)·N)` of all samples (scores are ignored),
 * each weighted `N / k`, and epochs from `floor(delta · numEpochs)` on use the full data. Raju et
 * al. (arXiv 2111.12621) found uniform dynamic pruning a strong baseline; InfoBatch (arXiv
 * 2303.04947) compares with it at equal saving.
 *
 * @example
 * ```ts
 * const ib = new InfoBatch({ numSamples, numEpochs, policy: new DynamicRandomPolicy({ pruneRatio: 0.4 }) });
 * ```
 */
export class DynamicRandomPolicy implements PruningPolicy {
  readonly config: {
    /** The policy's name in the registry and in checkpoints. */
    readonly name: 'dynamic-random';
    /** The `pruneRatio` option, default applied. */
    readonly pruneRatio: number;
    /** The `delta` option, default applied. */
    readonly delta: number;
    /** The `rescale` option, default applied. */
    readonly rescale: boolean;
  };
  private numSamples = 0;

  constructor(options: DynamicRandomPolicyOptions = {}) {
    const where = 'new DynamicRandomPolicy()';
    assertOptionBag(where, 'options', options);
    assertKnownKeys(where, options, OPTION_KEYS);
    const { pruneRatio = 0.5, delta = 0.875, rescale = true } = options;
    assertNumberInRange(where, 'pruneRatio', pruneRatio, 0, 1, '[)');
    assertNumberInRange(where, 'delta', delta, 0, 1, '[]');
    if (typeof rescale !== 'boolean') {
      throw new InfoBatchError('INVALID_TYPE', `'rescale' passed to ${where} must be a boolean but got ${String(rescale)}.`);
    }
    this.config = { name: 'dynamic-random', pruneRatio, delta, rescale };
  }

  attach(numSamples: number): void {
    if (this.numSamples !== 0) {
      throw new InfoBatchError('INVALID_STATE', 'This DynamicRandomPolicy is already attached to an InfoBatch run; create one policy per run.');
    }
    this.numSamples = numSamples;
  }

  planEpoch({ epoch, numEpochs, numSamples, random, buffers }: PolicyContext): PolicySelection {
    const { pruneRatio, delta, rescale } = this.config;
    if (epoch >= annealingStartEpoch(numEpochs, delta)) return fullSelection(numSamples, false, buffers);
    const keep = keptCount(numSamples, pruneRatio);
    const indices = randomSubset(random, numSamples, keep);
    const weight = rescale ? numSamples / keep : 1;
    return { indices, weights: new Float32Array(keep).fill(weight), pruning: true, wellLearned: numSamples, threshold: Number.NaN };
  }
}
