import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from 'commander';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outFolder, seedList, strictNumber } from '../../src/cli/args.js';

function usage(fn: () => unknown, message: RegExp): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(InvalidArgumentError);
  expect((error as InvalidArgumentError).exitCode).toBe(2);
  expect((error as Error).message).toMatch(message);
}

describe('--seeds', () => {
  it('reads a count, a range or a list', () => {
    expect(seedList('3')).toEqual([0, 1, 2]);
    expect(seedList('5..7')).toEqual([5, 6, 7]);
    expect(seedList('5..5')).toEqual([5]);
    expect(seedList('0,4,7')).toEqual([0, 4, 7]);
  });

  it.each([
    ['0', /count must be in \[1, 1000\]/],
    ['3,', /"" is not a seed/],
    ['', /"" is not a seed/],
    [',', /"" is not a seed/],
    ['1,1', /listed twice/],
    ['-1', /"-1" is not a seed/],
    ['2.5', /"2.5" is not a seed/],
    ['1e3', /"1e3" is not a seed/],
    ['7..5', /ends before it starts/],
    ['1..2..3', /one "\.\."/],
    ['4294967296,1', /is not a seed/],
    ['100000', /count must be/],
  ])('refuses %j', (text, message) => usage(() => seedList(text), message));

  it('property: every accepted value is a non-empty list of distinct integer seeds', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 8, unit: fc.constantFrom('0', '1', '5', ',', '.', ' ', '-', 'e') }), (text) => {
        let seeds: number[];
        try {
          seeds = seedList(text);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidArgumentError);
          return;
        }
        expect(seeds.length).toBeGreaterThan(0);
        expect(new Set(seeds).size).toBe(seeds.length);
        for (const s of seeds) expect(Number.isInteger(s) && s >= 0).toBe(true);
      }),
      { numRuns: 500, seed: 5 },
    );
  });
});

describe('numbers and folders', () => {
  it('treats blank text as not a number', () => {
    expect(strictNumber('')).toBeNaN();
    expect(strictNumber('  ')).toBeNaN();
    expect(strictNumber('0.9')).toBe(0.9);
  });

  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'infobatch-args-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('refuses an --out that is a file or empty', async () => {
    const file = join(dir, 'results.json');
    await writeFile(file, '{}');
    usage(() => outFolder(file), /is a file/);
    usage(() => outFolder(''), /folder path/);
    expect(outFolder(dir)).toBe(dir);
    expect(outFolder(join(dir, 'new'))).toBe(join(dir, 'new'));
  });
});
