/**
 * `model.fit` against `fitWithInfoBatch` on Fashion-MNIST, the same compiled model
 * ({@link exampleCnn}: conv layers, dropout, softmax, 'rmsprop' or SGD with momentum
 * (`--optimizer`), 'categoricalCrossentropy', metrics ['accuracy']) and the same arguments
 * (`epochs`, `batchSize`, `validationSplit`); only the call differs. The third method,
 * `model.fit@matched`, is the same-budget control: `model.fit` for fewer epochs,
 * `round(epochs · (1 − saved))` with `saved` the fraction of sample passes `fitWithInfoBatch`
 * saved on that seed (so it needs that run first). The fourth, `fitWithInfoBatch@full`, is
 * `fitWithInfoBatch` with the full-data policy (every sample, every epoch): it trains like
 * `model.fit` (equal to 1e-5 on the same batches, tested), so its time against `model.fit`'s is the
 * cost of the training loop itself, apart from any pruning. For each seed and method it prints the test
 * accuracy, the training wall-clock seconds and the process CPU seconds of the call; at the end,
 * each method's paired difference to `model.fit` with a Student-t 95% interval over the seeds.
 *
 * Resumable: each finished run is written to `<out>/<method>-seed<seed>.json` (temporary file,
 * fsync, rename), and runs whose file exists are skipped, so an interrupted benchmark continues
 * where it stopped. A summary (means over the seeds) is printed from all the files at the end.
 *
 * Run: `npm run bench:fit -- --epochs 10 --seeds 0,1,2 --out results/fit-vs-fit`
 * SGD control, with the faster wasm kernels: `npm run bench:fit -- --optimizer sgd-momentum --fast-kernels --methods model.fit,fitWithInfoBatch,model.fit@matched --epochs 10 --seeds 0,1,2 --width 0.5 --out results/fit-vs-fit-sgd`
 * Loop cost (no pruning): add `fitWithInfoBatch@full` to `--methods`.
 * Quick check: `npm run bench:fit -- --train-limit 2000 --test-limit 1000 --epochs 1 --seeds 0 --out .cache/fit-bench`
 */
import * as tf from '@tensorflow/tfjs';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { InfoBatch } from '../src/core/info-batch.js';
import { FullDataPolicy } from '../src/policies/full-data.js';
import { loadBenchDataset } from '../src/experiments/datasets.js';
import { datasetTensors } from '../src/experiments/train-run.js';
import { pairedDelta } from '../src/experiments/paired-stats.js';
import { formatInterval, formatSigned } from '../src/experiments/results.js';
import { chooseRescaleMode, fitWithInfoBatch, selectBackend } from '../src/tfjs/index.js';
import { assertRescaleMode } from '../src/core/rescale.js';
import { EXAMPLE_OPTIMIZERS, exampleCnn, type ExampleOptimizer } from './fit-model.js';

const METHODS = ['model.fit', 'fitWithInfoBatch', 'model.fit@matched', 'fitWithInfoBatch@full'] as const;
type Method = (typeof METHODS)[number];

interface RunRecord {
  readonly method: Method;
  readonly seed: number;
  /** The bench's `--epochs` (for `model.fit@matched`, `trainedEpochs` says how many it trained). */
  readonly epochs: number;
  /** Epochs actually trained; absent in records written before `model.fit@matched` existed (= `epochs`). */
  readonly trainedEpochs?: number;
  /** Absent in records written before `--optimizer` existed: those used 'rmsprop'. */
  readonly optimizer?: ExampleOptimizer;
  /** `'fast'` with `--fast-kernels`; absent (tfjs's own kernels) otherwise. */
  readonly wasmKernels?: 'fast';
  readonly batchSize: number;
  readonly validationSplit: number;
  readonly width: number;
  readonly trainSamples: number;
  readonly testSamples: number;
  readonly backend: string;
  readonly testAccuracy: number;
  readonly testLoss: number;
  /** Wall-clock seconds of the `fit` / `fitWithInfoBatch` call. */
  readonly trainSeconds: number;
  /** Process CPU seconds (user + system, all threads) during the call. */
  readonly cpuSeconds: number;
  readonly history: Record<string, number[]>;
  /**
   * `fitWithInfoBatch`'s rescale mode as applied (`history.params.infobatch_rescale_mode`); absent
   * for `model.fit` and in records written before the option existed (those used 'loss').
   */
  readonly rescaleMode?: 'loss' | 'step';
  /** InfoBatch's run summary (fitWithInfoBatch only). */
  readonly infobatch?: { readonly samplesVisited: number; readonly fullDataSamples: number; readonly savedFraction: number };
}

