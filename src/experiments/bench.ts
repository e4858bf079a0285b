import { readFile, rmdir } from 'node:fs/promises';
import { cpus, platform } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { annealingStartEpoch } from '../core/annealing.js';
import { canonicalJson } from '../core/canonical-json.js';
import { InfoBatchError } from '../core/errors.js';
import type { PolicyConfig } from '../core/policy.js';
import { ensureDirectory, writeAtomically } from '../data/node/atomic-write.js';
import type { ModelKind } from './models.js';
import { sizeForSaving, type PolicySpec, type RunVariant } from './policy-spec.js';
import type { BenchResults, EpochRecord, RunImage, RunResult } from './results.js';
import { renderHtmlReport } from './report-html.js';
import { renderMarkdownReport } from './report-markdown.js';
import { parseResults, serializeResults } from './results-file.js';
import { datasetTensors, runTraining, warmUp, type ClassificationOptimizer } from './train-run.js';
import { loadBenchDataset } from './datasets.js';
import { getTask } from './tasks/registry.js';
import { assertTaskScoring, runTaskTraining, warmUpTask } from './tasks/run-task.js';
import type { Task, TaskArtifact, TaskName } from './tasks/task.js';
import { FAST_WASM_KERNELS_NAME, fastWasmKernelsActive } from '../tfjs/wasm-kernels.js';

/** Everything a bench invocation is configured with. */
export interface BenchOptions {
  readonly name: string;
  /**
   * What to train: 'classification' (the default: `dataset` with `model`, SGD with momentum), or a
   * task family (`mae`, `diffusion`, `lm`, `segmentation`), which brings its own data, model, loss
   * and metric and trains with Adam; `dataset`, `model`, `optimizer`, `momentum` and `weightDecay`
   * are then unused.
   */
  readonly task?: 'classification' | TaskName;
  /** The exact command line, written into the results and reports. */
  readonly command: string;
  readonly dataset: string;
  readonly dataDir?: string;
  readonly download?: boolean;
  readonly model: ModelKind;
  readonly epochs: number;
  readonly batchSize: number;
  readonly seeds: readonly number[];
  readonly policies: readonly PolicySpec[];
  readonly learningRate: number;
  /**
   * Classification's optimizer; recorded in `config.optimizer` only when it is `'adam'`, so
   * benches started before this option existed resume unchanged.
   * @defaultValue 'sgd-momentum'
   */
  readonly optimizer?: ClassificationOptimizer;
  readonly momentum: number;
  readonly weightDecay: number;
  readonly trainLimit?: number;
  readonly testLimit?: number;
  /**
   * With a task: the folder holding the datasets' folders (`fashion-mnist/`, `mnist/`,
   * `tiny-shakespeare/`, `stanford-alpaca-seed-tasks/`); default `../shared/data`.
   */
  readonly dataRoot?: string;
  /** Output folder for results.json, report.md and report.html. */
  readonly out: string;
  /** Backend name, recorded in the results. */
  readonly backend: string;
  /** Progress messages. */
  readonly log?: (message: string) => void;
  /** Called after each epoch of each run. */
  readonly onEpoch?: (run: { label: string; seed: number }, record: EpochRecord) => void;
  /**
   * Called before each run trains, with its epochs and what is left: the runs still to train
   * (this one included) and their epochs (matched runs count the full recipe's epochs until they
   * are sized). For progress bars and ETAs.
   */
  readonly onRunStart?: (run: { label: string; seed: number }, epochs: number, remaining: { runs: number; epochs: number }) => void;
}

const RESULTS_FILE = 'results.json';

/** The task of the options, or undefined for classification. */
/** The CPU's model name, e.g. 'Intel(R) Xeon(R) Processor' (timings are comparable only on one model). */
function cpuModel(): string {
  return cpus()[0]?.model.trim() || 'unknown';
}

function taskOf(options: BenchOptions): Task | undefined {
  return options.task === undefined || options.task === 'classification' ? undefined : getTask(options.task);
}

/** The part of the options that must match for a bench to be resumed. */
/**
 * `{ wasmKernels }` when training runs on wasm with `useFastWasmKernels` in place, so that a bench
 * never mixes runs of two kernel sets (resuming compares configs); empty otherwise.
 */
function wasmKernelsOf(options: BenchOptions): { wasmKernels?: string } {
  return options.backend === 'wasm' && fastWasmKernelsActive() ? { wasmKernels: FAST_WASM_KERNELS_NAME } : {};
}

