import { annealingStartEpoch } from '../core/annealing.js';
import { InfoBatchError } from '../core/errors.js';
import { fullSelection, keptCount, selectionArrays } from '../core/full-selection.js';
import type { PolicyContext, PolicySelection, PruningPolicy } from '../core/policy.js';
import { assertThresholdRule, computeThreshold, type ThresholdRule } from '../core/threshold.js';
import { assertInteger, assertKnownKeys, assertNumberInRange, assertOptionBag } from '../core/validate.js';

/** Options of {@link InfoBatchPolicy}. */
export interface InfoBatchPolicyOptions {
  /**
   * Fraction of the well-learned samples (score below the threshold) skipped in a pruning epoch.
   * Not allowed together with `targetSaving`.
   * @defaultValue 0.5 (when `targetSaving` is not given)
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
  /**
   * Overall fraction of sample visits to save over the whole run, in (0, 1): instead of a fixed
   * `pruneRatio`, each pruning epoch skips the saving still needed (from the lengths of the
   * epochs planned before it; an epoch never planned counts as skipping nothing) spread evenly
   * over the pruning epochs left, which gives a prune
   * ratio of the well-learned set clamped to `[0, maxPruneRatio]`. The target may be unreachable
   * when the well-learned set is small; `InfoBatch.summary().savedFraction` reports the saving
   * achieved. Not allowed together with `pruneRatio`.
   * @defaultValue undefined (a fixed `pruneRatio`)
   */
  readonly targetSaving?: number;
  /**
   * Highest per-epoch prune ratio `targetSaving` may use, in (0, 1). Only with `targetSaving`.
   * @defaultValue 0.9
   */
  readonly maxPruneRatio?: number;
  /**
   * The training batch size, to keep batch shapes: the kept count of the well-learned set is moved
   * (by less than one batch, towards the nearest choice) so that a pruned epoch's last batch has a
   * size that full-data epochs have too (a whole batch, or `numSamples % alignToBatchSize`). Without
   * it a pruned epoch may end in a batch of a few samples, whose step is as large as a whole
   * batch's and far noisier: with SGD on small data such steps make the training loss jump (iris,
   * `bench/fit-parity.ts`), and early stopping on `loss` then stops early. GPU backends (webgl,
   * webgpu) also compile kernels per shape, and a new last-batch size costs a compilation in every
   * pruned epoch. The weights stay `|D1| / k` for the `k` chosen, so the expected gradient stays
   * unbiased. tfjs's training functions set it to their batch size; `1` turns it off.
   * @defaultValue undefined (no alignment)
   */
  readonly alignToBatchSize?: number;
}

/**
 * The kept count nearest to `keep` (ties: the smaller change, then the larger count) for which the
 * plan length `numSamples − wellLearned + k` leaves a last batch full data has too: its remainder
 * mod `batchSize` is 0 or `numSamples % batchSize`. `k` stays in `[1, wellLearned]` (in
 * `[0, wellLearned]` when `keep` is 0); `k = wellLearned` (no pruning of D1) always qualifies.
 * @internal
 */
export function alignedKeptCount(keep: number, wellLearned: number, numSamples: number, batchSize: number): number {
  const base = numSamples - wellLearned;
  const fits = (k: number) => {
    const rest = (base + k) % batchSize;
    return rest === 0 || rest === numSamples % batchSize;
  };
  const low = keep === 0 ? 0 : 1;
  for (let change = 0; change < batchSize; change++) {
    if (keep + change <= wellLearned && fits(keep + change)) return keep + change;
    if (keep - change >= low && fits(keep - change)) return keep - change;
  }
  return wellLearned;
}

const OPTION_KEYS = ['pruneRatio', 'delta', 'threshold', 'rescale', 'targetSaving', 'maxPruneRatio', 'alignToBatchSize'] as const;

/**
 * InfoBatch (Qin et al., ICLR 2024, arXiv 2303.04947): each pruning epoch keeps a uniform random
 * `round((1 − r)·|D1|)` of the well-learned set `D1` (score below the mean), weights them
 * `|D1| / k`, keeps every other sample (unscored ones included) with weight 1, and uses the full
 * data from epoch `floor(delta · numEpochs)` on. With `targetSaving`, `r` adapts per epoch so the
 * whole run saves the asked fraction of sample visits (the weights stay `|D1| / k`, unbiased).
 *
 * @example
 * ```ts
 * const ib = new InfoBatch({ numSamples, numEpochs, policy: new InfoBatchPolicy({ pruneRatio: 0.3 }) });
 * const budgeted = new InfoBatch({ numSamples, numEpochs, policy: new InfoBatchPolicy({ targetSaving: 0.3 }) });
 * ```
 */
