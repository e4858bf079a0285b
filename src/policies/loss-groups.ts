/** Buffers reused between calls of {@link lossGroupBoundaries}. @internal */
export interface LossGroupScratch {
  keys: Uint32Array;
  sorted: Uint32Array;
  prefix: Float64Array;
}

const MAX_ITERATIONS = 300; // scikit-learn's KMeans default max_iter
const RADIX_BITS = 11;
const RADIX_SIZE = 1 << RADIX_BITS;
const RADIX_MASK = RADIX_SIZE - 1;

/** Buffers for up to `capacity` values. @internal */
export function lossGroupScratch(capacity: number): LossGroupScratch {
  return { keys: new Uint32Array(capacity), sorted: new Uint32Array(capacity), prefix: new Float64Array(capacity + 1) };
}

/**
 * One-dimensional k-means of `values[0, length)` into at most `groups` groups, exact on the values
 * (no binning): the values are radix-sorted (linear time), then Lloyd's algorithm runs on the
 * sorted values with prefix sums, starting from equal-count groups (deterministic: no random
 * initialisation) and moving each boundary to the midpoint of the neighbouring group means until
 * nothing changes (at most 300 rounds). Groups are value intervals, easiest (lowest loss) first.
 * Fewer groups are formed when there are fewer distinct values than `groups`, and a group that
 * Lloyd's rounds leave empty is dropped (scikit-learn would move its centre instead).
 *
 * Returns the lower bound of each group after the first, ascending: a value `v` is in group
 * `j` = the number of bounds `<= v`. @internal
 * @param values - finite values (read only).
 * @param length - how many entries of `values` to group, at least 1.
 * @param groups - the number of groups asked for, at least 1.
 * @param scratch - buffers of at least `length` entries, from {@link lossGroupScratch}.
 */
export function lossGroupBoundaries(values: Float32Array, length: number, groups: number, scratch: LossGroupScratch): Float32Array {
  const sorted = sortValues(values, length, scratch);
  const n = length;
  const prefix = scratch.prefix;
  prefix[0] = 0;
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i]! + sorted[i]!;

  // Initial boundaries: equal-count groups, each boundary moved forward to where the value
  // changes, so that equal values never straddle two groups.
  let starts: number[] = [0];
  for (let j = 1; j < groups; j++) {
    let start = Math.max(Math.round((j * n) / groups), starts[j - 1]! + 1);
    if (start >= n) break;
    if (sorted[start - 1] === sorted[start]) start = firstAbove(sorted, n, sorted[start - 1]!);
    if (start >= n) break;
    starts.push(start);
  }
  starts.push(n);

  // Lloyd's rounds: each boundary moves to the midpoint of the neighbouring group means (a value
  // exactly at the midpoint goes to the upper group). A group left with no value is dropped.
  for (let iteration = 0; iteration < MAX_ITERATIONS && starts.length > 2; iteration++) {
    const count = starts.length - 1;
    let previousMean = 0;
    const next: number[] = [0];
    for (let j = 0; j < count; j++) {
      const mean = (prefix[starts[j + 1]!]! - prefix[starts[j]!]!) / (starts[j + 1]! - starts[j]!);
      if (j > 0) {
        const start = firstAtLeast(sorted, n, (previousMean + mean) / 2);
        if (start > next[next.length - 1]! && start < n) next.push(start);
      }
      previousMean = mean;
    }
    next.push(n);
    if (next.length === starts.length && next.every((start, j) => start === starts[j])) break;
    starts = next;
  }

  const bounds = new Float32Array(starts.length - 2);
  for (let j = 1; j < starts.length - 1; j++) bounds[j - 1] = sorted[starts[j]!]!;
  return bounds;
}

/** First position of `sorted[0, n)` holding a value `>= target`. */
function firstAtLeast(sorted: Float32Array, n: number, target: number): number {
  let low = 0;
  let high = n;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! < target) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** First position of `sorted[0, n)` holding a value `> target`. */
function firstAbove(sorted: Float32Array, n: number, target: number): number {
  let low = 0;
  let high = n;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! <= target) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * `values[0, n)` in ascending order, by an LSD radix sort (three 11-bit passes) of their float32
 * bit patterns mapped to order-preserving unsigned keys. Returns a view of the scratch buffers.
 */
function sortValues(values: Float32Array, n: number, scratch: LossGroupScratch): Float32Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, n);
  let source = scratch.keys;
  let target = scratch.sorted;
  for (let i = 0; i < n; i++) {
    const u = bits[i]!;
    source[i] = (u & 0x80000000) !== 0 ? ~u >>> 0 : (u | 0x80000000) >>> 0;
  }
  const counts = new Uint32Array(RADIX_SIZE);
  for (let shift = 0; shift < 32; shift += RADIX_BITS) {
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[(source[i]! >>> shift) & RADIX_MASK]!++;
    let total = 0;
    for (let b = 0; b < RADIX_SIZE; b++) {
      const c = counts[b]!;
      counts[b] = total;
      total += c;
    }
    for (let i = 0; i < n; i++) {
      const key = source[i]!;
      target[counts[(key >>> shift) & RADIX_MASK]!++] = key;
    }
    const swap = source;
    source = target;
    target = swap;
  }
  for (let i = 0; i < n; i++) {
    const key = source[i]!;
    source[i] = (key & 0x80000000) !== 0 ? key & 0x7fffffff : ~key >>> 0;
  }
  return new Float32Array(source.buffer, source.byteOffset, n);
}
