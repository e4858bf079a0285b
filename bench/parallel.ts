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
import { spawnNodeReplicas } from '../src/tfjs/parallel/spawn-node.js';
import { spawnIpcReplicas } from '../examples/ipc-transport.js';

const fastKernels = process.argv.includes('--fast-kernels');
/**
 * How the 2-worker runs train (`--variants threads,dedicated,processes`): `threads` is the default
 * `workers: 2` (this thread computes rank 0, one worker thread rank 1); `dedicated` starts two
 * worker threads and this thread only coordinates; `dedicated-event` is `dedicated` with every
 * message taken on the event loop (no blocking receive); `processes` starts two processes
 * (examples/ipc-transport.ts).
 */
const VARIANTS = {
  threads: (count: number) => count,
  dedicated: (count: number) => ({ count, spawn: (n: number) => spawnNodeReplicas(n) }),
  'dedicated-event': (count: number) => ({ count, spawn: (n: number) => spawnNodeReplicas(n, { blockingReceive: false }) }),
  processes: (count: number) => ({ count, spawn: spawnIpcReplicas }),
} as const;
type Variant = keyof typeof VARIANTS;
const variantsArg = process.argv.find((arg) => arg.startsWith('--variants='));
const variants = (variantsArg === undefined ? ['threads'] : variantsArg.slice('--variants='.length).split(',')) as Variant[];
for (const v of variants) if (!(v in VARIANTS)) throw new Error(`unknown variant ${v}; expected ${Object.keys(VARIANTS).join(', ')}`);
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

async function throughput(kind: ModelKind, workers: number, variant: Variant = 'threads'): Promise<{ rate: number; cpuRate: number; startSeconds: number }> {
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
    workers: workers === 1 ? 1 : VARIANTS[variant](workers),
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
/** Every configuration a round measures: this thread, then each variant at 2 … cores workers. */
const configs = [{ workers: 1, variant: 'threads' as Variant }, ...variants.flatMap((variant) => workerCounts.slice(1).map((workers) => ({ workers, variant })))];
const nameOf = (c: { workers: number; variant: Variant }) => (c.workers === 1 ? 'workers=1' : `workers=${c.workers}${variants.length > 1 || c.variant !== 'threads' ? ` ${c.variant}` : ''}`);
for (const kind of (process.env.KINDS?.split(',') ?? ['cnn', 'mlp']) as ModelKind[]) {
  const rates = new Map<string, number[]>(configs.map((c) => [nameOf(c), []]));
  const ratios = new Map<Variant, number[]>(variants.map((v) => [v, []]));
  for (let round = 0; round < repeats; round++) {
    // Alternate the order, so that a slow spell of a shared machine hits every configuration alike.
    const order = round % 2 === 0 ? configs : [...configs].reverse();
    const byName = new Map<string, number>();
    for (const config of order) {
      const { rate, cpuRate, startSeconds } = await throughput(kind, config.workers, config.variant);
      const name = nameOf(config);
      byName.set(name, rate);
      rates.get(name)!.push(rate);
      const cpuNote = config.variant === 'processes' && config.workers > 1 ? ' of this process only' : '';
      console.log(`round ${round + 1} ${kind} ${name}: ${rate.toFixed(0)} samples/s, ${cpuRate.toFixed(0)} samples per CPU-second${cpuNote}${config.workers > 1 ? ` (starting the workers took ${startSeconds.toFixed(1)} s)` : ' (this thread)'}`);
    }
    for (const variant of variants) ratios.get(variant)!.push(byName.get(nameOf({ workers: 2, variant }))! / byName.get('workers=1')!);
  }
  for (const config of configs) console.log(`${kind} ${nameOf(config)}: median ${median(rates.get(nameOf(config))!).toFixed(0)} samples/s`);
  for (const variant of variants) {
    const r = ratios.get(variant)!;
    speedups.push(`speedup ${kind} ${nameOf({ workers: 2, variant })}: ${median(r).toFixed(2)}x (median of ${repeats} rounds: ${r.map((v) => v.toFixed(2)).join(', ')})`);
  }
}
tf.dispose([x, y]);
for (const line of speedups) console.log(line);