export class InfoBatchPolicy implements PruningPolicy {
  readonly config: {
    /** The policy's name in the registry and in checkpoints. */
    readonly name: 'infobatch';
    /** Present unless `targetSaving` is. */
    readonly pruneRatio?: number;
    /** The `delta` option, default applied. */
    readonly delta: number;
    /** The `threshold` option, default applied. */
    readonly threshold: ThresholdRule;
    /** The `rescale` option, default applied. */
    readonly rescale: boolean;
    /** Present only when given. */
    readonly targetSaving?: number;
    /** Present only with `targetSaving`. */
    readonly maxPruneRatio?: number;
    /** Present only when given. */
    readonly alignToBatchSize?: number;
  };
  private quantileScratch: Float32Array | undefined;
  private keptScratch: Uint32Array | undefined;
  /** Weights of samples outside (index 0) and inside (index 1) the well-learned set, as float32. */
  private readonly weightTable = new Float32Array([1, 1]);
  private numSamples = 0;

  constructor(options: InfoBatchPolicyOptions = {}) {
    const where = 'new InfoBatchPolicy()';
    assertOptionBag(where, 'options', options);
    assertKnownKeys(where, options, OPTION_KEYS);
    const { pruneRatio, delta = 0.875, threshold = 'mean', rescale = true, targetSaving, maxPruneRatio, alignToBatchSize } = options;
    assertNumberInRange(where, 'delta', delta, 0, 1, '[]');
    if (alignToBatchSize !== undefined) assertInteger(where, 'alignToBatchSize', alignToBatchSize, 1, 2 ** 31 - 1);
    // 1 aligns nothing (every length fits): kept out of the config, so that it names the same run
    // as no alignment (a checkpoint of an unaligned run resumes with alignToBatchSize: 1).
    const align = alignToBatchSize === undefined || alignToBatchSize === 1 ? {} : { alignToBatchSize };
    assertThresholdRule(where, threshold);
    if (typeof rescale !== 'boolean') {
      throw new InfoBatchError('INVALID_TYPE', `'rescale' passed to ${where} must be a boolean but got ${String(rescale)}.`);
    }
    if (targetSaving === undefined) {
      if (maxPruneRatio !== undefined) {
        throw new InfoBatchError('INVALID_OPTION', `'maxPruneRatio' passed to ${where} only applies with 'targetSaving'; set targetSaving, or use pruneRatio alone.`);
      }
      const ratio = pruneRatio ?? 0.5;
      assertNumberInRange(where, 'pruneRatio', ratio, 0, 1, '[)');
      this.config = { name: 'infobatch', pruneRatio: ratio, delta, threshold, rescale, ...align };
    } else {
      if (pruneRatio !== undefined) {
        throw new InfoBatchError('INVALID_OPTION', `${where} got both 'pruneRatio' and 'targetSaving'; pass one: targetSaving adapts the prune ratio of each epoch itself.`);
      }
      assertNumberInRange(where, 'targetSaving', targetSaving, 0, 1, '()');
      const maxRatio = maxPruneRatio ?? 0.9;
      assertNumberInRange(where, 'maxPruneRatio', maxRatio, 0, 1, '()');
      this.config = { name: 'infobatch', delta, threshold, rescale, targetSaving, maxPruneRatio: maxRatio, ...align };
    }
  }

  attach(numSamples: number, numEpochs: number): void {
    if (this.numSamples !== 0) {
      throw new InfoBatchError('INVALID_STATE', 'This InfoBatchPolicy is already attached to an InfoBatch run; create one policy per run.');
    }
    const { targetSaving, maxPruneRatio, delta } = this.config;
    if (targetSaving !== undefined && maxPruneRatio !== undefined) {
      // Even if every sample were well learned in every pruning epoch, at most maxPruneRatio of
      // them could be skipped in the floor(delta · numEpochs) pruning epochs.
      const ceiling = (maxPruneRatio * annealingStartEpoch(numEpochs, delta)) / numEpochs;
      if (targetSaving > ceiling) {
        throw new InfoBatchError(
          'OUT_OF_RANGE',
          `'targetSaving' ${targetSaving} of InfoBatchPolicy cannot be reached in a run of ${numEpochs} epochs with delta ${delta} and maxPruneRatio ${maxPruneRatio}: the saving is at most maxPruneRatio · floor(delta · numEpochs) / numEpochs = ${ceiling}. Lower targetSaving, or raise delta or maxPruneRatio.`,
        );
      }
    }
    this.numSamples = numSamples;
  }

