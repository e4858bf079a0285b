import type { CompactSelection } from './compact-plan.js';
import type { SeededRandom } from './random.js';

/** Elements per bucket below which a plain in-place Fisher–Yates shuffle is used. @internal */
export const BUCKET_ELEMENTS = 16_384;

/** A plan's two aligned arrays. @internal */
export interface PlanArrays {
  readonly indices: Int32Array;
  readonly weights: Float32Array;
}

/**
 * Transient buffers of {@link shufflePlan}, kept by the caller so that repeated shuffles allocate
 * nothing. Start from `{}`. @internal
 */
export interface ShuffleScratch {
  starts?: Int32Array;
}

/** Bits of the bucket id for a plan of `length` (0: no buckets, a plain Fisher–Yates). */
function bucketBitsOf(length: number): number {
  return Math.min(16, Math.max(0, Math.ceil(Math.log2(length / BUCKET_ELEMENTS))));
}

/**
 * Bucket bounds of a bucketed shuffle: counts the buckets a copy of `random` draws (so that
 * `random` itself draws the same buckets again when the positions are scattered, instead of
 * keeping each position's bucket: 2 bytes per position), then turns the counts into starts.
 * Every position draws its bucket in order, several from each 32-bit draw (the draws dominate
 * the cost). Returns the scratch array: `starts[0 … bucketCount]` the bounds, the cursors after.
 */
function bucketStarts(random: SeededRandom, length: number, bucketBits: number, scratch: ShuffleScratch): Int32Array {
  const bucketCount = 1 << bucketBits;
  scratch.starts ??= new Int32Array(2 * (1 << 16) + 1);
  const starts = scratch.starts;
  starts.fill(0, 0, bucketCount + 1);
  const copy = random.clone();
  const idsPerDraw = Math.floor(32 / bucketBits);
  const mask = bucketCount - 1;
  for (let p = 0; p < length; ) {
    let word = copy.nextBits(32);
    for (let k = 0; k < idsPerDraw && p < length; k++, p++) {
      starts[(word & mask) + 1]!++;
      word >>>= bucketBits;
    }
  }
  for (let b = 0; b < bucketCount; b++) starts[b + 1]! += starts[b]!;
  starts.copyWithin(bucketCount + 1, 0, bucketCount);
  return starts;
}

/** Fisher–Yates within each bucket, in bucket order. */
function shuffleBuckets(random: SeededRandom, target: PlanArrays, starts: Int32Array, bucketCount: number): void {
  for (let b = 0; b < bucketCount; b++) {
    const start = starts[b]!;
    const end = starts[b + 1]!;
    random.shuffle(target.indices.subarray(start, end), target.weights.subarray(start, end));
  }
}

/**
 * Writes a uniformly random permutation of `source` (indices and weights moved together) into
 * `target`, which has the same length and must not overlap `source`.
 *
 * Small plans are copied and shuffled in place. Large ones are shuffled cache-friendly (Sanders,
 * 1998): every position draws a uniform random bucket, positions are scattered to their buckets
 * (sequential writes), and each bucket, small enough for the CPU cache, is Fisher–Yates shuffled.
 * Independent uniform buckets followed by uniform within-bucket orders give every permutation
 * probability exactly `1/n!`, while a plain shuffle of ten million entries spends most of its time
 * on cache misses. The random draws, and so the result, do not depend on the buffers used.
 * @internal
 */
export function shufflePlan(random: SeededRandom, source: PlanArrays, target: PlanArrays, scratch: ShuffleScratch = {}): void {
  const length = source.indices.length;
  const bucketBits = bucketBitsOf(length);
  const { indices: shuffledIndices, weights: shuffledWeights } = target;
  if (bucketBits === 0) {
    shuffledIndices.set(source.indices);
    shuffledWeights.set(source.weights);
    random.shuffle(shuffledIndices, shuffledWeights);
    return;
  }
  const starts = bucketStarts(random, length, bucketBits, scratch);
  const cursorBase = (1 << bucketBits) + 1;
  const idsPerDraw = Math.floor(32 / bucketBits);
  const mask = (1 << bucketBits) - 1;
  const { indices, weights } = source;
  for (let p = 0; p < length; ) {
    let word = random.nextBits(32);
    for (let k = 0; k < idsPerDraw && p < length; k++, p++) {
      const at = starts[cursorBase + (word & mask)]!++;
      word >>>= bucketBits;
      shuffledIndices[at] = indices[p]!;
      shuffledWeights[at] = weights[p]!;
    }
  }
  shuffleBuckets(random, target, starts, 1 << bucketBits);
}

/**
 * {@link shufflePlan} of a selection given in its compact form: the same draws, the same result
 * as shuffling the selection's arrays, written into `target` (whose length is the selection's),
 * without the arrays. Positions are visited in ascending sample id, as the selection listed them.
 * @internal
 */
export function shuffleCompact(random: SeededRandom, compact: CompactSelection, target: PlanArrays, scratch: ShuffleScratch = {}): void {
  const { length, members, palette, weightIds, weights } = compact;
  const bucketBits = bucketBitsOf(length);
  const { indices: shuffledIndices, weights: shuffledWeights } = target;
  // The selection's weights, one per position: looked up in the palette, or given as they are.
  const byId = weightIds !== undefined;
  const ids = weightIds ?? EMPTY_IDS;
  const own = weights ?? EMPTY_WEIGHTS;
  // A cursor over the set bits of `members`, in ascending sample id.
  let word = 0;
  let wordIndex = -1;
  if (bucketBits === 0) {
    for (let p = 0; p < length; p++) {
      while (word === 0) word = members[++wordIndex]!;
      const low = word & -word;
      word ^= low;
      shuffledIndices[p] = (wordIndex << 5) + 31 - Math.clz32(low);
      shuffledWeights[p] = byId ? palette[ids[p]!]! : own[p]!;
    }
    random.shuffle(shuffledIndices, shuffledWeights);
    return;
  }
  const starts = bucketStarts(random, length, bucketBits, scratch);
  const cursorBase = (1 << bucketBits) + 1;
  const idsPerDraw = Math.floor(32 / bucketBits);
  const mask = (1 << bucketBits) - 1;
  for (let p = 0; p < length; ) {
    let draw = random.nextBits(32);
    for (let k = 0; k < idsPerDraw && p < length; k++, p++) {
      const at = starts[cursorBase + (draw & mask)]!++;
      draw >>>= bucketBits;
      while (word === 0) word = members[++wordIndex]!;
      const low = word & -word;
      word ^= low;
      shuffledIndices[at] = (wordIndex << 5) + 31 - Math.clz32(low);
      shuffledWeights[at] = byId ? palette[ids[p]!]! : own[p]!;
    }
  }
  shuffleBuckets(random, target, starts, 1 << bucketBits);
}

const EMPTY_IDS = new Uint8Array(0);
const EMPTY_WEIGHTS = new Float32Array(0);
