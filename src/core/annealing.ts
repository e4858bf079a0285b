/**
 * First full-data epoch of a run annealed at `delta`: epochs `e < floor(delta · numEpochs)` prune,
 * the rest use the full data. The product is taken with a tolerance of 1e-9 so that, for
 * example, `0.57 · 100` (56.99999999999999 in floating point) gives 57, as intended.
 * @param numEpochs - total epochs of the run.
 * @param delta - fraction of the run that prunes, in [0, 1].
 *
 * @example
 * ```ts
 * annealingStartEpoch(90, 0.875); // 78: epochs 0..77 prune, 78..89 use the full data
 * ```
 */
export function annealingStartEpoch(numEpochs: number, delta: number): number {
  return Math.min(numEpochs, Math.floor(delta * numEpochs + 1e-9));
}
