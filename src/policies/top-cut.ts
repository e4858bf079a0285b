import { quickselect } from '../core/threshold.js';

/** Where the `count` largest of a set of values begin; see {@link topCut}. @internal */
export interface TopCut {
  /** Every value above it is among the largest (`+Infinity` when none is, `-Infinity` when all are). */
  readonly threshold: number;
  /** How many values equal to `threshold` are also among them (the first ones, in index order). */
  readonly ties: number;
}

/**
 * The cut of the `count` largest of `values[0, length)` in linear expected time (Hoare selection
 * on the buffer, which it reorders, instead of a full sort): the values above `threshold` and the
 * first `ties` values equal to it are exactly `count` values. @internal
 * @param values - finite values; reordered.
 * @param length - how many entries of `values` to consider.
 * @param count - how many to select, in `[0, length]`.
 */
export function topCut(values: Float32Array, length: number, count: number): TopCut {
  if (count <= 0) return { threshold: Number.POSITIVE_INFINITY, ties: 0 };
  if (count >= length) return { threshold: Number.NEGATIVE_INFINITY, ties: 0 };
  const threshold = quickselect(values, length - count, length);
  let above = 0;
  for (let i = 0; i < length; i++) if (values[i]! > threshold) above++;
  return { threshold, ties: count - above };
}
