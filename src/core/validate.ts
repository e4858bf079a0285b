import { describeValue, InfoBatchError } from './errors.js';

/** Throws unless `value` is an integer in `[min, max]`. @internal */
export function assertInteger(
  where: string,
  name: string,
  value: unknown,
  min: number,
  max: number = Number.MAX_SAFE_INTEGER,
): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new InfoBatchError(
      'INVALID_TYPE',
      `'${name}' passed to ${where} must be an integer but got ${describeValue(value)}.`,
    );
  }
  if (value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new InfoBatchError(
      'OUT_OF_RANGE',
      `'${name}' passed to ${where} must be ${range} but got ${describeValue(value)}.`,
    );
  }
}

/**
 * Throws unless `value` is a finite number in the given interval; `lowOpen`/`highOpen` exclude
 * the bounds. @internal
 */
export function assertNumberInRange(
  where: string,
  name: string,
  value: unknown,
  low: number,
  high: number,
  bounds: '[]' | '[)' | '(]' | '()' = '[]',
): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InfoBatchError(
      typeof value === 'number' ? 'OUT_OF_RANGE' : 'INVALID_TYPE',
      `'${name}' passed to ${where} must be a finite number but got ${describeValue(value)}.`,
    );
  }
  const aboveLow = bounds[0] === '[' ? value >= low : value > low;
  const belowHigh = bounds[1] === ']' ? value <= high : value < high;
  if (!aboveLow || !belowHigh) {
    throw new InfoBatchError(
      'OUT_OF_RANGE',
      `'${name}' passed to ${where} must be in ${bounds[0]}${low}, ${high}${bounds[1]} but got ${describeValue(value)}.`,
    );
  }
}

/** Throws unless `value` is array-like (an array or a typed array) of numbers. @internal */
export function assertArrayLike(where: string, name: string, value: unknown): asserts value is ArrayLike<number> {
  const ok =
    Array.isArray(value) ||
    (ArrayBuffer.isView(value) && !(value instanceof DataView)) ||
    (typeof value === 'object' && value !== null && typeof (value as { length?: unknown }).length === 'number');
  if (!ok) {
    throw new InfoBatchError(
      'INVALID_TYPE',
      `'${name}' passed to ${where} must be an array or typed array of numbers but got ${describeValue(value)}.`,
    );
  }
}

/** Throws unless the option bag has only known keys, so a typo is never ignored. @internal */
export function assertKnownKeys(where: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new InfoBatchError(
        'INVALID_OPTION',
        `Unknown option '${key}' passed to ${where}; expected one of: ${known.join(', ')}.`,
      );
    }
  }
}

/** Throws unless `value` is a plain object (or undefined, when optional). @internal */
export function assertOptionBag(where: string, name: string, value: unknown): asserts value is object {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InfoBatchError(
      'INVALID_TYPE',
      `'${name}' passed to ${where} must be an options object but got ${describeValue(value)}.`,
    );
  }
}

/** Returns `seed` after checking it is an integer in [0, 2^32). @internal */
export function validSeed(seed: unknown, where: string): number {
  assertInteger(where, 'seed', seed, 0, 0xffffffff);
  return seed;
}
