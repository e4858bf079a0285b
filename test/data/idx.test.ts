import { describe, expect, it } from 'vitest';
import { InfoBatchError } from '../../src/core/errors.js';
import { IDX_IMAGES_MAGIC, idxToDataset, isGzip, parseIdx, parseIdxImages, parseIdxLabels } from '../../src/data/index.js';
import { makeIdx, makeImages, makeLabels } from './idx-fixtures.js';

function errorOf(fn: () => unknown): InfoBatchError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InfoBatchError);
    return e as InfoBatchError;
  }
  throw new Error('expected an InfoBatchError');
}

describe('parseIdx', () => {
  it('parses a valid image file', () => {
    const parsed = parseIdxImages(makeImages(4, 2, 3));
    expect(parsed.magic).toBe(IDX_IMAGES_MAGIC);
    expect(parsed.dims).toEqual([4, 2, 3]);
    expect(parsed.data.length).toBe(24);
    expect(parsed.data[7]).toBe(2); // image 1, pixel 1
  });

  it('parses a valid label file', () => {
    const parsed = parseIdxLabels(makeLabels(12));
    expect(parsed.dims).toEqual([12]);
    expect(Array.from(parsed.data.subarray(9, 12))).toEqual([9, 0, 1]);
  });

  it('reports a truncated data section with the byte offset', () => {
    const bytes = makeImages(4, 2, 3).subarray(0, 30);
    const e = errorOf(() => parseIdxImages(bytes, 'train-images-idx3-ubyte'));
    expect(e.code).toBe('INVALID_DATA');
    expect(e.message).toMatch(/train-images-idx3-ubyte is truncated/);
    expect(e.message).toMatch(/4×2×3 = 24 data bytes from byte offset 16/);
    expect(e.message).toMatch(/ends at byte offset 30/);
  });

  it('reports a truncated header', () => {
    const e = errorOf(() => parseIdx(makeImages(1).subarray(0, 10)));
    expect(e.code).toBe('INVALID_DATA');
    expect(e.message).toMatch(/needs 16 header bytes.*ends at byte offset 10/);
    expect(errorOf(() => parseIdx(new Uint8Array(2))).message).toMatch(/4-byte IDX magic/);
  });

  it('rejects trailing bytes', () => {
    const bytes = new Uint8Array([...makeLabels(3), 7, 7]);
    const e = errorOf(() => parseIdxLabels(bytes));
    expect(e.code).toBe('INVALID_DATA');
    expect(e.message).toMatch(/2 unexpected bytes after the data, from byte offset 11/);
  });

  it('rejects a wrong magic number and swapped files', () => {
    const notIdx = new TextEncoder().encode('hello world!');
    expect(errorOf(() => parseIdx(notIdx)).message).toMatch(/not an IDX file.*0x68656c6c/);
    const swapped = errorOf(() => parseIdxImages(makeLabels(3), 'x.idx'));
    expect(swapped.code).toBe('INVALID_DATA');
    expect(swapped.message).toMatch(/magic number 0x00000801 \(IDX labels.*expected 0x00000803 \(IDX images/);
    const floats = makeIdx([2]);
    floats[2] = 0x0d;
    expect(errorOf(() => parseIdx(floats)).message).toMatch(/data type 0x0d \(float32\) at byte offset 2/);
  });

  it('detects gzip-compressed input and says so', () => {
    const gz = new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]);
    expect(isGzip(gz)).toBe(true);
    const e = errorOf(() => parseIdx(gz, { source: 'a.gz' }));
    expect(e.code).toBe('INVALID_DATA');
    expect(e.message).toMatch(/a\.gz .*gzip-compressed.*Decompress it first/);
  });
});

describe('idxToDataset', () => {
  it('scales pixels to [0, 1] and keeps labels', () => {
    const ds = idxToDataset({ name: 't', images: makeImages(3, 2, 2), labels: makeLabels(3) });
    expect(ds.numSamples).toBe(3);
    expect(ds.sampleShape).toEqual([2, 2]);
    expect(ds.numClasses).toBe(10);
    expect(Array.from(ds.y)).toEqual([0, 1, 2]);
    expect(ds.x[5]).toBeCloseTo(2 / 255, 7);
    const full = idxToDataset({ name: 't', images: makeIdx([1, 1, 2], [0, 255]), labels: makeLabels(1) });
    expect(Array.from(full.x)).toEqual([0, 1]);
  });

  it('rejects an images/labels count mismatch', () => {
    const e = errorOf(() =>
      idxToDataset({ name: 't', images: makeImages(3), labels: makeLabels(4), imagesSource: 'imgs', labelsSource: 'lbls' }),
    );
    expect(e.code).toBe('INVALID_DATA');
    expect(e.message).toMatch(/imgs declares 3 images .* lbls declares 4 labels/);
  });

  it('rejects labels outside the classes with their byte offset', () => {
    const e = errorOf(() => idxToDataset({ name: 't', images: makeImages(2), labels: makeIdx([2], [1, 12]) }));
    expect(e.code).toBe('INVALID_DATA');
    expect(e.message).toMatch(/label 12 at byte offset 9 \(sample 1\)/);
  });
});
