import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { InfoBatchError } from '../../src/core/errors.js';
import { decodeEmbeddedDataset, gunzipBytes } from '../../src/data/embedded.js';
import { EMBEDDED_DATASET_PATH, loadEmbeddedDataset } from '../../src/data/node/embedded-node.js';

const ROOT = join(import.meta.dirname, '..', '..');
const gz = new Uint8Array(readFileSync(EMBEDDED_DATASET_PATH));
const raw = new Uint8Array(gunzipSync(gz));

function classCounts(y: Int32Array): number[] {
  const counts = new Array<number>(10).fill(0);
  for (const label of y) counts[label]! += 1;
  return counts;
}

describe('the embedded Fashion-MNIST subset', () => {
  it('is the package file data/embedded/fashion-mnist-small.idx.gz, under 1 MB', () => {
    expect(EMBEDDED_DATASET_PATH).toBe(join(ROOT, 'data', 'embedded', 'fashion-mnist-small.idx.gz'));
    expect(gz.length).toBeLessThan(1e6);
  });

  it('decodes to 5,000 train and 2,000 test images of 14x14, balanced classes, pixels in [0, 1]', async () => {
    const { train, test } = await loadEmbeddedDataset();
    expect([train.numSamples, test.numSamples]).toEqual([5000, 2000]);
    expect(train.sampleShape).toEqual([14, 14]);
    expect(classCounts(train.y)).toEqual(new Array(10).fill(500));
    expect(classCounts(test.y)).toEqual(new Array(10).fill(200));
    let min = Infinity, max = -Infinity;
    for (const v of train.x) { min = Math.min(min, v); max = Math.max(max, v); }
    expect(min).toBe(0);
    expect(max).toBe(1);
  });

  it('decodes the same in the browser path (DecompressionStream) as in the node loader', async () => {
    const viaWeb = decodeEmbeddedDataset(await gunzipBytes(gz));
    const viaNode = await loadEmbeddedDataset();
    expect(viaWeb.train.x).toEqual(viaNode.train.x);
    expect(viaWeb.test.y).toEqual(viaNode.test.y);
  });

  it('rejects gzip bytes, truncated bytes and trailing bytes with INVALID_DATA naming the part', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (error) {
        expect(error).toBeInstanceOf(InfoBatchError);
        return `${(error as InfoBatchError).code}: ${(error as Error).message}`;
      }
      throw new Error('expected an error');
    };
    expect(code(() => decodeEmbeddedDataset(gz))).toMatch(/^INVALID_DATA: .*still gzip-compressed/);
    expect(code(() => decodeEmbeddedDataset(raw.subarray(0, raw.length - 100)))).toMatch(/^INVALID_DATA: .*test labels/);
    expect(code(() => decodeEmbeddedDataset(raw.subarray(0, 5000 * 196 + 16 + 3)))).toMatch(/^INVALID_DATA: .*train labels.*truncated/);
    const longer = new Uint8Array(raw.length + 3);
    longer.set(raw);
    expect(code(() => decodeEmbeddedDataset(longer))).toMatch(/^INVALID_DATA: .*3 unexpected bytes/);
    expect(code(() => decodeEmbeddedDataset('x' as unknown as Uint8Array))).toMatch(/^INVALID_TYPE: decodeEmbeddedDataset: bytes must be a Uint8Array/);
  });

  it('gunzipBytes rejects data that is not gzip, and a truncated stream', async () => {
    await expect(gunzipBytes(raw)).rejects.toThrow(/expected gzip data/);
    await expect(gunzipBytes(gz.subarray(0, 1000))).rejects.toThrow(/truncated or corrupt/);
  });

  const SOURCE = join(ROOT, '..', 'shared', 'data', 'fashion-mnist');
  const tmp = mkdtempSync(join(tmpdir(), 'infobatch-embedded-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  it.skipIf(!existsSync(join(SOURCE, 'train-images-idx3-ubyte.gz')))('is rebuilt byte for byte from the original files by scripts/make-embedded-data.mjs', () => {
    const out = join(tmp, 'rebuilt.idx.gz');
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'make-embedded-data.mjs'), SOURCE, out], { stdio: 'pipe' });
    expect(new Uint8Array(gunzipSync(readFileSync(out)))).toEqual(raw);
  });
});
