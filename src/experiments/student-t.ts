/**
 * Student's t distribution: the two-sided quantile used for t-based confidence intervals of
 * paired differences. Pure module (no node:*). Written here rather than taken from a statistics
 * package because one function is needed; it is checked against published t tables in
 * test/experiments/student-t.test.ts.
 */
import { InfoBatchError } from '../core/errors.js';

/** Lanczos coefficients (g = 7, n = 9), accurate to about 15 digits for x > 0. */
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** Natural log of the gamma function for x > 0. */
function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let sum = LANCZOS[0]!;
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 500; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return h;
}

/** Regularized incomplete beta function I_x(a, b) for x in [0, 1]. */
function regularizedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaContinuedFraction(a, b, x)) / a : 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/**
 * P(T ≤ t) for Student's t with `df` degrees of freedom.
 * @param t - any finite number.
 * @param df - degrees of freedom, > 0.
 */
export function studentTCdf(t: number, df: number): number {
  assertDf('studentTCdf', df);
  if (!Number.isFinite(t)) {
    if (Number.isNaN(t)) throw new InfoBatchError('INVALID_TYPE', `'t' passed to studentTCdf() must be a number but got NaN.`);
    return t > 0 ? 1 : 0;
  }
  const tail = 0.5 * regularizedBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/**
 * The quantile of Student's t: the t with P(T ≤ t) = p. For a two-sided 95% interval of a mean
 * over n paired seeds use `studentTQuantile(0.975, n - 1)` (12.706 for 2 seeds, 2.776 for 5).
 * @param p - probability in (0, 1).
 * @param df - degrees of freedom, > 0.
 *
 * @example
 * ```ts
 * const half = studentTQuantile(0.975, n - 1) * std / Math.sqrt(n);
 * ```
 */
export function studentTQuantile(p: number, df: number): number {
  assertDf('studentTQuantile', df);
  if (typeof p !== 'number' || !(p > 0 && p < 1)) {
    throw new InfoBatchError('OUT_OF_RANGE', `'p' passed to studentTQuantile() must be a probability in (0, 1) but got ${String(p)}.`);
  }
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  // Bracket, then bisect to the last representable bit: the CDF is monotone.
  let low = 0;
  let high = 1;
  while (studentTCdf(high, df) < p) {
    low = high;
    high *= 2;
    if (high > 1e300) return Number.POSITIVE_INFINITY;
  }
  for (let i = 0; i < 200; i++) {
    const mid = (low + high) / 2;
    if (mid === low || mid === high) break;
    if (studentTCdf(mid, df) < p) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
}

function assertDf(where: string, df: number): void {
  if (typeof df !== 'number' || !(df > 0) || !Number.isFinite(df)) {
    throw new InfoBatchError('OUT_OF_RANGE', `'df' passed to ${where}() must be a finite number > 0 but got ${String(df)}.`);
  }
}
