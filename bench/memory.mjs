/**
 * Memory of the core at scale: `npm run bench:memory` (builds, then
 * `node --expose-gc bench/memory.mjs [numSamples] [--into]`).
 *
 * Plain JavaScript over the built package, run by plain `node`, so that the figure is the
 * library's and not a TypeScript loader's (tsx adds about 36 MB of RSS by itself).
 *
 * A training run as the core sees it, at 10 million samples by default: four epochs, each planned
 * with `beginEpoch` (into caller-owned buffers with `--into`, else new arrays per plan, the old one
 * released first as a training loop does), every plan position's loss recorded in batches of
 * 4,096, and `markPosition` after each batch. Half-way through epoch 2 it checkpoints
 * (`saveStateChunks({ reuseChunk: true })`, each 4 MiB chunk written to a file as it comes) and
 * a second process resumes from the file: it loads the state, then continues epoch 2 from
 * `resumePoint()` and runs epoch 3.
 *
 * Prints the peak RSS of each process (`process.resourceUsage().maxRSS`), the RSS after a garbage
 * collection at the end, the array-buffer bytes held per sample, and the checkpoint size.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InfoBatch } from '../dist/index.js';

const numSamples = Number(process.argv.find((a, i) => i >= 2 && /^\d+$/.test(a)) ?? 10_000_000);
const useInto = process.argv.includes('--into');
const BATCH = 4096;
const EPOCHS = 4;
const MB = 2 ** 20;

if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc (npm run bench:memory does)');
  process.exit(2);
}
const gc = globalThis.gc;

// Losses from a small LCG: the figures must not depend on the library's own generator.
let state = 12345;
const losses = new Float32Array(BATCH);
function nextLosses(count) {
  for (let j = 0; j < count; j++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    losses[j] = (state / 4294967296) * 3;
  }
  return losses.subarray(0, count);
}

const newBuffers = () => (useInto ? { indices: new Int32Array(numSamples), weights: new Float32Array(numSamples) } : undefined);
const resumeFrom = process.argv[process.argv.indexOf('--resume') + 1];
const resuming = process.argv.includes('--resume');

/** Writes the checkpoint, each chunk as it comes (in a function: a loop at module level would keep its iterator). */
function save(ib, file) {
  const fd = openSync(file, 'w');
  let written = 0;
  for (const chunk of ib.saveStateChunks({ reuseChunk: true })) {
    writeSync(fd, chunk);
    written += chunk.length;
  }
  closeSync(fd);
  return written;
}

/** Loads the checkpoint before anything else is allocated, as a resumed process does. */
function load(file) {
  const bytes = readFileSync(file);
  return InfoBatch.loadState(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
}

/** Trains `epoch` from the resume point: losses recorded and positions marked in batches; `stopAt` ends it early (a checkpoint). */
function runEpoch(run, epoch, stopAt = Infinity) {
  const plan = run.ib.beginEpoch(epoch, run.into === undefined ? {} : { into: run.into });
  for (let start = run.ib.resumePoint().position; start < plan.length; start += BATCH) {
    const end = Math.min(start + BATCH, plan.length);
    run.ib.recordLosses(plan.indices.subarray(start, end), nextLosses(end - start));
    run.ib.markPosition(epoch, end);
    if (end >= stopAt * plan.length) return false;
  }
  return true;
}

const started = performance.now();
if (!resuming) {
  // The first process: epochs 0 and 1, half of epoch 2, a checkpoint; then the resumed process.
  const dir = mkdtempSync(join(tmpdir(), 'infobatch-memory-'));
  const file = join(dir, 'state.ibck');
  const run = { ib: new InfoBatch({ numSamples, numEpochs: 8, seed: 1 }), into: newBuffers() };
  for (let epoch = 0; epoch < 2; epoch++) runEpoch(run, epoch);
  runEpoch(run, 2, 0.5);
  const checkpointBytes = save(run.ib, file);
  const firstPeak = process.resourceUsage().maxRSS / 1024;
  const child = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), String(numSamples), ...(useInto ? ['--into'] : []), '--resume', file], { encoding: 'utf8' });
  rmSync(dir, { recursive: true, force: true });
  if (child.status !== 0) throw new Error(`the resumed process failed: ${child.stderr}`);
  const resumed = JSON.parse(child.stdout);
  const seconds = (performance.now() - started) / 1000;
  console.log(`node ${process.version}; ${numSamples.toLocaleString('en-US')} samples, ${EPOCHS} epochs, plans ${useInto ? 'into caller buffers (--into)' : 'in new arrays'}, ${seconds.toFixed(1)} s`);
  console.log(`peak RSS ${Math.max(firstPeak, resumed.peak).toFixed(0)} MB (first process ${firstPeak.toFixed(0)} MB, resumed process ${resumed.peak.toFixed(0)} MB); at the end, after gc: RSS ${resumed.rss.toFixed(0)} MB, array buffers ${resumed.bytesPerSample.toFixed(1)} bytes/sample${useInto ? " (8 of them the caller's plan buffers)" : ''}; checkpoint ${(checkpointBytes / numSamples).toFixed(2)} bytes/sample`);
} else {
  // The resumed process: load, then the rest of epoch 2 and epoch 3.
  const run = { ib: load(resumeFrom), into: undefined };
  run.into = newBuffers();
  for (let epoch = run.ib.resumePoint().epoch; epoch < EPOCHS; epoch++) runEpoch(run, epoch);
  gc();
  const usage = process.memoryUsage();
  console.log(JSON.stringify({ peak: process.resourceUsage().maxRSS / 1024, rss: usage.rss / MB, bytesPerSample: usage.arrayBuffers / numSamples }));
}