function configOf(options: BenchOptions): BenchResults['config'] {
  const task = taskOf(options);
  if (task !== undefined) {
    return {
      task: task.name,
      dataset: task.dataset,
      model: task.model,
      epochs: options.epochs,
      batchSize: options.batchSize,
      seeds: [...options.seeds],
      learningRate: options.learningRate,
      optimizer: 'adam',
      trainLimit: options.trainLimit ?? null,
      testLimit: options.testLimit ?? null,
      metric: { ...task.metric },
      recipe: { ...task.recipe },
      ...wasmKernelsOf(options),
    };
  }
  return {
    dataset: options.dataset,
    model: options.model,
    epochs: options.epochs,
    batchSize: options.batchSize,
    seeds: [...options.seeds],
    learningRate: options.learningRate,
    ...(options.optimizer === 'adam' && { optimizer: 'adam' }),
    momentum: options.momentum,
    weightDecay: options.weightDecay,
    trainLimit: options.trainLimit ?? null,
    testLimit: options.testLimit ?? null,
    ...wasmKernelsOf(options),
  };
}

async function readExisting(path: string, config: BenchResults['config']): Promise<RunResult[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    if ((cause as { code?: unknown }).code === 'ENOENT') return [];
    throw cause;
  }
  const previous = parseResults(text, path);
  if (canonicalJson(previous.config) !== canonicalJson(config)) {
    throw new InfoBatchError('INVALID_OPTION', `${path} holds a bench with another configuration (${canonicalJson(previous.config)}); use another --out folder, or the same options to resume it.`);
  }
  return previous.runs;
}

/** One training run of a bench, with its result and the files it produced. */
interface TrainedRun {
  readonly run: RunResult;
  readonly artifacts: readonly TaskArtifact[];
}

/** What the bench loop needs of a task family: its data, a warm-up, and a training run. */
interface BenchTrainer {
  readonly numTrain: number;
  warmUp(): Promise<void>;
  train(run: { label: string; policy: PolicyConfig; variant?: RunVariant; seed: number; epochs: number; histogramEpochs: readonly number[]; onEpoch: (record: EpochRecord) => void }): Promise<TrainedRun>;
  /** How a final metric value reads in progress logs. */
  describe(run: RunResult): string;
  dispose(): void;
}

async function classificationTrainer(options: BenchOptions): Promise<BenchTrainer> {
  const split = await loadBenchDataset(options.dataset, {
    ...(options.dataDir !== undefined && { dataDir: options.dataDir }),
    ...(options.download !== undefined && { download: options.download }),
    ...(options.trainLimit !== undefined && { trainLimit: options.trainLimit }),
    ...(options.testLimit !== undefined && { testLimit: options.testLimit }),
  });
  const data = datasetTensors(split);
  return {
    numTrain: split.train.numSamples,
    warmUp: () => warmUp(data, { model: options.model, batchSize: options.batchSize, ...(options.optimizer !== undefined && { optimizer: options.optimizer }) }),
    train: async ({ label, policy, variant, seed, epochs, histogramEpochs, onEpoch }) => ({
      run: await runTraining(data, {
        label,
        policy,
        ...(variant !== undefined && { variant }),
        seed,
        model: options.model,
        epochs,
        batchSize: options.batchSize,
        learningRate: options.learningRate,
        ...(options.optimizer !== undefined && { optimizer: options.optimizer }),
        momentum: options.momentum,
        weightDecay: options.weightDecay,
        histogramEpochs,
        onEpoch,
      }),
      artifacts: [],
    }),
    describe: (run) => `test accuracy ${(run.final.testAccuracy * 100).toFixed(2)}%`,
    dispose: () => data.dispose(),
  };
}

async function taskTrainer(task: Task, options: BenchOptions): Promise<BenchTrainer> {
  const data = await task.load({
    ...(options.dataRoot !== undefined && { dataDir: options.dataRoot }),
    ...(options.trainLimit !== undefined && { trainLimit: options.trainLimit }),
    ...(options.testLimit !== undefined && { testLimit: options.testLimit }),
  });
  const log = options.log ?? (() => {});
  log(`task ${task.name}: ${task.title}; ${data.numTrain} training and ${data.numTest} held-out samples`);
  return {
    numTrain: data.numTrain,
    // The first seed's model: a task that pretrains (lm) then caches it for that seed's runs.
    warmUp: () => warmUpTask(task, data, { batchSize: options.batchSize, learningRate: options.learningRate, seed: options.seeds[0] ?? 0 }),
    train: async ({ label, policy, variant, seed, epochs, histogramEpochs, onEpoch }) => {
      const outcome = await runTaskTraining(task, data, { label, policy, ...(variant !== undefined && { variant }), seed, epochs, batchSize: options.batchSize, learningRate: options.learningRate, histogramEpochs, onEpoch, artifacts: true });
      if (outcome.setupSeconds > 1) log(`${label} seed ${seed}: ${outcome.setupSeconds.toFixed(1)} s of model preparation (pretraining), not counted in train s`);
      return { run: outcome.result, artifacts: outcome.artifacts };
    },
    describe: (run) => {
      const value = run.final.testAccuracy;
      return `${task.metric.name} ${task.metric.percent === true ? `${(value * 100).toFixed(2)}%` : value.toPrecision(4)}`;
    },
    dispose: () => data.dispose(),
  };
}

