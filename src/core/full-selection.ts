import type { PolicySelection, SelectionBuffers } from './policy.js';

/** The full data with every weight exactly 1, written into `buffers` when given. @internal */
export function fullSelection(numSamples: number, pruning = false, buffers?: SelectionBuffers): PolicySelection {
  const indices = buffers?.indices.subarray(0, numSamples) ?? new Int32Array(numSamples);
  const weights = buffers?.weights.subarray(0, numSamples) ?? new Float32Array(numSamples);
  for (let i = 0; i < numSamples; i++) indices[i] = i;
  weights.fill(1);
  return { indices, weights, pruning, wellLearned: 0, threshold: Number.NaN };
}

/**
 * Arrays for a selection of `length` entries: views of `buffers` when given, else new arrays.
 * With `whole`, the arrays are `buffers` themselves (or have `numSamples`-like room: one spare
 * entry), for writers that may write one entry past `length`. @internal
 */
export function selectionArrays(length: number, buffers?: SelectionBuffers, whole = false): { indices: Int32Array; weights: Float32Array } {
  if (buffers !== undefined) {
    return whole ? buffers : { indices: buffers.indices.subarray(0, length), weights: buffers.weights.subarray(0, length) };
  }
  const room = whole ? length + 1 : length;
  return { indices: new Int32Array(room), weights: new Float32Array(room) };
}

/**
 * How many of `candidates` samples to keep at prune ratio `pruneRatio`: `round((1 − r)·n)`, and
 * at least 1 when there is any candidate. @internal
 */
export function keptCount(candidates: number, pruneRatio: number): number {
  const k = Math.round((1 - pruneRatio) * candidates);
  return candidates > 0 && k === 0 ? 1 : k;
}
