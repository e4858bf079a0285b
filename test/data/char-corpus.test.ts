import { describe, expect, it } from 'vitest';
import { InfoBatchError } from '../../src/core/errors.js';
import { parseCharCorpus } from '../../src/data/index.js';

describe('parseCharCorpus', () => {
  const corpus = parseCharCorpus('hello world', { seqLength: 4, stride: 3 });

  it('builds a sorted vocabulary and encodes the text', () => {
    expect(corpus.vocab).toEqual([' ', 'd', 'e', 'h', 'l', 'o', 'r', 'w']);
    expect(corpus.vocabSize).toBe(8);
    expect(corpus.decode(corpus.tokens)).toBe('hello world');
    expect(Array.from(corpus.encode('hold'))).toEqual([3, 5, 4, 1]);
  });

  it('cuts windows of seqLength + 1 tokens every stride tokens', () => {
    // 11 tokens, window 5, stride 3 → starts 0, 3, 6
    expect(corpus.windowLength).toBe(5);
    expect(corpus.numWindows).toBe(3);
    expect(corpus.windows.length).toBe(15);
    expect(corpus.decode(corpus.inputs(1))).toBe('lo w');
    expect(corpus.decode(corpus.targets(1))).toBe('o wo');
    expect(corpus.decode(corpus.windows.subarray(10, 15))).toBe('world');
    expect(() => corpus.inputs(3)).toThrow(/0\.\.2/);
  });

  it('defaults stride to seqLength and keeps surrogate pairs whole', () => {
    const c = parseCharCorpus('a😀b😀ab', { seqLength: 2 });
    expect(c.vocab).toEqual(['a', 'b', '😀']);
    expect(c.tokens.length).toBe(6);
    expect(c.numWindows).toBe(2); // starts 0, 2 (start 4 would need tokens 4..6)
    expect(c.decode(c.inputs(1))).toBe('b😀');
  });

  it('rejects bad options, unknown characters and bad ids', () => {
    expect(() => parseCharCorpus('abc', { seqLength: 3 })).toThrow(/seqLength \+ 1 = 4 must not exceed the text length \(3/);
    expect(() => parseCharCorpus('abc', { seqLength: 0 })).toThrow(/seqLength must be a positive integer/);
    expect(() => parseCharCorpus('abc', { seqLength: 1, stride: 1.5 })).toThrow(/stride/);
    try {
      corpus.encode('hex');
      expect.unreachable();
    } catch (e) {
      expect((e as InfoBatchError).code).toBe('INVALID_DATA');
      expect((e as Error).message).toMatch(/"x" \(U\+0078\) at position 2/);
    }
    expect(() => corpus.decode([0, 8])).toThrow(/ids\[1\] = 8/);
  });
});
