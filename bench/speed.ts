/**
 * One number for users: how much faster `fitWithInfoBatch`, with everything a user can switch on,
 * trains the tfjs-examples CNN than `model.fit` does, and at what test accuracy; then what one
 * plain training step costs against PyTorch on this machine, and where the difference goes.
 *
 * Part 1. For each seed, interleaved (`model.fit` seed s, then `fitWithInfoBatch` seed s, …), the
 * same compiled model ({@link exampleCnn}: 'rmsprop', 'categoricalCrossentropy', metrics
 * ['accuracy']) and the same arguments (`epochs`, `batchSize`, `validationSplit`) on Fashion-MNIST:
 * - `model.fit` as a user has it: the backend `selectBackend()` picks (wasm here), tfjs's own
 *   kernels, this thread;
 * - `fitWithInfoBatch` with the faster wasm kernels (`useFastWasmKernels`, when the backend is
 *   wasm), `workers` = the number of cores (`--workers`), InfoBatch's defaults.
 * Resumable: each finished run is written to `<out>/<method>-seed<seed>.json` (atomically), and
 * runs whose file exists are skipped. It ends with
 * `speedup vs model.fit: X.XXx (accuracy Δ ±Y.YY points, 95% CI [..], N seeds)`: the ratio of the
 * mean training wall-clock seconds over the seeds both methods ran, and the paired difference of
 * test accuracy with its Student-t interval. On a machine shared with other work wall-clock
 * stretches with the load (and workers need idle cores to help); CPU seconds are printed too.
 *
 * Part 2. Samples/s of one plain training step (`trainOnBatch`) of the recipe CNN
 * (src/experiments/models.ts, SGD with momentum, batch 128) on wasm, one thread, with tfjs's own
 * kernels and with the fast ones (interleaved rounds), beside the PyTorch anchor, and the fast
 * step's CPU time kernel by kernel (tf.profile with a CPU-time kernel timer; bench/kernel-profile.ts).
 *
 * Full run: `npm run bench:speed -- --epochs 10 --seeds 0,1,2,3,4 --out results/speed`
 * Smoke test: `npm run bench:speed -- --train-limit 2000 --epochs 2 --seeds 0 --out .cache/speed-smoke`
 */
import * as tf from '@tensorflow/tfjs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { InfoBatch } from '../src/core/info-batch.js';
import { createModel } from '../src/experiments/models.js';
import { pairedDelta } from '../src/experiments/paired-stats.js';
import { formatInterval, formatSigned } from '../src/experiments/results.js';
import { fitWithInfoBatch, selectBackend } from '../src/tfjs/index.js';
import { FAST_WASM_KERNELS_NAME, useFastWasmKernels } from '../src/tfjs/wasm-kernels.js';
import { openFraction, positiveInteger, positiveNumber, seedList } from './bench-args.js';
import { loadFitData, testMetrics, timed, type FitData } from './fit-data.js';
import { exampleCnn } from './fit-model.js';
import { formatStepProfile, profileStepCpu } from './kernel-profile.js';
import { readRecord, writeRecord } from './run-files.js';
import { median } from './stats.js';

const BENCH = 'bench:speed';

/**
 * PyTorch's training throughput on the recipe CNN on the development machine (one thread, batch
 * 128; issue #27), the anchor tfjs is compared with. tfjs wasm did about 2,000 samples/s there.
 */
const PYTORCH_SAMPLES_PER_SECOND = 7900;

const METHODS = ['model.fit', 'fitWithInfoBatch'] as const;
type Method = (typeof METHODS)[number];

interface SpeedRecord {
  readonly method: Method;
  readonly seed: number;
  readonly epochs: number;
  readonly batchSize: number;
  readonly validationSplit: number;
  readonly width: number;
  readonly trainSamples: number;
  readonly testSamples: number;
  readonly backend: string;
  /** `'tfjs'` (tfjs's own kernels) or the fast set's name ({@link FAST_WASM_KERNELS_NAME}). */
  readonly wasmKernels: string;
  /** Replicas the run trained on (1: this thread). */
  readonly workers: number;
  readonly testAccuracy: number;
  readonly testLoss: number;
  /** Wall-clock seconds of the training call. */
  readonly trainSeconds: number;
  /** Process CPU seconds (user + system, every thread) of the training call. */
  readonly cpuSeconds: number;
  readonly history: Record<string, number[]>;
  readonly infobatch?: { readonly samplesVisited: number; readonly fullDataSamples: number; readonly savedFraction: number };
}