const { values: args } = parseArgs({
  options: {
    epochs: { type: 'string', default: '10' },
    seeds: { type: 'string', default: '0,1,2' },
    'batch-size': { type: 'string', default: '128' },
    'validation-split': { type: 'string', default: '0.15' },
    width: { type: 'string', default: '1' },
    'train-limit': { type: 'string' },
    'test-limit': { type: 'string' },
    'data-dir': { type: 'string', default: join('..', 'shared', 'data', 'fashion-mnist') },
    out: { type: 'string', default: join('results', 'fit-vs-fit') },
    'rescale-mode': { type: 'string', default: 'auto' },
    methods: { type: 'string', default: 'model.fit,fitWithInfoBatch' },
    optimizer: { type: 'string', default: 'rmsprop' },
    'fast-kernels': { type: 'boolean', default: false },
  },
});

function positiveInteger(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`bench:fit: --${name} must be a positive integer but got ${JSON.stringify(text)}.`);
    process.exit(2);
  }
  return value;
}

/** Writes `text` to `path` durably: a temporary file in the same folder, fsync, rename, fsync of the folder. */
async function writeDurably(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.${randomUUID()}.tmp`;
  try {
    const file = await open(temporary, 'wx');
    try {
      await file.writeFile(text);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  const folder = await open(dirname(path), 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}

async function readRecord(path: string): Promise<RunRecord | undefined> {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(await readFile(path, 'utf8')) as RunRecord;
  } catch {
    console.warn(`bench:fit: ${path} is not readable JSON; running it again.`);
    return undefined;
  }
}

const epochs = positiveInteger('epochs', args.epochs);
const batchSize = positiveInteger('batch-size', args['batch-size']);
const seeds = args.seeds.split(',').map((s) => Number(s.trim()));
if (seeds.some((s) => !Number.isInteger(s) || s < 0)) {
  console.error(`bench:fit: --seeds must be a comma-separated list of integers >= 0 but got ${JSON.stringify(args.seeds)}.`);
  process.exit(2);
}
const validationSplit = Number(args['validation-split']);
if (!(validationSplit > 0 && validationSplit < 1)) {
  console.error(`bench:fit: --validation-split must be in (0, 1) but got ${JSON.stringify(args['validation-split'])}.`);
  process.exit(2);
}
const width = Number(args.width);
if (!(width > 0)) {
  console.error(`bench:fit: --width must be a positive number but got ${JSON.stringify(args.width)}.`);
  process.exit(2);
}
const methods = args.methods.split(',').map((m) => m.trim()) as Method[];
if (methods.some((m) => !METHODS.includes(m))) {
  console.error(`bench:fit: --methods must be a comma-separated subset of ${METHODS.join(', ')} but got ${JSON.stringify(args.methods)}.`);
  process.exit(2);
}
const optimizer = args.optimizer as ExampleOptimizer;
if (!EXAMPLE_OPTIMIZERS.includes(optimizer)) {
  console.error(`bench:fit: --optimizer must be one of ${EXAMPLE_OPTIMIZERS.join(', ')} but got ${JSON.stringify(args.optimizer)}.`);
  process.exit(2);
}
const rescaleMode = args['rescale-mode'];
try {
  assertRescaleMode('bench:fit', '--rescale-mode', rescaleMode);
} catch (error) {
  console.error(`bench:fit: ${(error as Error).message}`);
  process.exit(2);
}
const fastKernels = args['fast-kernels'] === true;
const trainLimit = args['train-limit'] === undefined ? undefined : positiveInteger('train-limit', args['train-limit']);
const testLimit = args['test-limit'] === undefined ? undefined : positiveInteger('test-limit', args['test-limit']);
const out = args.out;
const FILE_PREFIX: Record<Method, string> = { 'model.fit': 'model-fit', fitWithInfoBatch: 'fit-with-infobatch', 'model.fit@matched': 'model-fit-matched', 'fitWithInfoBatch@full': 'fit-with-infobatch-full-data' };
const fileOf = (method: Method, seed: number) => join(out, `${FILE_PREFIX[method]}-seed${seed}.json`);

const backend = await selectBackend({ fastWasmKernels: fastKernels });
const dataDir = args['data-dir'];
if (!existsSync(join(dataDir, 'train-images-idx3-ubyte.gz'))) {
  console.error(`bench:fit: no Fashion-MNIST files in ${dataDir} (pass --data-dir).`);
  process.exit(2);
}
const split = await loadBenchDataset('fashion-mnist', { dataDir, ...(trainLimit !== undefined && { trainLimit }), ...(testLimit !== undefined && { testLimit }) });
const data = datasetTensors(split);
const x = data.trainX;
const y = tf.oneHot(data.trainY, 10);
const yTest = tf.oneHot(data.testY, 10);
const numSamples = x.shape[0]!;
const numTrain = Math.floor(numSamples * (1 - validationSplit));
console.log(`bench:fit: ${numSamples} training samples (${numTrain} trained on, the rest validation), ${data.testX.shape[0]} test samples, ${epochs} epochs, batch ${batchSize}, width ${width}, backend ${backend}, results in ${out}`);

for (const seed of seeds) {
  for (const method of methods) {
    const path = fileOf(method, seed);
    const done = await readRecord(path);
    const doneOptimizer = done?.optimizer ?? 'rmsprop';
    const doneKernels = done?.wasmKernels ?? 'tfjs';
    if (done !== undefined && (done.epochs !== epochs || done.batchSize !== batchSize || done.trainSamples !== numSamples || done.width !== width || done.validationSplit !== validationSplit || doneOptimizer !== optimizer || doneKernels !== (fastKernels ? 'fast' : 'tfjs'))) {
      console.error(`bench:fit: ${path} holds a run with other settings (epochs ${done.epochs}, batch ${done.batchSize}, ${done.trainSamples} samples, width ${done.width}, validation split ${done.validationSplit}, optimizer ${doneOptimizer}, ${doneKernels} kernels); use another --out folder.`);
      process.exit(2);
    }
    if (done !== undefined) {
      console.log(`${method} seed ${seed}: done before (${path}), skipped`);
      continue;
    }
    let trainedEpochs = epochs;
    if (method === 'model.fit@matched') {
      const pruned = await readRecord(fileOf('fitWithInfoBatch', seed));
      if (pruned?.infobatch === undefined) {
        console.error(`bench:fit: model.fit@matched seed ${seed} needs the fitWithInfoBatch run of seed ${seed} first (${fileOf('fitWithInfoBatch', seed)}); list fitWithInfoBatch before it in --methods.`);
        process.exit(2);
      }
      trainedEpochs = Math.max(1, Math.round(epochs * (1 - pruned.infobatch.savedFraction)));
    }
    const model = exampleCnn({ seed, width, optimizer });
    const usesInfoBatch = method === 'fitWithInfoBatch' || method === 'fitWithInfoBatch@full';
    if (usesInfoBatch) {
      const mode = chooseRescaleMode('bench:fit', rescaleMode, model.optimizer).mode;
      const other = await Promise.all(seeds.map((sd) => readRecord(fileOf(method, sd))));
      const clash = other.find((r) => r !== undefined && (r.rescaleMode ?? 'loss') !== mode);
      if (clash !== undefined) {
        console.error(`bench:fit: ${fileOf(method, clash.seed)} was trained with rescale mode '${clash.rescaleMode ?? 'loss'}' but this run would use '${mode}'; pass --rescale-mode ${clash.rescaleMode ?? 'loss'} or use another --out folder.`);
        process.exit(2);
      }
    }
    const fitArgs = { epochs: trainedEpochs, batchSize, validationSplit, verbose: 0 } as const;
    const ib = new InfoBatch({ numSamples: numTrain, numEpochs: epochs, seed, ...(method === 'fitWithInfoBatch@full' && { policy: new FullDataPolicy() }) });
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    const history = usesInfoBatch ? await fitWithInfoBatch(model, x, y, { ...fitArgs, infobatch: ib, rescaleMode }) : await model.fit(x, y, fitArgs);
    const trainSeconds = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const [testLoss, testAccuracy] = await Promise.all(
      (model.evaluate(data.testX, yTest, { batchSize: 1000 }) as tf.Scalar[]).map(async (s) => {
        const value = (await s.data())[0]!;
        s.dispose();
        return value;
      }),
    );
    const summary = ib.summary();
    const record: RunRecord = {
      method,
      seed,
      epochs,
      trainedEpochs,
      optimizer,
      ...(fastKernels && { wasmKernels: 'fast' as const }),
      batchSize,
      validationSplit,
      width,
      trainSamples: numSamples,
      testSamples: data.testX.shape[0]!,
      backend,
      testAccuracy: testAccuracy!,
      testLoss: testLoss!,
      trainSeconds,
      cpuSeconds,
      history: history.history as Record<string, number[]>,
      ...(usesInfoBatch && { rescaleMode: history.params['infobatch_rescale_mode'] as 'loss' | 'step' }),
      ...(method === 'fitWithInfoBatch' && { infobatch: { samplesVisited: summary.samplesVisited, fullDataSamples: summary.fullDataSamples, savedFraction: summary.savedFraction } }),
    };
    await writeDurably(path, `${JSON.stringify(record, null, 2)}\n`);
    model.dispose();
    console.log(`${method} seed ${seed}${trainedEpochs !== epochs ? ` (${trainedEpochs} epochs)` : ''}: test accuracy ${testAccuracy!.toFixed(4)}, training ${trainSeconds.toFixed(1)} s, CPU ${cpuSeconds.toFixed(1)} s${record.infobatch ? `, samples visited ${(1 - record.infobatch.savedFraction).toFixed(3)} of full` : ''} -> ${path}`);
  }
}
tf.dispose([y, yTest]);
data.dispose();

const recordsOf = async (method: Method) => (await Promise.all(seeds.map((seed) => readRecord(fileOf(method, seed))))).filter((r): r is RunRecord => r !== undefined);
const accuracyBySeed = (records: readonly RunRecord[]) => new Map(records.map((r) => [r.seed, 100 * r.testAccuracy]));
const reference = accuracyBySeed(await recordsOf('model.fit'));
console.log('\nmethod                  seeds  test accuracy (mean ± sd)  training s (mean)  CPU s (mean)  Δ vs model.fit (points, paired, 95% CI)');
for (const method of methods) {
  const records = await recordsOf(method);
  if (records.length === 0) continue;
  const delta = method === 'model.fit' ? null : pairedDelta(accuracyBySeed(records), reference);
  const deltaText = delta === null ? '' : `  ${formatSigned(delta.mean, 2)} ${formatInterval(delta, 2)}, ${delta.n} seed${delta.n === 1 ? '' : 's'}`;
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const sd = (values: number[]) => (values.length < 2 ? 0 : Math.sqrt(values.reduce((a, v) => a + (v - mean(values)) ** 2, 0) / (values.length - 1)));
  const accuracies = records.map((r) => r.testAccuracy);
  console.log(`${method.padEnd(22)}  ${String(records.length).padStart(5)}  ${mean(accuracies).toFixed(4)} ± ${sd(accuracies).toFixed(4)}${' '.repeat(10)}${mean(records.map((r) => r.trainSeconds)).toFixed(1).padStart(17)}  ${mean(records.map((r) => r.cpuSeconds)).toFixed(1).padStart(12)}${deltaText}`);
}
