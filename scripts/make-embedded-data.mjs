#!/usr/bin/env node
// Builds data/embedded/fashion-mnist-small.idx.gz, the demo's embedded dataset, from the original
// Fashion-MNIST files: the first TRAIN_PER_CLASS training and TEST_PER_CLASS test images of each
// class (original order kept), shrunk from 28x28 to 14x14 by averaging 2x2 blocks (rounded).
// The output is one gzip stream holding four IDX arrays back to back: train images, train labels,
// test images, test labels (see data/embedded/SOURCE.md).
//
//   node scripts/make-embedded-data.mjs [fashion-mnist folder] [output file]
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

const TRAIN_PER_CLASS = 500;
const TEST_PER_CLASS = 200;
const src = process.argv[2] ?? '../shared/data/fashion-mnist';
const out = process.argv[3] ?? 'data/embedded/fashion-mnist-small.idx.gz';

function readIdx(file) {
  const bytes = gunzipSync(readFileSync(join(src, file)));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ndims = bytes[3];
  const dims = Array.from({ length: ndims }, (_, i) => view.getUint32(4 + 4 * i));
  return { dims, data: bytes.subarray(4 + 4 * ndims) };
}

function idx(dims, data) {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(dims.length === 3 ? 0x803 : 0x801, 0);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(data)]);
}

function subset(prefix, perClass) {
  const images = readIdx(`${prefix}-images-idx3-ubyte.gz`);
  const labels = readIdx(`${prefix}-labels-idx1-ubyte.gz`);
  const taken = new Array(10).fill(0);
  const picked = [];
  for (let i = 0; i < labels.dims[0] && picked.length < 10 * perClass; i++) {
    const c = labels.data[i];
    if (taken[c] < perClass) { taken[c]++; picked.push(i); }
  }
  const n = picked.length;
  const small = new Uint8Array(n * 196);
  const y = new Uint8Array(n);
  picked.forEach((i, k) => {
    y[k] = labels.data[i];
    const img = images.data.subarray(i * 784, (i + 1) * 784);
    for (let r = 0; r < 14; r++) {
      for (let c = 0; c < 14; c++) {
        const s = img[2 * r * 28 + 2 * c] + img[2 * r * 28 + 2 * c + 1] + img[(2 * r + 1) * 28 + 2 * c] + img[(2 * r + 1) * 28 + 2 * c + 1];
        small[k * 196 + r * 14 + c] = Math.round(s / 4);
      }
    }
  });
  return [idx([n, 14, 14], small), idx([n], y)];
}

const raw = Buffer.concat([...subset('train', TRAIN_PER_CLASS), ...subset('t10k', TEST_PER_CLASS)]);
writeFileSync(out, gzipSync(raw, { level: 9 }));
console.log(`wrote ${out}: ${raw.length} bytes raw, ${readFileSync(out).length} bytes gzipped`);
