import { annealingStartEpoch } from '../core/annealing.js';
import { InfoBatchError } from '../core/errors.js';
import { fullSelection } from '../core/full-selection.js';
import type { PolicyContext, PolicySelection, PruningPolicy } from '../core/policy.js';
import type { ScoreSmoothing } from '../core/score-smoothing.js';
import { assertKnownKeys, assertNumberInRange, assertOptionBag } from '../core/validate.js';
import { selectByScore } from './score-selection.js';

/** Options of {@link EpsilonGreedyPolicy}. */
export interface EpsilonGreedyPolicyOptions {
  /**
   * Fraction of the scored samples skipped per pruning epoch (the budget keeps `round((1 − r)·S)`).
   * @defaultValue 0.5
   */
  readonly pruneRatio?: number;
  /**
   * Share of the kept budget drawn uniformly at random from the samples not taken greedily
   * (exploration); the rest of the budget goes to the highest scores.
   * @defaultValue 0.1
   */
  readonly epsilon?: number;
  /**
   * Weight of the newest loss in the score's exponential moving average,
   * `score = a·loss + (1 − a)·score` (the engine's `scoreSmoothing` unless it is given one).
   * 0.2 (a choice of this library, not a value quoted from the paper) weighs about the last five losses.
   * @defaultValue 0.2
   */
  readonly emaAlpha?: number;
  /**
   * Fraction of the run that prunes; later epochs use the full data. The paper prunes until the
   * end, hence 1.
   * @defaultValue 1
   */
  readonly delta?: number;
  /**
   * Weight the randomly drawn samples `R / m` (the inverse of their inclusion probability: `m`
   * drawn of the `R` scored samples not taken greedily), so each epoch's weighted sum is an
   * unbiased estimate of the full data's given the greedy part. The paper does not rescale.
   * @defaultValue false
   */
  readonly rescale?: boolean;
}

const OPTION_KEYS = ['pruneRatio', 'epsilon', 'emaAlpha', 'delta', 'rescale'] as const;

/**
 * ε-greedy dynamic data pruning (Raju, Daruwalla and Lipasti, "Accelerating Deep Learning with
 * Dynamic Data Pruning", arXiv 2111.12621). A sample's score is an exponential moving average of
 * its loss. Each pruning epoch keeps a budget of `k = round((1 − r)·S)` of the `S` scored
 * samples: the `k − round(ε·k)` highest scores (the hardest samples; ties go to the lower index)
 * and `round(ε·k)` drawn uniformly at random from the other scored samples, so that samples
 * whose importance changes during training ("sometimes" samples) keep being revisited. Unscored
 * samples have no score and are always kept, with weight 1, on top of the budget. Weights are 1,
 * as in the paper, unless `rescale` is on.
 *
 * Departures from the paper: scores come from the training forward passes (a pruned sample keeps
 * its score until it is seen again), not a separate scoring pass; the selection is remade every
 * epoch (no longer selection period); the top-k is found by linear-time selection, not a sort.
 *
 * @example
 * ```ts
 * const ib = new InfoBatch({ numSamples, numEpochs, policy: new EpsilonGreedyPolicy({ pruneRatio: 0.3, epsilon: 0.2 }) });
 * ```
 */
export class EpsilonGreedyPolicy implements PruningPolicy {
  readonly config: {
    /** The policy's name in the registry and in checkpoints. */
    readonly name: 'epsilon-greedy';
    /** The `pruneRatio` option, default applied. */
    readonly pruneRatio: number;
    /** The `epsilon` option, default applied. */
    readonly epsilon: number;
    /** The `emaAlpha` option, default applied. */
    readonly emaAlpha: number;
    /** The `delta` option, default applied. */
    readonly delta: number;
    /** The `rescale` option, default applied. */
    readonly rescale: boolean;
  };
  readonly scoreSmoothing: ScoreSmoothing;
  private numSamples = 0;
  private scratch: Float32Array | undefined;

  constructor(options: EpsilonGreedyPolicyOptions = {}) {
    const where = 'new EpsilonGreedyPolicy()';
    assertOptionBag(where, 'options', options);
    assertKnownKeys(where, options, OPTION_KEYS);
    const { pruneRatio = 0.5, epsilon = 0.1, emaAlpha = 0.2, delta = 1, rescale = false } = options;
    assertNumberInRange(where, 'pruneRatio', pruneRatio, 0, 1, '[)');
    assertNumberInRange(where, 'epsilon', epsilon, 0, 1, '[]');
    assertNumberInRange(where, 'emaAlpha', emaAlpha, 0, 1, '(]');
    assertNumberInRange(where, 'delta', delta, 0, 1, '[]');
    if (typeof rescale !== 'boolean') {
      throw new InfoBatchError('INVALID_TYPE', `'rescale' passed to ${where} must be a boolean but got ${String(rescale)}.`);
    }
    this.config = { name: 'epsilon-greedy', pruneRatio, epsilon, emaAlpha, delta, rescale };
    this.scoreSmoothing = { ema: emaAlpha };
  }

  attach(numSamples: number): void {
    if (this.numSamples !== 0) {
      throw new InfoBatchError('INVALID_STATE', 'This EpsilonGreedyPolicy is already attached to an InfoBatch run; create one policy per run.');
    }
    this.numSamples = numSamples;
  }

  planEpoch({ epoch, numEpochs, numSamples, scores, random, buffers }: PolicyContext): PolicySelection {
    const { pruneRatio, epsilon, delta, rescale } = this.config;
    if (epoch >= annealingStartEpoch(numEpochs, delta)) return fullSelection(numSamples, false, buffers);
    const scratch = (this.scratch ??= new Float32Array(numSamples));
    return selectByScore({ scores, random, scratch, buffers, pruneRatio, epsilon, rescale }) ?? fullSelection(numSamples, true, buffers);
  }
}
