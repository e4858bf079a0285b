import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InfoBatchError } from '../../src/core/errors.js';
import {
  IDX_DATASET_SOURCES,
  downloadVerified,
  loadIdxDataset,
  loadText,
  sha256Hex,
  type FetchLike,
} from '../../src/data/node.js';
import { makeImages, makeLabels } from './idx-fixtures.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'infobatch-data-'));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

async function writeIdxSet(target: string, nTrain: number, nTest: number, gz: boolean, nTrainLabels = nTrain): Promise<void> {
  const files: [string, Uint8Array][] = [
    ['train-images-idx3-ubyte', makeImages(nTrain, 28, 28)],
    ['train-labels-idx1-ubyte', makeLabels(nTrainLabels)],
    ['t10k-images-idx3-ubyte', makeImages(nTest, 28, 28)],
    ['t10k-labels-idx1-ubyte', makeLabels(nTest)],
  ];
  for (const [name, bytes] of files) {
    await writeFile(join(target, gz ? `${name}.gz` : name), gz ? gzipSync(bytes) : bytes);
  }
}

async function rejection(p: Promise<unknown>): Promise<InfoBatchError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(InfoBatchError);
    return e as InfoBatchError;
  }
  throw new Error('expected a rejection');
}

/** A fetch that serves bytes from a map and records every URL asked for. */
function fakeFetch(served: Record<string, Uint8Array>): FetchLike & { calls: string[] } {
  const calls: string[] = [];
  const fn = async (url: string) => {
    calls.push(url);
    const bytes = served[url];
    return {
      ok: bytes !== undefined,
      status: bytes !== undefined ? 200 : 404,
      statusText: bytes !== undefined ? 'OK' : 'Not Found',
      arrayBuffer: async () => (bytes ?? new Uint8Array()).slice().buffer,
    };
  };
  return Object.assign(fn, { calls });
}

describe('loadIdxDataset (local files)', () => {
  it('loads gzipped IDX files', async () => {
    await writeIdxSet(dir, 5, 3, true);
    const { train, test } = await loadIdxDataset('mnist', dir);
    expect(train.numSamples).toBe(5);
    expect(test.numSamples).toBe(3);
    expect(train.sampleShape).toEqual([28, 28]);
    expect(train.name).toBe('mnist/train');
    expect(Array.from(test.y)).toEqual([0, 1, 2]);
  });

  it('loads uncompressed IDX files', async () => {
    await writeIdxSet(dir, 4, 2, false);
    const { train } = await loadIdxDataset('fashion-mnist', dir);
    expect(train.numSamples).toBe(4);
    expect(train.x[1]).toBeCloseTo(1 / 255, 7);
  });

  it('rejects an images/labels count mismatch', async () => {
    await writeIdxSet(dir, 5, 3, true, 4);
    const e = await rejection(loadIdxDataset('mnist', dir));
    expect(e.code).toBe('INVALID_DATA');
    expect(e.message).toMatch(/train-images-idx3-ubyte\.gz declares 5 images .*train-labels-idx1-ubyte\.gz declares 4 labels/);
  });

  it('reports a truncated gzip file', async () => {
    await writeIdxSet(dir, 5, 3, true);
    const path = join(dir, 'train-images-idx3-ubyte.gz');
    const gz = await readFile(path);
    await writeFile(path, gz.subarray(0, gz.length - 20));
    const e = await rejection(loadIdxDataset('mnist', dir));
    expect(e.code).toBe('INVALID_DATA');
    expect(e.message).toMatch(/train-images-idx3-ubyte\.gz .*does not decompress.*re-download/);
  });

  it('rejects an unknown dataset name', async () => {
    const e = await rejection(loadIdxDataset('cifar' as 'mnist', dir));
    expect(e.code).toBe('INVALID_OPTION');
  });
});

