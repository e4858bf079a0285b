/**
 * Command-line argument parsers of the CLI. A bad value is a usage error: commander prints the
 * message (no stack trace) and the process exits with code 2, before anything runs.
 */
import { InvalidArgumentError } from 'commander';
import { statSync } from 'node:fs';

/** Exit code of usage errors (bad arguments), as in most Unix tools. */
export const USAGE_EXIT_CODE = 2;

/** A usage error for an option parser: commander reports it and exits with code 2. */
export function usageError(message: string): InvalidArgumentError {
  const error = new InvalidArgumentError(message);
  error.exitCode = USAGE_EXIT_CODE;
  return error;
}

/** `Number(text)`, except that blank text is NaN rather than 0 (so `--momentum ""` is refused). */
export function strictNumber(text: string): number {
  return text.trim() === '' ? Number.NaN : Number(text);
}

const MAX_SEED = 0xffffffff;
const MAX_SEED_COUNT = 1000;

/**
 * `--seeds`: a count `N` (seeds 0 … N−1, N in [1, 1000]), a range `a..b` (inclusive; `5..5` is seed
 * 5 alone), or a comma-separated list of two or more distinct seeds (`0,4,7`). Seeds are integers
 * in [0, 2^32).
 */
export function seedList(value: string): number[] {
  const fail = (why: string): InvalidArgumentError =>
    usageError(`expected a count (3 = seeds 0,1,2), a range (5..7) or a list of two or more seeds (0,4,7); got ${JSON.stringify(value)}: ${why}`);
  const seed = (text: string): number => {
    const n = strictNumber(text);
    if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(n) || n > MAX_SEED) throw fail(`${JSON.stringify(text)} is not a seed (an integer in [0, ${MAX_SEED}])`);
    return n;
  };
  if (value.includes('..')) {
    const [from = '', to = '', ...rest] = value.split('..');
    if (rest.length > 0) throw fail('a range has one ".."');
    const a = seed(from);
    const b = seed(to);
    if (b < a) throw fail(`the range ends before it starts`);
    if (b - a + 1 > MAX_SEED_COUNT) throw fail(`at most ${MAX_SEED_COUNT} seeds`);
    return Array.from({ length: b - a + 1 }, (_, i) => a + i);
  }
  if (value.includes(',')) {
    const seeds = value.split(',').map(seed);
    if (new Set(seeds).size !== seeds.length) throw fail('a seed is listed twice');
    return seeds;
  }
  const count = seed(value);
  if (count < 1 || count > MAX_SEED_COUNT) throw fail(`a count must be in [1, ${MAX_SEED_COUNT}]`);
  return Array.from({ length: count }, (_, i) => i);
}

/** `--out`: a folder path that is not an existing file. */
export function outFolder(value: string): string {
  if (value.trim() === '') throw usageError('expected a folder path, got ""');
  let isFile = false;
  try {
    isFile = !statSync(value).isDirectory();
  } catch {
    // Does not exist yet: it will be created.
  }
  if (isFile) throw usageError(`expected a folder, but ${JSON.stringify(value)} is a file`);
  return value;
}
