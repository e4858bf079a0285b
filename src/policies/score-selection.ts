import { keptCount, selectionArrays } from '../core/full-selection.js';
import type { PolicySelection, SelectionBuffers } from '../core/policy.js';
import type { SeededRandom } from '../core/random.js';
import { topCut } from './top-cut.js';

/** What {@link selectByScore} needs to choose one epoch's samples. @internal */
export interface ScoreSelectionInput {
  /** Per-sample scores, NaN where unscored. */
  readonly scores: Float32Array;
  /** The epoch's random source (used only when `epsilon > 0`). */
  readonly random: SeededRandom;
  /** A buffer of at least `scores.length` floats (reordered). */
  readonly scratch: Float32Array;
  /** Fraction of the scored samples to skip. */
  readonly pruneRatio: number;
  /** Share of the kept budget drawn uniformly at random from the samples not taken greedily. */
  readonly epsilon: number;
  /** Weight random picks by the inverse of their inclusion probability. */
  readonly rescale: boolean;
  /** Per-sample variances for an upper-confidence key `score + c·sqrt(variance)`. */
  readonly variance?: Float32Array;
  /** Weight of the standard deviation in the key. */
  readonly c?: number;
  /** Engine buffers to write the selection into (see `PolicyContext.buffers`). */
  readonly buffers?: SelectionBuffers | undefined;
}

/**
 * Keeps every unscored sample (weight 1) and `k = round((1 − r)·S)` of the `S` scored ones: the
 * `k − round(ε·k)` with the highest keys (ties broken by lower index), and `round(ε·k)` drawn
 * uniformly at random, by selection sampling, from the other scored samples (weight `R / m`
 * when rescaled, the inverse of their inclusion probability `m / R`). The top keys are found by
 * linear-time selection, not a sort. Returns `undefined` when no sample has a score. @internal
 */
export function selectByScore(input: ScoreSelectionInput): PolicySelection | undefined {
  const { scores, random, scratch, pruneRatio, epsilon, rescale, variance, c = 0, buffers } = input;
  const numSamples = scores.length;
  const upperConfidence = variance !== undefined && c !== 0;
  let scored = 0;
  for (let i = 0; i < numSamples; i++) {
    const s = scores[i]!;
    if (s === s) scratch[scored++] = upperConfidence ? s + c * Math.sqrt(variance[i]!) : s;
  }
  if (scored === 0) return undefined;

  const keep = keptCount(scored, pruneRatio);
  const randomCount = Math.round(epsilon * keep);
  const greedyCount = keep - randomCount;
  const { threshold, ties } = topCut(scratch, scored, greedyCount);
  let remaining = scored - greedyCount;
  let needed = randomCount;
  const randomWeight = rescale && randomCount > 0 ? remaining / randomCount : 1;

  const length = numSamples - scored + keep;
  const { indices, weights } = selectionArrays(length, buffers);
  let position = 0;
  let tiesLeft = ties;
  for (let i = 0; i < numSamples; i++) {
    const s = scores[i]!;
    if (s !== s) {
      indices[position] = i;
      weights[position++] = 1;
      continue;
    }
    // The same float32 rounding as the scratch buffer, so both passes compare equal keys.
    const key = upperConfidence ? Math.fround(s + c * Math.sqrt(variance[i]!)) : s;
    if (key > threshold || (key === threshold && tiesLeft > 0)) {
      if (key === threshold) tiesLeft--;
      indices[position] = i;
      weights[position++] = 1;
      continue;
    }
    if (needed > 0 && (needed === remaining || random.nextInt(remaining) < needed)) {
      indices[position] = i;
      weights[position++] = randomWeight;
      needed--;
    }
    remaining--;
  }
  const cut = greedyCount > 0 && greedyCount < scored ? threshold : Number.NaN;
  return { indices, weights, pruning: true, wellLearned: scored, threshold: cut };
}