describe('loadIdxDataset never downloads unless asked', () => {
  it('names the missing files and suggests download: true, without any network call', async () => {
    await writeIdxSet(dir, 5, 3, true);
    await rm(join(dir, 'train-labels-idx1-ubyte.gz'));
    await rm(join(dir, 't10k-images-idx3-ubyte.gz'));
    const globalFetch = vi.spyOn(globalThis, 'fetch');
    const injected = fakeFetch({});
    for (const options of [{}, { download: false }, { fetch: injected }, { download: false, fetch: injected }]) {
      const e = await rejection(loadIdxDataset('mnist', dir, options));
      expect(e.code).toBe('INVALID_DATA');
      expect(e.message).toMatch(/missing train-labels-idx1-ubyte\.gz, t10k-images-idx3-ubyte\.gz in /);
      expect(e.message).toMatch(/download: true/);
    }
    expect(globalFetch).not.toHaveBeenCalled();
    expect(injected.calls).toEqual([]);
  });
});

describe('downloadVerified', () => {
  const payload = new TextEncoder().encode('some dataset bytes');
  const sha = sha256Hex(payload);

  it('tries mirrors in order, verifies the checksum and writes atomically', async () => {
    const fetch = fakeFetch({ 'https://b.example/f.gz': payload });
    const dest = join(dir, 'cache', 'f.gz');
    await downloadVerified({ urls: ['https://a.example/f.gz', 'https://b.example/f.gz'], dest, sha256: sha, fetch });
    expect(fetch.calls).toEqual(['https://a.example/f.gz', 'https://b.example/f.gz']);
    expect(new Uint8Array(await readFile(dest))).toEqual(payload);
    expect(await readdir(join(dir, 'cache'))).toEqual(['f.gz']); // no temporary file left
  });

  it('keeps nothing when every mirror fails or serves the wrong bytes', async () => {
    const bad = new TextEncoder().encode('tampered');
    const fetch = fakeFetch({ 'https://a.example/f.gz': bad });
    const throwing: FetchLike = async () => {
      throw new Error('getaddrinfo ENOTFOUND');
    };
    const dest = join(dir, 'f.gz');
    const e = await rejection(downloadVerified({ urls: ['https://a.example/f.gz', 'https://c.example/f.gz'], dest, sha256: sha, fetch }));
    expect(e.code).toBe('INVALID_DATA');
    expect(e.message).toMatch(new RegExp(`expected sha256 ${sha}, found ${sha256Hex(bad)}`));
    expect(e.message).toMatch(/c\.example\/f\.gz: HTTP 404 Not Found/);
    const e2 = await rejection(downloadVerified({ urls: ['https://x.example/f.gz'], dest, sha256: sha, fetch: throwing }));
    expect(e2.message).toMatch(/ENOTFOUND/);
    expect(await readdir(dir)).toEqual([]);
  });

  it('makes loadIdxDataset fetch only the missing files into cacheDir', async () => {
    // Serve fake bytes: the hard-coded official checksums reject them, and nothing is kept.
    await writeIdxSet(dir, 5, 3, true);
    await rm(join(dir, 't10k-labels-idx1-ubyte.gz'));
    const cacheDir = join(dir, 'cache');
    const urls = IDX_DATASET_SOURCES.mnist.mirrors.map((m) => `${m}t10k-labels-idx1-ubyte.gz`);
    const fetch = fakeFetch({ [urls[0]!]: gzipSync(makeLabels(3)) });
    const e = await rejection(loadIdxDataset('mnist', dir, { download: true, cacheDir, fetch }));
    expect(fetch.calls).toEqual(urls);
    expect(e.message).toMatch(/expected sha256 f7ae60f9/);
    expect(existsSync(join(cacheDir, 't10k-labels-idx1-ubyte.gz'))).toBe(false);
  });
});

