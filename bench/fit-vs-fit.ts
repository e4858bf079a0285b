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
 * `--target-saving 0.3` builds fitWithInfoBatch's InfoBatch with that targetSaving (recorded; a folder holds one setting).
 * SGD control, with the faster wasm kernels: `npm run bench:fit -- --optimizer sgd-momentum --fast-kernels --methods model.fit,fitWithInfoBatch,model.fit@matched --epochs 10 --seeds 0,1,2 --width 0.5 --out results/fit-vs-fit-sgd`
 * Loop cost (no pruning): add `fitWithInfoBatch@full` to `--methods`.
 * Quick check: `npm run bench:fit -- --train-limit 2000 --test-limit 1000 --epochs 1 --seeds 0 --out .cache/fit-bench`
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { InfoBatch } from '../src/core/info-batch.js';
import { FullDataPolicy } from '../src/policies/full-data.js';
import { pairedDelta } from '../src/experiments/paired-stats.js';
import { formatInterval, formatSigned } from '../src/experiments/results.js';
import { chooseRescaleMode, fitWithInfoBatch, selectBackend } from '../src/tfjs/index.js';
import { FAST_WASM_KERNELS_NAME } from '../src/tfjs/wasm-kernels.js';
import { assertRescaleMode } from '../src/core/rescale.js';
import { fail, openFraction, positiveInteger as checkedPositiveInteger, positiveNumber, seedList } from './bench-args.js';
import { loadFitData, testMetrics, timed } from './fit-data.js';
import { EXAMPLE_OPTIMIZERS, exampleCnn, type ExampleOptimizer } from './fit-model.js';
import { readRecord as readRunRecord, writeRecord } from './run-files.js';

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
  /** {@link FAST_WASM_KERNELS_NAME} with `--fast-kernels` (`'fast'` in records of the first set); absent (tfjs's own kernels) otherwise. */
  readonly wasmKernels?: string;
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
  /** `--target-saving` of a fitWithInfoBatch run (absent: the fixed default prune ratio). */
  readonly targetSaving?: number;
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
    'target-saving': { type: 'string' },
    methods: { type: 'string', default: 'model.fit,fitWithInfoBatch' },
    optimizer: { type: 'string', default: 'rmsprop' },
    'fast-kernels': { type: 'boolean', default: false },
  },
});

const BENCH = 'bench:fit';
const positiveInteger = (name: string, text: string) => checkedPositiveInteger(BENCH, name, text);
const readRecord = (path: string) => readRunRecord<RunRecord>(BENCH, path);

const epochs = positiveInteger('epochs', args.epochs);
const batchSize = positiveInteger('batch-size', args['batch-size']);
const seeds = seedList(BENCH, args.seeds);
const validationSplit = openFraction(BENCH, 'validation-split', args['validation-split']);
const width = positiveNumber(BENCH, 'width', args.width);
const methods = args.methods.split(',').map((m) => m.trim()) as Method[];
if (methods.some((m) => !METHODS.includes(m))) fail(BENCH, `--methods must be a comma-separated subset of ${METHODS.join(', ')} but got ${JSON.stringify(args.methods)}.`);
const optimizer = args.optimizer as ExampleOptimizer;
if (!EXAMPLE_OPTIMIZERS.includes(optimizer)) fail(BENCH, `--optimizer must be one of ${EXAMPLE_OPTIMIZERS.join(', ')} but got ${JSON.stringify(args.optimizer)}.`);
const rescaleMode = args['rescale-mode'];
try {
  assertRescaleMode('bench:fit', '--rescale-mode', rescaleMode);
} catch (error) {
  fail(BENCH, (error as Error).message);
}
const fastKernels = args['fast-kernels'] === true;
const targetSaving = args['target-saving'] === undefined ? undefined : openFraction(BENCH, 'target-saving', args['target-saving']);
const trainLimit = args['train-limit'] === undefined ? undefined : positiveInteger('train-limit', args['train-limit']);
const testLimit = args['test-limit'] === undefined ? undefined : positiveInteger('test-limit', args['test-limit']);
const out = args.out;
const FILE_PREFIX: Record<Method, string> = { 'model.fit': 'model-fit', fitWithInfoBatch: 'fit-with-infobatch', 'model.fit@matched': 'model-fit-matched', 'fitWithInfoBatch@full': 'fit-with-infobatch-full-data' };
const fileOf = (method: Method, seed: number) => join(out, `${FILE_PREFIX[method]}-seed${seed}.json`);

