/**
 * Character-level language-model corpus: vocabulary, encode/decode and fixed-length token
 * windows. Pure: takes text.
 */
import { InfoBatchError, describeValue } from '../core/errors.js';

/** Options of {@link parseCharCorpus}. */
export interface CharCorpusOptions {
  /** Input length of one training example; each window holds `seqLength + 1` tokens (inputs plus the next-token target). */
  readonly seqLength: number;
  /** Start-to-start distance between consecutive windows (default `seqLength`: windows share one boundary token). */
  readonly stride?: number;
}

/** A character vocabulary with the corpus encoded as token windows. */
export interface CharCorpus {
  /** Sorted (by code point) unique characters; token id = index in this array. */
  readonly vocab: readonly string[];
  /** `vocab.length`. */
  readonly vocabSize: number;
  /** The whole text as token ids (one per Unicode code point). */
  readonly tokens: Int32Array;
  /** `seqLength + 1`: tokens per window. */
  readonly windowLength: number;
  /** Number of windows. */
  readonly numWindows: number;
  /** Row-major `numWindows × windowLength` token ids; window `i` starts at token `i * stride`. */
  readonly windows: Int32Array;
  /** Input tokens of window `i` (its first `seqLength` tokens, a view). */
  inputs(i: number): Int32Array;
  /** Target tokens of window `i` (its last `seqLength` tokens, a view: inputs shifted by one). */
  targets(i: number): Int32Array;
  /** Encodes text to token ids; throws `INVALID_DATA` for a character not in the vocabulary. */
  encode(text: string): Int32Array;
  /** Decodes token ids to text; throws `OUT_OF_RANGE` for an id outside the vocabulary. */
  decode(ids: ArrayLike<number>): string;
}

function checkPositiveInt(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new InfoBatchError('OUT_OF_RANGE', `parseCharCorpus: ${name} must be a positive integer, got ${describeValue(value)}.`);
  }
  return value;
}

function describeChar(ch: string): string {
  return `${JSON.stringify(ch)} (U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})`;
}

/**
 * Builds a character vocabulary from `text` and cuts the encoded text into overlapping or adjacent token windows.
 *
 * @param text - The corpus, e.g. tiny-shakespeare's input.txt.
 * @param options - `seqLength` (input length per example) and `stride` (default `seqLength`).
 * @example
 * ```ts
 * const corpus = parseCharCorpus(text, { seqLength: 64 });
 * corpus.decode(corpus.inputs(0)); // the first 64 characters
 * ```
 */
export function parseCharCorpus(text: string, options: CharCorpusOptions): CharCorpus {
  const seqLength = checkPositiveInt('seqLength', options.seqLength);
  const stride = checkPositiveInt('stride', options.stride ?? seqLength);
  const chars = Array.from(text); // code points, so surrogate pairs stay whole
  const windowLength = seqLength + 1;
  if (chars.length < windowLength) {
    throw new InfoBatchError(
      'OUT_OF_RANGE',
      `parseCharCorpus: seqLength + 1 = ${windowLength} must not exceed the text length (${chars.length} characters).`,
    );
  }
  const vocab = [...new Set(chars)].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
  const index = new Map<string, number>();
  vocab.forEach((ch, i) => index.set(ch, i));

  const tokens = new Int32Array(chars.length);
  for (let i = 0; i < chars.length; i++) tokens[i] = index.get(chars[i]!)!;

  const numWindows = Math.floor((tokens.length - windowLength) / stride) + 1;
  const windows = new Int32Array(numWindows * windowLength);
  for (let w = 0; w < numWindows; w++) {
    windows.set(tokens.subarray(w * stride, w * stride + windowLength), w * windowLength);
  }

  const checkWindow = (i: number): void => {
    if (!Number.isInteger(i) || i < 0 || i >= numWindows) {
      throw new InfoBatchError('OUT_OF_RANGE', `CharCorpus: window index must be an integer in 0..${numWindows - 1}, got ${describeValue(i)}.`);
    }
  };

  return {
    vocab,
    vocabSize: vocab.length,
    tokens,
    windowLength,
    numWindows,
    windows,
    inputs(i) {
      checkWindow(i);
      return windows.subarray(i * windowLength, i * windowLength + seqLength);
    },
    targets(i) {
      checkWindow(i);
      return windows.subarray(i * windowLength + 1, (i + 1) * windowLength);
    },
    encode(s) {
      const cs = Array.from(s);
      const out = new Int32Array(cs.length);
      for (let i = 0; i < cs.length; i++) {
        const id = index.get(cs[i]!);
        if (id === undefined) {
          throw new InfoBatchError(
            'INVALID_DATA',
            `CharCorpus.encode: character ${describeChar(cs[i]!)} at position ${i} is not in the vocabulary of ${vocab.length} characters built from the corpus.`,
          );
        }
        out[i] = id;
      }
      return out;
    },
    decode(ids) {
      let s = '';
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i]!;
        if (!Number.isInteger(id) || id < 0 || id >= vocab.length) {
          throw new InfoBatchError('OUT_OF_RANGE', `CharCorpus.decode: ids[${i}] = ${describeValue(id)} is not a token id in 0..${vocab.length - 1}.`);
        }
        s += vocab[id]!;
      }
      return s;
    },
  };
}
