import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeValue } from '../../src/core/errors.js';

describe('describeValue', () => {
  it('names tensors by dtype and shape (duck-typed, no tfjs import), disposed ones too', () => {
    expect(describeValue({ shape: [3, 4], dtype: 'float32', rank: 2, data: async () => new Float32Array(12) })).toBe('a float32 tensor of shape [3, 4]');
    expect(describeValue({ shape: [], dtype: 'int32' })).toBe('an int32 tensor of shape []');
    expect(describeValue({ shape: [null, 6], dtype: 'float32' })).toBe('a float32 tensor of shape [null, 6]');
    expect(describeValue({ shape: [2], dtype: 'float32', isDisposed: true })).toBe('a disposed float32 tensor of shape [2]');
  });

  it('names plain objects by their keys and class instances by their class, never "[object Object]"', () => {
    expect(describeValue({})).toBe('an empty object');
    expect(describeValue({ input_1: 1, b: 2 })).toBe('an object with keys "input_1", "b"');
    expect(describeValue({ a: 1, b: 2, c: 3, d: 4, e: 5, f: 6 })).toBe('an object with keys "a", "b", "c", "d", "e", ...');
    expect(describeValue(new (class Model {})())).toBe('an instance of Model');
    expect(describeValue(new Map())).toBe('an object ([object Map])');
  });

  it('keeps numbers, strings and arrays as before', () => {
    expect(describeValue(Number.NaN)).toBe('NaN');
    expect(describeValue(-0)).toBe('-0');
    expect(describeValue('x')).toBe('"x"');
    expect(describeValue([1, 2])).toBe('an array of length 2');
    expect(describeValue(new Float32Array(3))).toBe('a Float32Array of length 3');
  });

  it('never throws and stays short for any value', () => {
    fc.assert(
      fc.property(fc.anything({ withBigInt: true, withMap: true, withSet: true, withTypedArray: true, withDate: true, withNullPrototype: true }), (value) => {
        const text = describeValue(value);
        expect(typeof text).toBe('string');
        expect(text.length).toBeGreaterThan(0);
        expect(text.length).toBeLessThan(200);
      }),
    );
  });
});
