/**
 * Paired comparisons of two policies seed by seed: per-seed differences, their mean, sample std and
 * a Student-t 95% interval, and the "lossless" verdict the reports print. Pure module (no node:*).
 */
import { studentTQuantile } from './student-t.js';

/** Differences (this − reference) over the seeds both sides ran with a finite value. */
export interface PairedDelta {
  /** Number of seeds paired. */
  n: number;
  /** The seeds paired, ascending, with each seed's difference. */
  perSeed: { seed: number; difference: number }[];
  /** Mean of the per-seed differences. */
  mean: number;
  /** Sample std (n − 1) of the differences; null with fewer than 2 seeds. */
  std: number | null;
  /** Two-sided 95% interval of the mean, mean ± t(0.975, n − 1)·std/√n; null with fewer than 2 seeds. */
  ciLow: number | null;
  ciHigh: number | null;
}

/**
 * Paired differences `value − reference` seed by seed, over the seeds present with a finite value
 * on both sides; null when no seed pairs.
 *
 * @example
 * ```ts
 * pairedDelta(new Map([[0, 91.2], [1, 91.0]]), new Map([[0, 91.0], [1, 91.1]])); // mean 0.05, 2 seeds
 * ```
 */
export function pairedDelta(values: ReadonlyMap<number, number>, reference: ReadonlyMap<number, number>): PairedDelta | null {
  const perSeed: { seed: number; difference: number }[] = [];
  for (const [seed, value] of values) {
    const base = reference.get(seed);
    if (base !== undefined && Number.isFinite(value) && Number.isFinite(base)) perSeed.push({ seed, difference: value - base });
  }
  if (perSeed.length === 0) return null;
  perSeed.sort((a, b) => a.seed - b.seed);
  const n = perSeed.length;
  const mean = perSeed.reduce((s, d) => s + d.difference, 0) / n;
  if (n < 2) return { n, perSeed, mean, std: null, ciLow: null, ciHigh: null };
  const std = Math.sqrt(perSeed.reduce((s, d) => s + (d.difference - mean) ** 2, 0) / (n - 1));
  const half = (studentTQuantile(0.975, n - 1) * std) / Math.sqrt(n);
  return { n, perSeed, mean, std, ciLow: mean - half, ciHigh: mean + half };
}

/**
 * 'lossless': |mean| within the tolerance and the 95% interval covers 0; 'better' / 'worse': the
 * interval excludes 0 (on the good / bad side of the metric); 'inconclusive': the interval covers 0
 * but the mean is beyond the tolerance (too few seeds or too much noise to say).
 */
export type Verdict = 'lossless' | 'better' | 'worse' | 'inconclusive';

/**
 * The verdict of a paired difference; null without an interval (fewer than 2 paired seeds).
 * @param tolerance - largest |mean difference| still called lossless (0.2 points in the reports).
 */
export function verdictOf(delta: PairedDelta | null, tolerance: number, higherIsBetter = true): Verdict | null {
  if (delta === null || delta.ciLow === null || delta.ciHigh === null) return null;
  const coversZero = delta.ciLow <= 0 && delta.ciHigh >= 0;
  if (coversZero) return Math.abs(delta.mean) <= tolerance ? 'lossless' : 'inconclusive';
  const above = delta.ciLow > 0;
  return above === higherIsBetter ? 'better' : 'worse';
}
