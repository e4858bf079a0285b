import { describe, expect, it } from 'vitest';
import { InfoBatchError } from '../../src/core/errors.js';
import { parseDigitsCsv } from '../../src/data/index.js';

function row(label: number, pixel = 16): string {
  return [...Array.from({ length: 64 }, (_, i) => (i === 0 ? pixel : i % 17)), label].join(',');
}

describe('parseDigitsCsv', () => {
  it('parses rows of 64 pixels + label and scales pixels by 1/16', () => {
    const ds = parseDigitsCsv(`${row(3)}\r\n${row(9, 8)}\n`);
    expect(ds.numSamples).toBe(2);
    expect(ds.sampleShape).toEqual([8, 8]);
    expect(ds.numClasses).toBe(10);
    expect(Array.from(ds.y)).toEqual([3, 9]);
    expect(ds.x[0]).toBe(1);
    expect(ds.x[64]).toBe(0.5);
    expect(ds.x[1]).toBe(1 / 16);
  });

  it('rejects a wrong column count and names the line', () => {
    try {
      parseDigitsCsv(`${row(1)}\n1,2,3\n`, { source: 'digits.csv.gz' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InfoBatchError);
      expect((e as InfoBatchError).code).toBe('INVALID_DATA');
      expect((e as Error).message).toMatch(/digits\.csv\.gz line 2 .*expected 65 comma-separated values.*found 3/);
    }
  });

  it('rejects a header line, out-of-range pixels and labels, and empty input', () => {
    expect(() => parseDigitsCsv('150,4,setosa,versicolor,virginica\n')).toThrow(/no header line/);
    expect(() => parseDigitsCsv(row(1, 17))).toThrow(/column 1: expected a pixel value that is an integer in 0\.\.16, found "17"/);
    expect(() => parseDigitsCsv(row(10))).toThrow(/column 65: expected a label .* 0\.\.9, found "10"/);
    expect(() => parseDigitsCsv(row(1, 2.5))).toThrow(/found "2\.5"/);
    expect(() => parseDigitsCsv('\n')).toThrow(/empty/);
    expect(() => parseDigitsCsv(`${row(1)}\n\n${row(2)}`)).toThrow(/line 2/);
  });
});