  planEpoch(context: PolicyContext): PolicySelection {
    const { epoch, numEpochs, numSamples, scores, random, buffers } = context;
    const { pruneRatio, delta, threshold: rule, rescale } = this.config;
    if (epoch >= annealingStartEpoch(numEpochs, delta)) return fullSelection(numSamples, false, buffers);
    if (rule !== 'mean') this.quantileScratch ??= new Float32Array(numSamples);
    const threshold = computeThreshold(scores, rule, this.quantileScratch);
    if (Number.isNaN(threshold)) return fullSelection(numSamples, true, buffers);

    // Branch-free passes: whether a score is below the threshold is a coin flip the CPU cannot
    // predict, and mispredicted branches, not arithmetic, dominate a naive loop.
    let wellLearned = 0;
    for (let i = 0; i < numSamples; i++) wellLearned += +(scores[i]! < threshold);
    const chosen = pruneRatio !== undefined ? keptCount(wellLearned, pruneRatio) : this.targetKeptCount(context, wellLearned);
    const { alignToBatchSize } = this.config;
    const keep = alignToBatchSize === undefined ? chosen : alignedKeptCount(chosen, wellLearned, numSamples, alignToBatchSize);
    const keptWeight = rescale && keep > 0 ? wellLearned / keep : 1;

    // A uniform random keep-subset of D1 by selection sampling (Knuth's Algorithm S: the t-th
    // candidate of n is kept with probability needed / remaining). Its draws depend on the counts
    // alone, so the choices are made first, as one bit per candidate in D1's index order.
    const kept = this.keptBits(wellLearned);
    let remaining = wellLearned;
    let needed = keep;
    for (let t = 0; needed > 0; t++, remaining--) {
      const take = needed === remaining ? 1 : +(random.nextInt(remaining) < needed);
      kept[t >>> 5]! |= take << (t & 31);
      needed -= take;
    }
    // Then one pass writes every sample outside D1 (unscored ones included) with weight 1 and the
    // kept ones of D1 with weight |D1| / k, in index order. Each sample is written at the current
    // position, which advances only when the sample stays (position <= i, so always in bounds).
    const length = numSamples - wellLearned + keep;
    const { indices, weights } = selectionArrays(length, buffers, true);
    const weightOf = this.weightTable;
    weightOf[1] = keptWeight;
    let position = 0;
    let candidate = 0;
    for (let i = 0; i < numSamples; i++) {
      const inD1 = +(scores[i]! < threshold);
      const bit = (kept[candidate >>> 5]! >>> (candidate & 31)) & 1;
      candidate += inD1;
      indices[position] = i;
      weights[position] = weightOf[inD1]!;
      position += 1 - (inD1 & (bit ^ 1));
    }
    return { indices: indices.subarray(0, length), weights: weights.subarray(0, length), pruning: true, wellLearned, threshold };
  }

  /** A zeroed bit set of at least `count + 32` bits, reused across epochs. */
  private keptBits(count: number): Uint32Array {
    const words = (count >>> 5) + 2;
    if (this.keptScratch === undefined || this.keptScratch.length < words) this.keptScratch = new Uint32Array(words);
    this.keptScratch.fill(0, 0, words);
    return this.keptScratch;
  }

  /**
   * Kept part of `D1` under `targetSaving`: the visits still to skip (target minus what the
   * epochs planned before this one skipped) shared evenly by the pruning epochs left, at most
   * `maxPruneRatio · |D1|`, rounded; at least 1 sample of a non-empty `D1` is kept.
   */
  private targetKeptCount({ epoch, numEpochs, numSamples, plannedLengths }: PolicyContext, wellLearned: number): number {
    const { targetSaving = 0, maxPruneRatio = 0, delta } = this.config;
    let skipped = 0;
    for (let e = 0; e < epoch; e++) {
      const length = plannedLengths[e]!;
      if (length >= 0) skipped += numSamples - length;
    }
    const pruningEpochsLeft = annealingStartEpoch(numEpochs, delta) - epoch;
    const share = (targetSaving * numSamples * numEpochs - skipped) / pruningEpochsLeft;
    const skip = Math.round(Math.min(Math.max(share, 0), maxPruneRatio * wellLearned));
    const keep = wellLearned - skip;
    return wellLearned > 0 && keep === 0 ? 1 : keep;
  }
}
