/**
 * Data-parallel training throughput: `npm run bench:parallel [samples=7680] [epochs=3] [rounds=3]`.
 *
 * Trains the recipe's CNN and MLP (../shared/docs/bench-recipe.md: 28×28×1 inputs, 10 classes,
 * SGD lr 0.05 momentum 0.9, L2 2.5e-4, batch 128) with `trainWithInfoBatch` on the wasm backend,
 * full data, on this thread and with `workers: N` for N = 2 … the number of cores, and prints the
 * samples/s of the fastest epoch after the first (the first warms up the threads; starting them
 * is reported apart), and the samples per CPU-second of all the process's threads in that epoch:
 * on a machine shared with other work (where Linux's autogroup scheduling gives this process a
 * fixed share of the CPU however many threads it runs) that figure shows the cost of the
 * parallel version, while samples/s needs idle cores to show a speedup. Inputs are seeded random
 * pixels: throughput does not depend on the values.
 * Each round measures every worker count once, in alternating order; the speedup is the median over
 * the rounds of (2 workers / this thread) within a round, so that the slow spells of a shared
 * virtual machine (single runs here vary by up to 40%) hit both sides of each ratio alike.
 * Ends with one line per model: `speedup <model> workers=2: <x>x (median of <n> rounds: …)`. `KINDS=mlp` limits the run to some models;
 * `--fast-kernels` trains with `useFastWasmKernels` on every thread (as `bench:speed` does).
 */
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { median } from './stats.js';
import { SeededRandom } from '../src/core/random.js';
import { createModel, type ModelKind } from '../src/experiments/models.js';
import { FullDataPolicy } from '../src/policies/full-data.js';
import { selectBackend } from '../src/tfjs/backend.js';
import { softmaxCrossEntropy } from '../src/tfjs/losses.js';
import { trainWithInfoBatch } from '../src/tfjs/trainer.js';

const fastKernels = process.argv.includes('--fast-kernels');
const [samples = 7680, epochs = 3, repeats = 3] = process.argv.slice(2).filter((arg) => !arg.startsWith('--')).map(Number);
const BATCH = 128;
const cores = availableParallelism();

const backend = await selectBackend({ prefer: ['wasm'], fastWasmKernels: fastKernels });
const random = SeededRandom.derive(2024);
const pixels = new Float32Array(samples * 784);
for (let i = 0; i < pixels.length; i++) pixels[i] = random.nextFloat();
const labels = Int32Array.from({ length: samples }, () => random.nextInt(10));
const x = tf.tensor4d(pixels, [samples, 28, 28, 1]);
const y = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), 10), 'float32'));

/** Seconds of CPU time used by this process (every thread) so far. */
function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

async function throughput(kind: ModelKind, workers: number): Promise<{ rate: number; cpuRate: number; startSeconds: number }> {
  const model = createModel(kind, { inputShape: [28, 28, 1], numClasses: 10, seed: 0, l2: 2.5e-4 });
  const optimizer = tf.train.momentum(0.05, 0.9);
  const start = performance.now();
  let firstEpochAt = Number.NaN;
  let cpuAtBegin = 0;
  const cpuByEpoch: number[] = [];
  const result = await trainWithInfoBatch(model, { x, y }, {
    epochs,
    batchSize: BATCH,
    optimizer,
    loss: softmaxCrossEntropy,
    infobatch: { policy: new FullDataPolicy() },
    workers,
    callbacks: {
      onEpochBegin: (epoch) => {
        if (epoch === 0) firstEpochAt = performance.now();
        cpuAtBegin = cpuSeconds();
      },
      onEpochEnd: () => void cpuByEpoch.push(cpuSeconds() - cpuAtBegin),
    },
  });
  const rates = result.epochs.map((e) => e.planLength / e.trainSeconds);
  const best = rates.indexOf(Math.max(...rates.slice(1)), 1);
  model.dispose();
  optimizer.dispose();
  return { rate: rates[best]!, cpuRate: result.epochs[best]!.planLength / cpuByEpoch[best]!, startSeconds: (firstEpochAt - start) / 1000 };
}


console.log(`node ${process.version}, backend ${backend}${fastKernels ? " (fast kernels)" : ""}, ${cores} cores; ${samples} samples, batch ${BATCH}, best of epochs 2…${epochs}; ${repeats} interleaved rounds`);
const speedups: string[] = [];
const workerCounts = Array.from({ length: Math.max(2, cores) }, (_, i) => i + 1);
for (const kind of (process.env.KINDS?.split(',') ?? ['cnn', 'mlp']) as ModelKind[]) {
  const rates = new Map<number, number[]>(workerCounts.map((w) => [w, []]));
  const ratios: number[] = [];
  for (let round = 0; round < repeats; round++) {
    // Alternate the order, so that a slow spell of a shared machine hits both counts alike.
    const order = round % 2 === 0 ? workerCounts : [...workerCounts].reverse();
    const byCount = new Map<number, number>();
    for (const workers of order) {
      const { rate, cpuRate, startSeconds } = await throughput(kind, workers);
      byCount.set(workers, rate);
      rates.get(workers)!.push(rate);
      console.log(`round ${round + 1} ${kind} workers=${workers}: ${rate.toFixed(0)} samples/s, ${cpuRate.toFixed(0)} samples per CPU-second${workers > 1 ? ` (starting the threads took ${startSeconds.toFixed(1)} s)` : ' (this thread)'}`);
    }
    ratios.push(byCount.get(2)! / byCount.get(1)!);
  }
  for (const workers of workerCounts) console.log(`${kind} workers=${workers}: median ${median(rates.get(workers)!).toFixed(0)} samples/s`);
  speedups.push(`speedup ${kind} workers=2: ${median(ratios).toFixed(2)}x (median of ${repeats} rounds: ${ratios.map((r) => r.toFixed(2)).join(', ')})`);
}
tf.dispose([x, y]);
for (const line of speedups) console.log(line);
