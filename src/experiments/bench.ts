import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { cpus, platform } from 'node:os';
import { join } from 'node:path';
import { annealingStartEpoch } from '../core/annealing.js';
import { canonicalJson } from '../core/canonical-json.js';
import { InfoBatchError } from '../core/errors.js';
import type { ModelKind } from './models.js';
import type { PolicySpec } from './policy-spec.js';
import type { BenchResults, EpochRecord, RunResult } from './results.js';
import { renderHtmlReport } from './report-html.js';
import { renderMarkdownReport } from './report-markdown.js';
import { datasetTensors, runTraining, warmUp } from './train-run.js';
import { loadBenchDataset } from './datasets.js';

/** Everything a bench invocation is configured with. */
export interface BenchOptions {
  readonly name: string;
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
  readonly momentum: number;
  readonly weightDecay: number;
  readonly trainLimit?: number;
  readonly testLimit?: number;
  /** Output folder for results.json, report.md and report.html. */
  readonly out: string;
  /** Backend name, recorded in the results. */
  readonly backend: string;
  /** Progress messages. */
  readonly log?: (message: string) => void;
  /** Called after each epoch of each run. */
  readonly onEpoch?: (run: { label: string; seed: number }, record: EpochRecord) => void;
}

const RESULTS_FILE = 'results.json';

/** The part of the options that must match for a bench to be resumed. */
function configOf(options: BenchOptions): BenchResults['config'] {
  return {
    dataset: options.dataset,
    model: options.model,
    epochs: options.epochs,
    batchSize: options.batchSize,
    seeds: [...options.seeds],
    learningRate: options.learningRate,
    momentum: options.momentum,
    weightDecay: options.weightDecay,
    trainLimit: options.trainLimit ?? null,
    testLimit: options.testLimit ?? null,
  };
}

async function readExisting(path: string, config: BenchResults['config']): Promise<RunResult[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return [];
  }
  let previous: BenchResults;
  try {
    previous = JSON.parse(text) as BenchResults;
  } catch (cause) {
    throw new InfoBatchError('INVALID_DATA', `${path} is not valid JSON; move it away to start a fresh bench in this folder.`, { cause });
  }
  if (canonicalJson(previous.config) !== canonicalJson(config)) {
    throw new InfoBatchError('INVALID_OPTION', `${path} holds a bench with another configuration (${canonicalJson(previous.config)}); use another --out folder, or the same options to resume it.`);
  }
  return previous.runs;
}

/** Writes a file atomically (temporary file, then rename). */
async function writeAtomic(path: string, text: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, path);
}

function mean(values: number[]): number {
  return values.reduce((s, v) => s + v, 0) / values.length;
}

/**
 * Runs every (policy, seed) pair in one process, each from the same initial weights per seed,
 * writing results.json after every run so an interrupted bench resumes where it stopped, and
 * report.md / report.html at the end. Matched runs (`random@matched`, `full@matched`) are run
 * after the InfoBatch runs and sized from their mean measured saving.
 */
export async function runBench(options: BenchOptions): Promise<BenchResults> {
  const log = options.log ?? (() => {});
  await mkdir(options.out, { recursive: true });
  const resultsPath = join(options.out, RESULTS_FILE);
  const config = configOf(options);
  const runs = await readExisting(resultsPath, config);
  if (runs.length > 0) log(`resuming: ${runs.length} run(s) already in ${resultsPath}`);
  const results = (): BenchResults => ({
    schemaVersion: 1,
    name: options.name,
    command: options.command,
    createdAt: new Date().toISOString(),
    environment: { node: process.version, backend: options.backend, cpus: cpus().length, platform: `${platform()} ${process.arch}` },
    config,
    runs: [...runs],
  });

  const split = await loadBenchDataset(options.dataset, {
    ...(options.dataDir !== undefined && { dataDir: options.dataDir }),
    ...(options.download !== undefined && { download: options.download }),
    ...(options.trainLimit !== undefined && { trainLimit: options.trainLimit }),
    ...(options.testLimit !== undefined && { testLimit: options.testLimit }),
  });
  const data = datasetTensors(split);
  const { epochs } = options;
  const histogramEpochs = [1, Math.floor(epochs / 2), Math.max(1, annealingStartEpoch(epochs, 0.875) - 1)];
  const ordered = [...options.policies.filter((p) => !p.matched), ...options.policies.filter((p) => p.matched)];
  try {
    await warmUp(data, { model: options.model, batchSize: options.batchSize });
    for (const spec of ordered) {
      for (const seed of options.seeds) {
        if (runs.some((r) => r.label === spec.label && r.seed === seed)) continue;
        let policy = spec.config;
        let runEpochs = epochs;
        if (spec.matched !== undefined) {
          const reference = runs.filter((r) => r.label === 'infobatch');
          const saving = mean(reference.map((r) => r.final.savedFraction));
          if (spec.matched === 'saving') {
            // Dynamic random prunes r of all samples in epochs before floor(0.875 E): saving = r·start/E.
            const start = annealingStartEpoch(epochs, 0.875);
            policy = { name: 'dynamic-random', pruneRatio: Math.min(0.95, (saving * epochs) / start), delta: 0.875 };
          } else {
            runEpochs = Math.max(1, Math.round(epochs * (1 - saving)));
          }
          log(`${spec.label}: matched to infobatch's mean saving ${(saving * 100).toFixed(1)}% -> ${spec.matched === 'saving' ? `pruneRatio ${(policy['pruneRatio'] as number).toFixed(3)}` : `${runEpochs} epochs`}`);
        }
        log(`run ${spec.label} seed ${seed}: ${runEpochs} epochs`);
        const run = await runTraining(data, {
          label: spec.label,
          policy,
          seed,
          model: options.model,
          epochs: runEpochs,
          batchSize: options.batchSize,
          learningRate: options.learningRate,
          momentum: options.momentum,
          weightDecay: options.weightDecay,
          histogramEpochs: seed === options.seeds[0] ? histogramEpochs : [],
          onEpoch: (record) => options.onEpoch?.({ label: spec.label, seed }, record),
        });
        if (runEpochs !== epochs) {
          // Matched budget: count savings against the full recipe's sample passes.
          const fullDataSamples = split.train.numSamples * epochs;
          run.final.fullDataSamples = fullDataSamples;
          run.final.savedFraction = 1 - run.final.samplesForwarded / fullDataSamples;
        }
        runs.push(run);
        await writeAtomic(resultsPath, JSON.stringify(results(), null, 1));
        log(`done ${spec.label} seed ${seed}: test accuracy ${(run.final.testAccuracy * 100).toFixed(2)}%, saved ${(run.final.savedFraction * 100).toFixed(1)}% of sample passes, ${run.final.trainSeconds.toFixed(1)} s + ${run.final.pruneSeconds.toFixed(2)} s pruning`);
      }
    }
  } finally {
    data.dispose();
  }
  const final = results();
  await writeAtomic(resultsPath, JSON.stringify(final, null, 1));
  await writeAtomic(join(options.out, 'report.md'), renderMarkdownReport(final));
  await writeAtomic(join(options.out, 'report.html'), renderHtmlReport(final));
  return final;
}
