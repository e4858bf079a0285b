/**
 * Core engine benchmark: `npm run bench:core`.
 * Prints, for several dataset sizes with random scores, the median time of `beginEpoch` (new
 * plan arrays each epoch, and into caller-owned buffers with `{ into }`), the array-buffer bytes a
 * steady-state `beginEpoch(e, { into })` allocates, the process CPU time of that call (less
 * sensitive than wall time to other processes on a shared machine), the throughput of `recordLosses` in batches
 * of 256, and the memory held per sample.
 * Targets (issue #3, 2-core machine): N=1.28M ≤ 15 ms, N=10M ≤ 150 ms, ≥ 20M losses/s,
 * ≤ 20 bytes per sample.
 */
import { InfoBatch } from '../src/index.js';
import { SeededRandom } from '../src/core/random.js';
import { median } from './stats.js';

const sizes = (process.argv[2]?.split(',').map(Number)) ?? [50_000, 1_281_167, 10_000_000];
const repeats = 9;


function arrayBufferBytes(): number {
  globalThis.gc?.();
  return process.memoryUsage().arrayBuffers;
}

console.log(`node ${process.version}, ${process.arch}; median of ${repeats} runs${globalThis.gc ? '' : ' (run with --expose-gc for exact memory)'}`);
console.log('N           beginEpoch(ms)  with into(ms)  into, CPU time(ms)  new bytes/epoch(into)  plan len   recordLosses(M losses/s)  bytes/sample');
for (const numSamples of sizes) {
  const random = SeededRandom.derive(123, numSamples);
  const before = arrayBufferBytes();
  const ib = new InfoBatch({ numSamples, numEpochs: 100, seed: 1 });
  // Score every sample once with random losses, as after a first full epoch.
  const batch = 256;
  const losses = new Float32Array(batch);
  const indices = new Int32Array(batch);
  const allLosses = new Float32Array(numSamples);
  for (let i = 0; i < numSamples; i++) allLosses[i] = random.nextFloat() * 3;
  const recordTimes: number[] = [];
  for (let r = 0; r < 3; r++) {
    const start = performance.now();
    for (let s = 0; s < numSamples; s += batch) {
      const count = Math.min(batch, numSamples - s);
      for (let j = 0; j < count; j++) {
        indices[j] = s + j;
        losses[j] = allLosses[s + j]!;
      }
      ib.recordLosses(count === batch ? indices : indices.subarray(0, count), count === batch ? losses : losses.subarray(0, count));
    }
    recordTimes.push(performance.now() - start);
  }
  const recordRate = numSamples / median(recordTimes) / 1000;
  const planTimes: number[] = [];
  // Every timed call plans a new epoch: beginEpoch of the epoch in progress returns its plan as
  // made (for resuming), which would time nothing. Epoch 1 warms up; epochs 2 … are timed.
  let plan = ib.beginEpoch(1);
  for (let r = 0; r < repeats; r++) {
    const start = performance.now();
    plan = ib.beginEpoch(2 + r);
    planTimes.push(performance.now() - start);
  }
  const held = arrayBufferBytes() - before - allLosses.byteLength - losses.byteLength - indices.byteLength;
  const into = { indices: new Int32Array(numSamples), weights: new Float32Array(numSamples) };
  ib.beginEpoch(20, { into });
  const intoTimes: number[] = [];
  const intoCpuTimes: number[] = [];
  const allocated = process.memoryUsage().arrayBuffers;
  for (let r = 0; r < repeats; r++) {
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    ib.beginEpoch(21 + r, { into });
    intoTimes.push(performance.now() - start);
    const cpu = process.cpuUsage(cpuStart);
    intoCpuTimes.push((cpu.user + cpu.system) / 1000);
  }
  const newBytes = Math.max(0, process.memoryUsage().arrayBuffers - allocated) / repeats;
  console.log(
    `${String(numSamples).padEnd(12)}${median(planTimes).toFixed(1).padStart(14)}  ${median(intoTimes).toFixed(1).padStart(13)}  ${median(intoCpuTimes).toFixed(1).padStart(18)}  ${newBytes.toFixed(0).padStart(21)}  ${String(plan.length).padStart(9)}  ${recordRate.toFixed(1).padStart(24)}  ${(held / numSamples).toFixed(1).padStart(12)}`,
  );
}
