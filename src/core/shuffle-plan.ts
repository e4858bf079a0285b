import type { SeededRandom } from './random.js';

/** Elements per bucket below which a plain in-place Fisher–Yates shuffle is used. @internal */
export const BUCKET_ELEMENTS = 16_384;

/** A plan's two aligned arrays. @internal */
export interface PlanArrays {
  readonly indices: Int32Array;
  readonly weights: Float32Array;
}

/**
 * Transient buffers of {@link shufflePlan}, kept by the caller so that repeated shuffles of
 * similar lengths allocate nothing. Start from `{}`; the fields grow as needed. @internal
 */
export interface ShuffleScratch {
  bucketOf?: Uint16Array;
  starts?: Int32Array;
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
  const bucketBits = Math.min(16, Math.max(0, Math.ceil(Math.log2(length / BUCKET_ELEMENTS))));
  const { indices: shuffledIndices, weights: shuffledWeights } = target;
  if (bucketBits === 0) {
    shuffledIndices.set(source.indices);
    shuffledWeights.set(source.weights);
    random.shuffle(shuffledIndices, shuffledWeights);
    return;
  }
  const { indices, weights } = source;
  const bucketCount = 1 << bucketBits;
  if (scratch.bucketOf === undefined || scratch.bucketOf.length < length) scratch.bucketOf = new Uint16Array(length);
  scratch.starts ??= new Int32Array(2 * (1 << 16) + 1);
  const bucketOf = scratch.bucketOf;
  // starts[0 … bucketCount] are the bucket bounds; the cursors live after them.
  const starts = scratch.starts;
  starts.fill(0, 0, bucketCount + 1);
  // Several independent bucket ids from each 32-bit draw: the draws dominate the cost.
  const idsPerDraw = Math.floor(32 / bucketBits);
  const mask = bucketCount - 1;
  for (let p = 0; p < length; ) {
    let word = random.nextBits(32);
    for (let k = 0; k < idsPerDraw && p < length; k++, p++) {
      const bucket = word & mask;
      word >>>= bucketBits;
      bucketOf[p] = bucket;
      starts[bucket + 1]!++;
    }
  }
  for (let b = 0; b < bucketCount; b++) starts[b + 1]! += starts[b]!;
  const cursorBase = bucketCount + 1;
  starts.copyWithin(cursorBase, 0, bucketCount);
  for (let p = 0; p < length; p++) {
    const target = starts[cursorBase + bucketOf[p]!]!++;
    shuffledIndices[target] = indices[p]!;
    shuffledWeights[target] = weights[p]!;
  }
  for (let b = 0; b < bucketCount; b++) {
    const start = starts[b]!;
    const end = starts[b + 1]!;
    random.shuffle(shuffledIndices.subarray(start, end), shuffledWeights.subarray(start, end));
  }
}
