/**
 * Score persistence: does a sample that scores low (well learned) in one epoch still score low in
 * the next? InfoBatch assumes so: it skips part of the below-threshold samples because their loss
 * says they are learned. Where a sample's loss is mostly noise (diffusion draws a new timestep and
 * noise for every visit), the ranking of one epoch says little about the next and the pruning is
 * close to random. This module measures that on the samples an epoch visited; the reports' table is
 * in `score-persistence-table.ts`. Pure module (no node:*).
 */

/** How per-sample scores carry over from one epoch to the next, over the samples visited in between. */
export interface ScorePersistence {
  /** Samples with a finite score before and after the epoch (those compared). */
  samples: number;
  /** Spearman rank correlation of the scores before and after, in [−1, 1] (ties get average ranks). */
  rankCorrelation: number;
  /** Of the samples below the mean score before the epoch, the fraction below the mean after it. */
  stayedBelowMean: number;
  /** Fraction of all compared samples below the mean after the epoch: what `stayedBelowMean` would be if the scores were unrelated. */
  belowMeanAfter: number;
}

/** Average ranks (1-based) of `values`; tied values share the mean of their ranks. */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const order = Array.from({ length: values.length }, (_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const ranks = new Float64Array(values.length);
  for (let start = 0; start < order.length; ) {
    let end = start + 1;
    while (end < order.length && values[order[end]!] === values[order[start]!]) end++;
    const rank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) ranks[order[k]!] = rank;
    start = end;
  }
  return ranks;
}

function pearson(x: Float64Array, y: Float64Array): number {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}

/**
 * Compares the scores of the samples in `visited` before an epoch with their scores after it.
 * Samples whose score is not finite on either side (never scored yet) are left out.
 * @param before - every sample's score when the epoch began (copied then: the engine overwrites it).
 * @param after - every sample's score when the epoch ended.
 * @param visited - the ids the epoch visited (its plan's indices; repeats are compared once each time they occur).
 * @returns null when fewer than 3 samples compare or either side has no spread (all scores equal).
 *
 * @example
 * ```ts
 * const before = Float32Array.from(ib.scores); // at the epoch's start
 * // … train the epoch …
 * const persistence = scorePersistence(before, ib.scores, plan.indices);
 * ```
 */
export function scorePersistence(before: ArrayLike<number>, after: ArrayLike<number>, visited: ArrayLike<number>): ScorePersistence | null {
  const x: number[] = [];
  const y: number[] = [];
  for (let k = 0; k < visited.length; k++) {
    const id = visited[k]!;
    const b = before[id];
    const a = after[id];
    if (b !== undefined && a !== undefined && Number.isFinite(b) && Number.isFinite(a)) {
      x.push(b);
      y.push(a);
    }
  }
  const n = x.length;
  if (n < 3) return null;
  const rx = averageRanks(x);
  const ry = averageRanks(y);
  const spread = (r: Float64Array) => r.some((v) => v !== r[0]);
  if (!spread(rx) || !spread(ry)) return null;
  const mean = (v: number[]) => v.reduce((s, e) => s + e, 0) / v.length;
  const meanBefore = mean(x);
  const meanAfter = mean(y);
  let below = 0;
  let stayed = 0;
  let belowAfter = 0;
  for (let i = 0; i < n; i++) {
    if (y[i]! < meanAfter) belowAfter++;
    if (x[i]! < meanBefore) {
      below++;
      if (y[i]! < meanAfter) stayed++;
    }
  }
  // `below` is 0 only when rounding puts the mean on the smallest value (e.g. 1, 1, 1 + ε).
  return { samples: n, rankCorrelation: pearson(rx, ry), stayedBelowMean: below === 0 ? 0 : stayed / below, belowMeanAfter: belowAfter / n };
}
