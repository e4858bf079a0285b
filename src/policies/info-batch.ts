import { annealingStartEpoch } from '../core/annealing.js';
import { InfoBatchError } from '../core/errors.js';
import { fullSelection, keptCount } from '../core/full-selection.js';
import type { PolicyContext, PolicySelection, PruningPolicy } from '../core/policy.js';
import { assertThresholdRule, computeThreshold, type ThresholdRule } from '../core/threshold.js';
import { assertKnownKeys, assertNumberInRange, assertOptionBag } from '../core/validate.js';

/** Options of {@link InfoBatchPolicy}. */
export interface InfoBatchPolicyOptions {
  /**
   * Fraction of the well-learned samples (score below the threshold) skipped in a pruning epoch.
   * @defaultValue 0.5
   */
  readonly pruneRatio?: number;
  /**
   * Fraction of the run that prunes; later epochs use the full data (annealing). 1 disables
   * annealing (an ablation of the paper).
   * @defaultValue 0.875
   */
  readonly delta?: number;
  /**
   * Threshold rule splitting off the well-learned set.
   * @defaultValue 'mean'
   */
  readonly threshold?: ThresholdRule;
  /**
   * Up-weight kept well-learned samples by the inverse of their keep probability; `false` is the
   * paper's "no rescaling" ablation (biased).
   * @defaultValue true
   */
  readonly rescale?: boolean;
}

const OPTION_KEYS = ['pruneRatio', 'delta', 'threshold', 'rescale'] as const;

/**
 * InfoBatch (Qin et al., ICLR 2024, arXiv 2303.04947): each pruning epoch keeps a uniform random
 * `round((1 − r)·|D1|)` of the well-learned set `D1` (score below the mean), weights them
 * `|D1| / k`, keeps every other sample (unscored ones included) with weight 1, and uses the full
 * data from epoch `floor(delta · numEpochs)` on.
 *
 * @example
 * ```ts
 * const ib = new InfoBatch({ numSamples, numEpochs, policy: new InfoBatchPolicy({ pruneRatio: 0.3 }) });
 * ```
 */
export class InfoBatchPolicy implements PruningPolicy {
  readonly config: { readonly name: 'infobatch'; readonly pruneRatio: number; readonly delta: number; readonly threshold: ThresholdRule; readonly rescale: boolean };
  private quantileScratch: Float32Array | undefined;
  private numSamples = 0;

  constructor(options: InfoBatchPolicyOptions = {}) {
    const where = 'new InfoBatchPolicy()';
    assertOptionBag(where, 'options', options);
    assertKnownKeys(where, options, OPTION_KEYS);
    const { pruneRatio = 0.5, delta = 0.875, threshold = 'mean', rescale = true } = options;
    assertNumberInRange(where, 'pruneRatio', pruneRatio, 0, 1, '[)');
    assertNumberInRange(where, 'delta', delta, 0, 1, '[]');
    assertThresholdRule(where, threshold);
    if (typeof rescale !== 'boolean') {
      throw new InfoBatchError('INVALID_TYPE', `'rescale' passed to ${where} must be a boolean but got ${String(rescale)}.`);
    }
    this.config = { name: 'infobatch', pruneRatio, delta, threshold, rescale };
  }

  attach(numSamples: number): void {
    if (this.numSamples !== 0) {
      throw new InfoBatchError('INVALID_STATE', 'This InfoBatchPolicy is already attached to an InfoBatch run; create one policy per run.');
    }
    this.numSamples = numSamples;
  }

  planEpoch({ epoch, numEpochs, numSamples, scores, random }: PolicyContext): PolicySelection {
    const { pruneRatio, delta, threshold: rule, rescale } = this.config;
    if (epoch >= annealingStartEpoch(numEpochs, delta)) return fullSelection(numSamples);
    if (rule !== 'mean') this.quantileScratch ??= new Float32Array(numSamples);
    const threshold = computeThreshold(scores, rule, this.quantileScratch);
    if (Number.isNaN(threshold)) return fullSelection(numSamples, true);

    let wellLearned = 0;
    for (let i = 0; i < numSamples; i++) if (scores[i]! < threshold) wellLearned++;
    const keep = keptCount(wellLearned, pruneRatio);
    const keptWeight = rescale && keep > 0 ? wellLearned / keep : 1;

    // One pass: every sample outside D1 (unscored ones included) with weight 1, and a uniform
    // random keep-subset of D1 by selection sampling (Knuth's Algorithm S: the t-th candidate of
    // n is kept with probability needed / remaining), with weight |D1| / k.
    const length = numSamples - wellLearned + keep;
    const indices = new Int32Array(length);
    const weights = new Float32Array(length);
    let position = 0;
    let remaining = wellLearned;
    let needed = keep;
    for (let i = 0; i < numSamples; i++) {
      if (!(scores[i]! < threshold)) {
        indices[position] = i;
        weights[position++] = 1;
      } else {
        if (needed > 0 && (needed === remaining || random.nextInt(remaining) < needed)) {
          indices[position] = i;
          weights[position++] = keptWeight;
          needed--;
        }
        remaining--;
      }
    }
    return { indices, weights, pruning: true, wellLearned, threshold };
  }
}