/** A label as a file-name part: letters, digits, '.', '_' and '-' only. */
function fileSafe(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, '_');
}

/** Writes a run's files into the results folder; PNGs are also embedded in the run for the HTML report. */
async function keepArtifacts(out: string, run: RunResult, artifacts: readonly TaskArtifact[]): Promise<void> {
  const images: RunImage[] = [];
  for (const artifact of artifacts) {
    const file = `${fileSafe(run.label)}-seed${run.seed}-${fileSafe(artifact.file)}`;
    await writeAtomically(join(out, file), artifact.bytes);
    if (file.endsWith('.png')) images.push({ file, caption: artifact.caption, pngBase64: Buffer.from(artifact.bytes).toString('base64') });
  }
  if (images.length > 0) run.images = images;
}

/**
 * Runs every (policy, seed) pair in one process, each from the same initial weights per seed, on
 * a classification recipe or on a task family (`options.task`, see ./tasks/),
 * writing results.json after every run so an interrupted bench resumes where it stopped, and
 * report.md / report.html at the end. Runs go seed by seed; matched runs (`random@matched`, `full@matched`) are run
 * after the InfoBatch run of their seed and sized from its measured saving.
 */
export async function runBench(options: BenchOptions): Promise<BenchResults> {
  const created = await ensureDirectory(options.out, "'out'");
  try {
    return await benchInFolder(options);
  } catch (error) {
    // A bench that failed before writing anything leaves no empty folder behind.
    if (created !== undefined) await removeEmptyFolders(options.out, created);
    throw error;
  }
}

/** Removes `dir` and its parents up to `top` (inclusive) while they are empty; stops at the first that is not. */
async function removeEmptyFolders(dir: string, top: string): Promise<void> {
  let current = resolve(dir);
  const last = resolve(top);
  for (;;) {
    try {
      await rmdir(current);
    } catch {
      return;
    }
    if (current === last || dirname(current) === current) return;
    current = dirname(current);
  }
}