const { values: args } = parseArgs({
  options: {
    epochs: { type: 'string', default: '10' },
    seeds: { type: 'string', default: '0,1,2' },
    'batch-size': { type: 'string', default: '128' },
    'validation-split': { type: 'string', default: '0.15' },
    width: { type: 'string', default: '1' },
    workers: { type: 'string', default: String(availableParallelism()) },
    'train-limit': { type: 'string' },
    'test-limit': { type: 'string' },
    'data-dir': { type: 'string', default: join('..', 'shared', 'data', 'fashion-mnist') },
    out: { type: 'string', default: join('results', 'speed') },
    steps: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '3' },
    'profile-steps': { type: 'string', default: '5' },
    'pytorch-samples-per-second': { type: 'string', default: String(PYTORCH_SAMPLES_PER_SECOND) },
  },
});

const epochs = positiveInteger(BENCH, 'epochs', args.epochs);
const seeds = seedList(BENCH, args.seeds);
const batchSize = positiveInteger(BENCH, 'batch-size', args['batch-size']);
const validationSplit = openFraction(BENCH, 'validation-split', args['validation-split']);
const width = positiveNumber(BENCH, 'width', args.width);
const workers = positiveInteger(BENCH, 'workers', args.workers);
const trainLimit = args['train-limit'] === undefined ? undefined : positiveInteger(BENCH, 'train-limit', args['train-limit']);
const testLimit = args['test-limit'] === undefined ? undefined : positiveInteger(BENCH, 'test-limit', args['test-limit']);
const steps = positiveInteger(BENCH, 'steps', args.steps);
const rounds = positiveInteger(BENCH, 'rounds', args.rounds);
const profileSteps = positiveInteger(BENCH, 'profile-steps', args['profile-steps']);
const pytorchRate = positiveNumber(BENCH, 'pytorch-samples-per-second', args['pytorch-samples-per-second']);
const out = args.out;
const FILE_PREFIX: Record<Method, string> = { 'model.fit': 'model-fit', fitWithInfoBatch: 'fit-with-infobatch' };
const fileOf = (method: Method, seed: number) => join(out, `${FILE_PREFIX[method]}-seed${seed}.json`);

const backend = await selectBackend();
const fastKernels = backend === 'wasm';
const data = await loadFitData(BENCH, args['data-dir'], { trainLimit, testLimit });
const numSamples = data.x.shape[0]!;
const numTrain = Math.floor(numSamples * (1 - validationSplit));
const testSamples = data.testX.shape[0]!;
console.log(
  `${BENCH}: ${numSamples} training samples (${numTrain} trained on, the rest validation), ${testSamples} test samples, ${epochs} epochs, batch ${batchSize}, width ${width}, backend ${backend}, results in ${out}`,
);
console.log(`  model.fit: tfjs's own kernels, this thread; fitWithInfoBatch: ${fastKernels ? `fast wasm kernels (${FAST_WASM_KERNELS_NAME}), ` : ''}workers ${workers}, InfoBatch defaults`);

/** The settings of `method`'s runs in this invocation (what a record on disk must match to be reused). */
function settingsOf(method: Method): Pick<SpeedRecord, 'epochs' | 'batchSize' | 'validationSplit' | 'width' | 'trainSamples' | 'testSamples' | 'backend' | 'wasmKernels' | 'workers'> {
  const all = method === 'fitWithInfoBatch';
  return { epochs, batchSize, validationSplit, width, trainSamples: numSamples, testSamples, backend, wasmKernels: all && fastKernels ? FAST_WASM_KERNELS_NAME : 'tfjs', workers: all ? workers : 1 };
}