const realMnist = join(import.meta.dirname, '../../../shared/data/mnist');
if (!existsSync(realMnist)) console.log(`[data] skipping the end-to-end download test: ${realMnist} not found`);
describe.skipIf(!existsSync(realMnist))('loadIdxDataset download with the real files served by an injected fetch', () => {
  it('verifies the official checksums and loads from cacheDir', async () => {
    const served: Record<string, Uint8Array> = {};
    const src = IDX_DATASET_SOURCES.mnist;
    for (const f of [src.trainImages, src.trainLabels, src.testImages, src.testLabels]) {
      served[`${src.mirrors[1]}${f.name}.gz`] = new Uint8Array(await readFile(join(realMnist, `${f.name}.gz`)));
    }
    const fetch = fakeFetch(served);
    const cacheDir = join(dir, 'cache');
    const { train, test } = await loadIdxDataset('mnist', join(dir, 'empty'), { download: true, cacheDir, fetch });
    expect(train.numSamples).toBe(60000);
    expect(test.numSamples).toBe(10000);
    expect(fetch.calls.length).toBe(8); // first mirror 404s (not served), second one succeeds, per file
    expect((await readdir(cacheDir)).sort()).toEqual(
      ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz', 'train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'],
    );
    // a second call finds the cached files and does not fetch again
    const fetch2 = fakeFetch({});
    await loadIdxDataset('mnist', join(dir, 'empty'), { download: true, cacheDir, fetch: fetch2 });
    expect(fetch2.calls).toEqual([]);
  });
});

describe('loadText', () => {
  it('reads UTF-8 (gzipped or not) and reports invalid bytes with their offset', async () => {
    await writeFile(join(dir, 'a.txt'), 'héllo');
    await writeFile(join(dir, 'b.txt.gz'), gzipSync(Buffer.from('gz text')));
    await writeFile(join(dir, 'c.txt'), Buffer.from([0x61, 0x62, 0xff, 0x63]));
    expect(await loadText(join(dir, 'a.txt'))).toBe('héllo');
    expect(await loadText(join(dir, 'b.txt.gz'))).toBe('gz text');
    const e = await rejection(loadText(join(dir, 'c.txt')));
    expect(e.code).toBe('INVALID_DATA');
    expect(e.message).toMatch(/c\.txt is not valid UTF-8 text: expected a UTF-8 sequence at byte offset 2, found byte 0xff/);
    const missing = await rejection(loadText(join(dir, 'nope.txt')));
    expect(missing.message).toMatch(/nope\.txt: the file does not exist/);
  });
});

describe('loadDigits / loadAlpacaSeedTasks', () => {
  it('read local files and name missing ones', async () => {
    const { loadDigits, loadAlpacaSeedTasks } = await import('../../src/data/node.js');
    const row = (label: number) => [...new Array(64).fill(3), label].join(',');
    await writeFile(join(dir, 'digits.csv.gz'), gzipSync(Buffer.from(Array.from({ length: 10 }, (_, i) => row(i)).join('\n'))));
    const split = await loadDigits(dir, { seed: 5, testFraction: 0.3 });
    expect(split.train.numSamples).toBe(7);
    expect(split.test.numSamples).toBe(3);
    expect(split.test.x[0]).toBe(3 / 16);
    const e = await rejection(loadDigits(join(dir, 'nowhere')));
    expect(e.code).toBe('INVALID_DATA');
    expect(e.message).toMatch(/neither digits\.csv\.gz nor digits\.csv is in .*nowhere/);
    const line = JSON.stringify({ id: 'a', name: 'b', instruction: 'c', instances: [{ input: '', output: 'd' }], is_classification: false });
    await writeFile(join(dir, 'seed_tasks.jsonl'), `${line}\n`);
    expect((await loadAlpacaSeedTasks(dir))[0]!.output).toBe('d');
    expect((await rejection(loadAlpacaSeedTasks(join(dir, 'nowhere')))).message).toMatch(/seed_tasks\.jsonl: the file does not exist/);
  });
});