async function benchInFolder(options: BenchOptions): Promise<BenchResults> {
  const log = options.log ?? (() => {});
  const resultsPath = join(options.out, RESULTS_FILE);
  const config = configOf(options);
  const runs = await readExisting(resultsPath, config);
  if (runs.length > 0) log(`resuming: ${runs.length} run(s) already in ${resultsPath}`);
  const specRank = (label: string) => options.policies.findIndex((p) => p.label === label);
  const results = (): BenchResults => ({
    schemaVersion: 1,
    name: options.name,
    command: options.command,
    createdAt: new Date().toISOString(),
    environment: { node: process.version, backend: options.backend, cpus: cpus().length, platform: `${platform()} ${process.arch}`, cpuModel: cpuModel() },
    config,
    // In the order of --policies, then seed, whatever order they were run or resumed in.
    runs: [...runs].sort((a, b) => specRank(a.label) - specRank(b.label) || a.seed - b.seed),
  });

  // A fixed saving that cannot be reached fails here, before any training.
  for (const spec of options.policies) if (spec.matched !== undefined && spec.saving !== undefined) sizeForSaving(spec.matched, options.epochs, spec.saving);
  const task = taskOf(options);
  // A scoring the recipe does not offer fails here, before any data is loaded.
  for (const spec of options.policies) {
    const score = spec.variant?.score;
    if (score === undefined || score === 'loss') continue;
    if (task === undefined) {
      throw new InfoBatchError('INVALID_OPTION', `${spec.label} in '--policies' asks for score=${score}, but classification records the loss as the score; score=${score} is for task families that draw noise per visit (--task diffusion, --task mae).`);
    }
    try {
      assertTaskScoring(task, score);
    } catch (cause) {
      throw new InfoBatchError('INVALID_OPTION', `${spec.label} in '--policies': ${(cause as Error).message}`, { cause });
    }
  }
  const trainer = task === undefined ? await classificationTrainer(options) : await taskTrainer(task, options);
  const { epochs } = options;
  const histogramEpochs = [1, Math.floor(epochs / 2), Math.max(1, annealingStartEpoch(epochs, 0.875) - 1)];
  // Seed by seed, every policy of a seed in turn, so that drift in the machine's speed hits all
  // policies alike; within a seed, matched runs come after the runs they are matched to.
  const afterInfoBatch = (p: PolicySpec): boolean => p.matched !== undefined && p.saving === undefined;
  const ordered = [...options.policies.filter((p) => !afterInfoBatch(p)), ...options.policies.filter(afterInfoBatch)];
  try {
    await trainer.warmUp();
    for (const seed of options.seeds) {
      for (const spec of ordered) {
        if (runs.some((r) => r.label === spec.label && r.seed === seed)) continue;
        let policy = spec.config;
        let runEpochs = epochs;
        if (spec.matched !== undefined && spec.saving !== undefined) {
          ({ policy, epochs: runEpochs } = sizeForSaving(spec.matched, epochs, spec.saving));
          log(`${spec.label} seed ${seed}: sized to save ${(spec.saving * 100).toFixed(1)}% -> ${spec.matched === 'saving' ? `pruneRatio ${(policy['pruneRatio'] as number).toFixed(3)}` : `${runEpochs} epochs`}`);
        } else if (spec.matched !== undefined) {
          // Matched to the InfoBatch run of the same seed: a paired budget, whatever order runs finish in.
          const reference = runs.find((r) => r.label === 'infobatch' && r.seed === seed);
          if (reference === undefined) throw new InfoBatchError('INVALID_STATE', `${spec.label} seed ${seed} needs the infobatch run of seed ${seed}, which is missing; add infobatch to --policies.`);
          const saving = reference.final.savedFraction;
          if (spec.matched === 'saving') {
            // Dynamic random prunes r of all samples in epochs before floor(0.875 E): saving = r·start/E.
            const start = annealingStartEpoch(epochs, 0.875);
            policy = { name: 'dynamic-random', pruneRatio: Math.min(0.95, (saving * epochs) / start), delta: 0.875 };
          } else {
            runEpochs = Math.max(1, Math.round(epochs * (1 - saving)));
          }
          log(`${spec.label} seed ${seed}: matched to infobatch's saving ${(saving * 100).toFixed(1)}% -> ${spec.matched === 'saving' ? `pruneRatio ${(policy['pruneRatio'] as number).toFixed(3)}` : `${runEpochs} epochs`}`);
        }
        log(`run ${spec.label} seed ${seed}: ${runEpochs} epochs`);
        if (options.onRunStart !== undefined) {
          const pending = ordered.flatMap((p) => options.seeds.filter((sd) => !runs.some((r) => r.label === p.label && r.seed === sd)).map((sd) => ({ p, sd })));
          const remainingEpochs = pending.reduce((sum, { p, sd }) => sum + (p === spec && sd === seed ? runEpochs : epochs), 0);
          options.onRunStart({ label: spec.label, seed }, runEpochs, { runs: pending.length, epochs: remainingEpochs });
        }
        const { run, artifacts } = await trainer.train({
          label: spec.label,
          policy,
          ...(spec.variant !== undefined && { variant: spec.variant }),
          seed,
          epochs: runEpochs,
          histogramEpochs: seed === options.seeds[0] ? histogramEpochs : [],
          onEpoch: (record) => options.onEpoch?.({ label: spec.label, seed }, record),
        });
        if (artifacts.length > 0) await keepArtifacts(options.out, run, artifacts);
        if (runEpochs !== epochs) {
          // Matched budget: count savings against the full recipe's sample passes.
          const fullDataSamples = trainer.numTrain * epochs;
          run.final.fullDataSamples = fullDataSamples;
          run.final.savedFraction = 1 - run.final.samplesForwarded / fullDataSamples;
        }
        run.machine = { cpuModel: cpuModel(), cores: cpus().length, finishedAt: new Date().toISOString() };
        runs.push(run);
        await writeAtomically(resultsPath, serializeResults(results()));
        log(`done ${spec.label} seed ${seed}: ${trainer.describe(run)}, saved ${(run.final.savedFraction * 100).toFixed(1)}% of sample passes, ${run.final.trainSeconds.toFixed(1)} s + ${run.final.pruneSeconds.toFixed(2)} s pruning, ${(run.final.trainCpuSeconds ?? Number.NaN).toFixed(1)} CPU s`);
      }
    }
  } finally {
    trainer.dispose();
  }
  const final = results();
  await writeAtomically(resultsPath, serializeResults(final));
  await writeAtomically(join(options.out, 'report.md'), renderMarkdownReport(final));
  await writeAtomically(join(options.out, 'report.html'), renderHtmlReport(final));
  return final;
}
