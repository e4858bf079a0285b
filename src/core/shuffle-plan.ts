import type { SeededRandom } from './random.js';

/** Elements per bucket below which a plain in-place Fisher–Yates shuffle is used. @internal */
export const BUCKET_ELEMENTS = 16_384;

/**
 * A uniformly random permutation applied to `indices` and `weights` together.
 *
 * Small plans are shuffled in place. Large ones are shuffled cache-friendly (Sanders, 1998):
 * every position draws a uniform random bucket, positions are scattered to their buckets
 * (sequential writes), and each bucket, small enough for the CPU cache, is Fisher–Yates shuffled.
 * Independent uniform buckets followed by uniform within-bucket orders give every permutation
 * probability exactly `1/n!`, while a plain shuffle of ten million entries spends most of its time
 * on cache misses. Returns the shuffled arrays (new ones for large plans). @internal
 */
export function shufflePlan(
  random: SeededRandom,
  indices: Int32Array,
  weights: Float32Array,
): { indices: Int32Array; weights: Float32Array } {
  const length = indices.length;
  const bucketBits = Math.min(16, Math.max(0, Math.ceil(Math.log2(length / BUCKET_ELEMENTS))));
  if (bucketBits === 0) {
    random.shuffle(indices, weights);
    return { indices, weights };
  }
  const bucketCount = 1 << bucketBits;
  const bucketOf = new Uint16Array(length);
  const starts = new Int32Array(bucketCount + 1);
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
  const cursors = starts.slice(0, bucketCount);
  const shuffledIndices = new Int32Array(length);
  const shuffledWeights = new Float32Array(length);
  for (let p = 0; p < length; p++) {
    const target = cursors[bucketOf[p]!]!++;
    shuffledIndices[target] = indices[p]!;
    shuffledWeights[target] = weights[p]!;
  }
  for (let b = 0; b < bucketCount; b++) {
    const start = starts[b]!;
    random.shuffle(shuffledIndices.subarray(start, starts[b + 1]), shuffledWeights.subarray(start, starts[b + 1]));
  }
  return { indices: shuffledIndices, weights: shuffledWeights };
}
