import type { PolicySelection } from './policy.js';

/** The full data with every weight exactly 1. @internal */
export function fullSelection(numSamples: number, pruning = false): PolicySelection {
  const indices = new Int32Array(numSamples);
  for (let i = 0; i < numSamples; i++) indices[i] = i;
  return { indices, weights: new Float32Array(numSamples).fill(1), pruning, wellLearned: 0, threshold: Number.NaN };
}

/**
 * How many of `candidates` samples to keep at prune ratio `pruneRatio`: `round((1 − r)·n)`, and
 * at least 1 when there is any candidate. @internal
 */
export function keptCount(candidates: number, pruneRatio: number): number {
  const k = Math.round((1 - pruneRatio) * candidates);
  return candidates > 0 && k === 0 ? 1 : k;
}
