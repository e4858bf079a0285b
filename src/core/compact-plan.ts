/**
 * A policy's selection stored compactly, for the plan in progress of a run: the kept sample ids as
 * a bit set (policies select in ascending id order) and the weights as one byte per kept sample
 * into a palette of the distinct weights (InfoBatch has two: 1 and |D1|/k). About 1.1 bytes per
 * sample instead of the 8 of the plan's two arrays; together with the state of the epoch's random
 * generator before its shuffle, it rebuilds the plan bit for bit (see `shuffleCompact`).
 * @internal
 */

/** Most distinct weights a palette holds; a selection with more keeps its weights as they are. */
export const MAX_PALETTE = 256;

/** A selection in ascending id order, stored compactly. @internal */
export interface CompactSelection {
  /** Number of kept samples. */
  readonly length: number;
  /** Bit `i` (word `i >>> 5`, bit `i & 31`) is set when sample `i` is kept. */
  readonly members: Uint32Array;
  /** The distinct weights, when `weightIds` is used; empty otherwise. */
  readonly palette: Float32Array;
  /** Per kept sample, in ascending id order: its weight's position in `palette`. */
  readonly weightIds: Uint8Array | undefined;
  /** Per kept sample, in ascending id order: its weight, when there are more than {@link MAX_PALETTE} distinct ones. */
  readonly weights: Float32Array | undefined;
}

/**
 * Buffers a run reuses from one epoch's compact selection to the next (the one before is no
 * longer needed once the next epoch begins), so that planning allocates nothing in steady state.
 * @internal
 */
export interface CompactBuffers {
  readonly members: Uint32Array;
  readonly weightIds: Uint8Array;
}

/** Words of a member bit set over `numSamples` samples. @internal */
export function memberWords(numSamples: number): number {
  return Math.ceil(numSamples / 32);
}

/**
 * The compact form of a selection, or undefined when its ids are not strictly ascending (a
 * policy's own order, which only the arrays themselves keep).
 * @internal
 */
export function compactSelection(indices: Int32Array, weights: Float32Array, numSamples: number, reuse?: CompactBuffers): CompactSelection | undefined {
  const length = indices.length;
  const words = memberWords(numSamples);
  const members = reuse !== undefined && reuse.members.length === words ? reuse.members.fill(0) : new Uint32Array(words);
  const weightIds = reuse !== undefined && reuse.weightIds.length >= length ? reuse.weightIds.subarray(0, length) : new Uint8Array(length);
  // Weights compared by their bits (so 0 and -0 stay apart: the rebuilt plan is bit-identical).
  const bits = new Uint32Array(weights.buffer, weights.byteOffset, length);
  const paletteBits: number[] = [];
  let previous = -1;
  let last = -1;
  let lastId = 0;
  for (let p = 0; p < length; p++) {
    const i = indices[p]!;
    if (i <= previous) return undefined;
    previous = i;
    members[i >>> 5]! |= 1 << (i & 31);
    const b = bits[p]!;
    if (b !== last) {
      let id = paletteBits.indexOf(b);
      if (id < 0) {
        if (paletteBits.length === MAX_PALETTE) return withOwnWeights(indices, weights, members, p + 1);
        id = paletteBits.push(b) - 1;
      }
      last = b;
      lastId = id;
    }
    weightIds[p] = lastId;
  }
  const palette = new Float32Array(new Uint32Array(paletteBits).buffer);
  return { length, members, palette, weightIds, weights: undefined };
}

/** The compact form keeping the weights as they are (more distinct weights than a palette holds); `members` is filled up to `from`. */
function withOwnWeights(indices: Int32Array, weights: Float32Array, members: Uint32Array, from: number): CompactSelection | undefined {
  let previous = indices[from - 1]!;
  for (let p = from; p < indices.length; p++) {
    const i = indices[p]!;
    if (i <= previous) return undefined;
    previous = i;
    members[i >>> 5]! |= 1 << (i & 31);
  }
  return { length: indices.length, members, palette: new Float32Array(0), weightIds: undefined, weights: weights.slice() };
}

/** Bytes a compact selection keeps. @internal */
export function compactBytes(compact: CompactSelection): number {
  return compact.members.byteLength + compact.palette.byteLength + (compact.weightIds?.byteLength ?? 0) + (compact.weights?.byteLength ?? 0);
}