const backend = await selectBackend({ fastWasmKernels: fastKernels });
const kernels = fastKernels ? FAST_WASM_KERNELS_NAME : 'tfjs';
const data = await loadFitData(BENCH, args['data-dir'], { trainLimit, testLimit });
const { x, y } = data;
const numSamples = x.shape[0]!;
const numTrain = Math.floor(numSamples * (1 - validationSplit));
console.log(`bench:fit: ${numSamples} training samples (${numTrain} trained on, the rest validation), ${data.testX.shape[0]} test samples, ${epochs} epochs, batch ${batchSize}, width ${width}, backend ${backend}, results in ${out}`);

for (const seed of seeds) {
  for (const method of methods) {
    const path = fileOf(method, seed);
    const done = await readRecord(path);
    const doneOptimizer = done?.optimizer ?? 'rmsprop';
    const doneKernels = done?.wasmKernels ?? 'tfjs';
    if (done !== undefined && (done.epochs !== epochs || done.batchSize !== batchSize || done.trainSamples !== numSamples || done.width !== width || done.validationSplit !== validationSplit || doneOptimizer !== optimizer || doneKernels !== kernels)) {
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
      const otherTarget = other.find((r) => r !== undefined && r.targetSaving !== targetSaving);
      if (otherTarget !== undefined) {
        console.error(`bench:fit: ${fileOf(method, otherTarget.seed)} was trained with targetSaving ${otherTarget.targetSaving ?? 'unset'} but this run asks for ${targetSaving ?? 'none'}; use another --out folder.`);
        process.exit(2);
      }
      const clash = other.find((r) => r !== undefined && (r.rescaleMode ?? 'loss') !== mode);
      if (clash !== undefined) {
        console.error(`bench:fit: ${fileOf(method, clash.seed)} was trained with rescale mode '${clash.rescaleMode ?? 'loss'}' but this run would use '${mode}'; pass --rescale-mode ${clash.rescaleMode ?? 'loss'} or use another --out folder.`);
        process.exit(2);
      }
    }
    const fitArgs = { epochs: trainedEpochs, batchSize, validationSplit, verbose: 0 } as const;
    const ib = new InfoBatch({ numSamples: numTrain, numEpochs: epochs, seed, ...(method === 'fitWithInfoBatch@full' ? { policy: new FullDataPolicy() } : targetSaving !== undefined && { targetSaving }) });
    const { result: history, trainSeconds, cpuSeconds } = await timed(() => (usesInfoBatch ? fitWithInfoBatch(model, x, y, { ...fitArgs, infobatch: ib, rescaleMode }) : model.fit(x, y, fitArgs)));
    const { testLoss, testAccuracy } = await testMetrics(model, data);
    const summary = ib.summary();
    const record: RunRecord = {
      method,
      seed,
      epochs,
      trainedEpochs,
      optimizer,
      ...(fastKernels && { wasmKernels: FAST_WASM_KERNELS_NAME }),
      batchSize,
      validationSplit,
      width,
      trainSamples: numSamples,
      testSamples: data.testX.shape[0]!,
      backend,
      testAccuracy,
      testLoss,
      trainSeconds,
      cpuSeconds,
      history: history.history as Record<string, number[]>,
      ...(usesInfoBatch && { rescaleMode: history.params['infobatch_rescale_mode'] as 'loss' | 'step' }),
      ...(method === 'fitWithInfoBatch' && targetSaving !== undefined && { targetSaving }),
      ...(method === 'fitWithInfoBatch' && { infobatch: { samplesVisited: summary.samplesVisited, fullDataSamples: summary.fullDataSamples, savedFraction: summary.savedFraction } }),
    };
    await writeRecord(path, record);
    model.dispose();
    console.log(`${method} seed ${seed}${trainedEpochs !== epochs ? ` (${trainedEpochs} epochs)` : ''}: test accuracy ${testAccuracy.toFixed(4)}, training ${trainSeconds.toFixed(1)} s, CPU ${cpuSeconds.toFixed(1)} s${record.infobatch ? `, samples visited ${(1 - record.infobatch.savedFraction).toFixed(3)} of full` : ''} -> ${path}`);
  }
}
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
