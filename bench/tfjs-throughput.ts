/**
 * Training throughput (samples/s) of tf.layers models at batch 128 with SGD and softmax
 * cross-entropy: (a) a small CNN on 28×28×1, (b) an MLP 784-128-10; on wasm with tfjs's own
 * kernels, on wasm with `useFastWasmKernels`, and on cpu.
 *
 * Each measurement runs `warmupSteps` untimed steps, then times steps until `maxSteps` are done or
 * `maxSeconds` have passed (the cpu CNN takes seconds per step), and prints the steps it timed.
 * The two wasm variants are measured in `rounds` interleaved rounds (alternating which goes first,
 * as this VM's speed drifts by up to 40%), and the medians printed; cpu once.
 *
 * Run: `npm run bench:tfjs -- [maxSteps=300] [maxSeconds=20] [warmupSteps=5] [rounds=3]`
 */
import * as tf from '@tensorflow/tfjs';
import { median } from './stats.js';
import { selectBackend } from '../src/tfjs/backend.js';
import { useFastWasmKernels } from '../src/tfjs/wasm-kernels.js';

const BATCH = 128;
const [maxSteps = 300, maxSeconds = 20, warmupSteps = 5, rounds = 3] = process.argv.slice(2).map(Number);

/** conv 3×3×8 relu, maxpool, conv 3×3×16 relu, maxpool, flatten, dense 10. */
function cnn(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 3, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 10 }),
    ],
  });
}

/** dense 784→128 relu, dense 128→10. */
function mlp(): tf.Sequential {
  return tf.sequential({
    layers: [tf.layers.dense({ inputShape: [784], units: 128, activation: 'relu' }), tf.layers.dense({ units: 10 })],
  });
}

/** Seeded inputs in [0, 1) and one-hot labels (an LCG: the figures need no real data). */
function batch(inputShape: readonly number[]): { xs: tf.Tensor; ys: tf.Tensor } {
  let state = 12345;
  const next = (): number => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const shape = [BATCH, ...inputShape];
  const xs = tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, next), shape);
  const ys = tf.oneHot(tf.tensor1d(Int32Array.from({ length: BATCH }, () => Math.floor(next() * 10)), 'int32'), 10);
  return { xs, ys };
}

/** Samples per second of `trainOnBatch`, and the number of steps timed. */
async function throughput(makeModel: () => tf.Sequential, inputShape: readonly number[]): Promise<{ rate: number; steps: number }> {
  const model = makeModel();
  model.compile({ optimizer: tf.train.sgd(0.01), loss: tf.losses.softmaxCrossEntropy });
  const { xs, ys } = batch(inputShape);
  for (let i = 0; i < warmupSteps; i++) await model.trainOnBatch(xs, ys);
  const start = performance.now();
  let steps = 0;
  while (steps < maxSteps && performance.now() - start < maxSeconds * 1000) {
    await model.trainOnBatch(xs, ys);
    steps++;
  }
  const seconds = (performance.now() - start) / 1000;
  tf.dispose([xs, ys]);
  model.dispose();
  return { rate: (steps * BATCH) / seconds, steps };
}

const MODELS = [
  ['CNN 28x28x1', cnn, [28, 28, 1]],
  ['MLP 784-128-10', mlp, [784]],
] as const;


console.log(`batch ${BATCH}, ${warmupSteps} warm-up steps, then up to ${maxSteps} steps or ${maxSeconds} s; wasm variants in ${rounds} interleaved rounds`);
await selectBackend({ prefer: ['wasm'] });
const rates = new Map<string, number[]>();
for (let round = 0; round < rounds; round++) {
  const variants = round % 2 === 0 ? ['wasm', 'wasm+fast'] : ['wasm+fast', 'wasm'];
  for (const variant of variants) {
    const restore = variant === 'wasm+fast' ? useFastWasmKernels() : undefined;
    try {
      for (const [name, makeModel, inputShape] of MODELS) {
        const { rate, steps } = await throughput(makeModel, inputShape);
        const key = `${variant.padEnd(9)} ${name.padEnd(15)}`;
        rates.set(key, [...(rates.get(key) ?? []), rate]);
        console.log(`round ${round + 1} ${key} ${rate.toFixed(0).padStart(8)} samples/s (${steps} steps)`);
      }
    } finally {
      restore?.();
    }
  }
}
for (const [key, values] of rates) console.log(`${key} median ${median(values).toFixed(0).padStart(8)} samples/s`);
for (const [name] of MODELS) {
  const speedups = Array.from({ length: rounds }, (_, r) => rates.get(`${'wasm+fast'.padEnd(9)} ${name.padEnd(15)}`)![r]! / rates.get(`${'wasm'.padEnd(9)} ${name.padEnd(15)}`)![r]!);
  console.log(`fast wasm kernels ${name}: ${median(speedups).toFixed(2)}x (rounds: ${speedups.map((x) => x.toFixed(2)).join(', ')})`);
}
await selectBackend({ prefer: ['cpu'] });
for (const [name, makeModel, inputShape] of MODELS) {
  const { rate, steps } = await throughput(makeModel, inputShape);
  console.log(`${'cpu'.padEnd(9)} ${name.padEnd(15)} ${rate.toFixed(0).padStart(8)} samples/s (${steps} steps)`);
}