async function train(method: Method, seed: number, fitData: FitData): Promise<SpeedRecord> {
  const model = exampleCnn({ seed, width });
  const fitArgs = { epochs, batchSize, validationSplit, verbose: 0 } as const;
  const ib = new InfoBatch({ numSamples: numTrain, numEpochs: epochs, seed });
  const restore = method === 'fitWithInfoBatch' && fastKernels ? useFastWasmKernels() : undefined;
  try {
    const { result: history, trainSeconds, cpuSeconds } = await timed(() =>
      method === 'model.fit' ? model.fit(fitData.x, fitData.y, fitArgs) : fitWithInfoBatch(model, fitData.x, fitData.y, { ...fitArgs, infobatch: ib, workers }),
    );
    const { testLoss, testAccuracy } = await testMetrics(model, fitData);
    const summary = ib.summary();
    return {
      method,
      seed,
      ...settingsOf(method),
      testAccuracy,
      testLoss,
      trainSeconds,
      cpuSeconds,
      history: history.history as Record<string, number[]>,
      ...(method === 'fitWithInfoBatch' && { infobatch: { samplesVisited: summary.samplesVisited, fullDataSamples: summary.fullDataSamples, savedFraction: summary.savedFraction } }),
    };
  } finally {
    restore?.();
    model.dispose();
  }
}

for (const seed of seeds) {
  for (const method of METHODS) {
    const path = fileOf(method, seed);
    const done = await readRecord<SpeedRecord>(BENCH, path);
    if (done !== undefined) {
      const expected = settingsOf(method);
      const differing = (Object.keys(expected) as (keyof typeof expected)[]).filter((key) => done[key] !== expected[key]);
      if (differing.length > 0) {
        console.error(`${BENCH}: ${path} holds a run with other settings (${differing.map((key) => `${key} ${JSON.stringify(done[key])}, now ${JSON.stringify(expected[key])}`).join('; ')}); use another --out folder.`);
        process.exit(2);
      }
      console.log(`${method} seed ${seed}: done before (${path}), skipped`);
      continue;
    }
    const record = await train(method, seed, data);
    await writeRecord(path, record);
    const saved = record.infobatch === undefined ? '' : `, ${(100 * record.infobatch.savedFraction).toFixed(1)}% of sample passes saved`;
    console.log(`${method} seed ${seed}: test accuracy ${record.testAccuracy.toFixed(4)}, training ${record.trainSeconds.toFixed(1)} s, CPU ${record.cpuSeconds.toFixed(1)} s${saved} -> ${path}`);
  }
}

const recordsOf = async (method: Method) => new Map((await Promise.all(seeds.map((seed) => readRecord<SpeedRecord>(BENCH, fileOf(method, seed))))).filter((r): r is SpeedRecord => r !== undefined).map((r) => [r.seed, r]));
const plain = await recordsOf('model.fit');
const all = await recordsOf('fitWithInfoBatch');
const paired = seeds.filter((seed) => plain.has(seed) && all.has(seed));
if (paired.length > 0) {
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const over = (runs: Map<number, SpeedRecord>, field: 'trainSeconds' | 'cpuSeconds') => mean(paired.map((seed) => runs.get(seed)![field]));
  const speedup = over(plain, 'trainSeconds') / over(all, 'trainSeconds');
  const accuracy = (runs: Map<number, SpeedRecord>) => new Map(paired.map((seed) => [seed, 100 * runs.get(seed)!.testAccuracy]));
  const delta = pairedDelta(accuracy(all), accuracy(plain))!;
  console.log(`\nper seed (model.fit s / fitWithInfoBatch s): ${paired.map((seed) => `${seed}: ${(plain.get(seed)!.trainSeconds / all.get(seed)!.trainSeconds).toFixed(2)}x`).join(', ')}`);
  console.log(`mean training wall-clock: model.fit ${over(plain, 'trainSeconds').toFixed(1)} s, fitWithInfoBatch ${over(all, 'trainSeconds').toFixed(1)} s; CPU (all threads): ${over(plain, 'cpuSeconds').toFixed(1)} s, ${over(all, 'cpuSeconds').toFixed(1)} s`);
  console.log(`speedup vs model.fit: ${speedup.toFixed(2)}x (accuracy Δ ${formatSigned(delta.mean, 2)} points, 95% CI ${formatInterval(delta, 2)}, ${delta.n} seed${delta.n === 1 ? '' : 's'})`);
  // model.fit trains on one thread, so on an idle machine its wall-clock about equals its CPU time.
  const stretch = over(plain, 'trainSeconds') / over(plain, 'cpuSeconds');
  if (stretch > 1.25) {
    console.log(`note: model.fit's wall-clock was ${stretch.toFixed(1)}x its CPU time: other work shared this machine, so the wall-clock speedup is not an idle machine's; run it again on an idle one.`);
  }
}

// Part 2: one plain training step of the recipe CNN, against PyTorch.
if (backend !== 'wasm') {
  console.log(`\nstep: skipped (backend ${backend}; the PyTorch comparison is for tfjs wasm).`);
} else {
  const xs = data.x.slice([0], [batchSize]);
  const ys = data.y.slice([0], [batchSize]);
  const stepModel = () => {
    const model = createModel('cnn', { inputShape: [28, 28, 1], numClasses: 10, seed: 0, l2: 2.5e-4 });
    model.compile({ optimizer: tf.train.momentum(0.05, 0.9), loss: tf.losses.softmaxCrossEntropy });
    return model;
  };
  /** CPU and wall-clock milliseconds per `trainOnBatch` step, after 3 untimed steps. */
  const timeSteps = async (fast: boolean) => {
    const restore = fast ? useFastWasmKernels() : undefined;
    const model = stepModel();
    try {
      for (let i = 0; i < 3; i++) await model.trainOnBatch(xs, ys);
      const { trainSeconds, cpuSeconds } = await timed(async () => {
        for (let i = 0; i < steps; i++) await model.trainOnBatch(xs, ys);
      });
      return { cpuMs: (1000 * cpuSeconds) / steps, wallMs: (1000 * trainSeconds) / steps };
    } finally {
      model.dispose();
      restore?.();
    }
  };
  const variants = { stock: { cpu: [] as number[], wall: [] as number[] }, fast: { cpu: [] as number[], wall: [] as number[] } };
  for (let round = 0; round < rounds; round++) {
    for (const fast of round % 2 === 0 ? [false, true] : [true, false]) {
      const { cpuMs, wallMs } = await timeSteps(fast);
      variants[fast ? 'fast' : 'stock'].cpu.push(cpuMs);
      variants[fast ? 'fast' : 'stock'].wall.push(wallMs);
    }
  }
  const rate = (ms: number) => ((1000 * batchSize) / ms).toFixed(0).padStart(6);
  const pytorchMs = (1000 * batchSize) / pytorchRate;
  console.log(`\none training step, recipe CNN (src/experiments/models.ts), batch ${batchSize}, tfjs wasm, one thread (medians of ${rounds} interleaved rounds of ${steps} steps):`);
  for (const [name, label] of [['stock', "tfjs's own kernels"], ['fast', `fast kernels (${FAST_WASM_KERNELS_NAME})`]] as const) {
    const cpuMs = median(variants[name].cpu);
    const wallMs = median(variants[name].wall);
    console.log(`  tfjs wasm, ${label.padEnd(22)} ${rate(cpuMs)} samples per CPU-second (${cpuMs.toFixed(1)} CPU ms/step); wall-clock ${rate(wallMs)} samples/s`);
  }
  console.log(`  PyTorch anchor (this machine, one thread) ${rate(pytorchMs)} samples/s (${pytorchMs.toFixed(1)} ms/step)`);
  const fastMs = median(variants.fast.cpu);
  console.log(`  (CPU time is the figure to compare while other work shares the machine: wall-clock then stretches with the load.)`);
  const restore = useFastWasmKernels();
  const model = stepModel();
  try {
    for (let i = 0; i < 3; i++) await model.trainOnBatch(xs, ys);
    const profile = await profileStepCpu(() => model.trainOnBatch(xs, ys), profileSteps);
    console.log(`\nwhere the fast step's CPU time goes (tf.profile, ${profileSteps} steps, ${profile.stepMs.toFixed(1)} CPU ms/step profiled); the gap to PyTorch is ${(fastMs - pytorchMs).toFixed(1)} ms/step (${(fastMs / pytorchMs).toFixed(2)}x):`);
    for (const line of formatStepProfile(profile)) console.log(line);
    const calls = profile.kernels.reduce((sum, k) => sum + k.calls, 0);
    console.log(`  (profiling itself adds about ${Math.max(0, profile.stepMs - fastMs).toFixed(1)} ms/step over ${calls} kernel calls: the small kernels' figures are mostly that.)`);
  } finally {
    model.dispose();
    restore();
  }
  tf.dispose([xs, ys]);
}
data.dispose();
