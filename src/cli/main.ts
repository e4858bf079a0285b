#!/usr/bin/env node
import { Command } from 'commander';
import { dirname, join, resolve } from 'node:path';
import { InfoBatchError } from '../core/errors.js';
import { ensureDirectory, writeAtomically } from '../data/node/atomic-write.js';
import { CLASSIFICATION_OPTIMIZERS, type ClassificationOptimizer } from '../experiments/classification-optimizers.js';
import type { ModelKind } from '../experiments/models.js';
import { mergeResults } from '../experiments/merge-results.js';
import { parsePolicySpecs, type PolicySpec } from '../experiments/policy-spec.js';
import { renderHtmlReport } from '../experiments/report-html.js';
import { renderMarkdownReport } from '../experiments/report-markdown.js';
import { readResultsFile, serializeResults } from '../experiments/results-file.js';
import { TASK_NAMES, type Task, type TaskName } from '../experiments/tasks/task.js';
import { outFolder, seedList, strictNumber, usageError, USAGE_EXIT_CODE } from './args.js';
import { requireDataDir } from './data-dir.js';
import { exitWithError } from './exit.js';
import { missingCliPeers, missingPeersMessage, VERSION } from './package-info.js';
import { createBenchProgress, createProgress } from './progress.js';

// The commands that train load TensorFlow.js when they run (loadTraining below), so that
// `--help`, `--version` and `report` work without it installed.

/**
 * The modules of the commands that train, or undefined when TensorFlow.js is not installed: then
 * the message with the install line is printed and the exit code set to 2.
 */
async function loadTraining(command: string) {
  const missing = missingCliPeers();
  if (missing.length > 0) {
    process.stderr.write(missingPeersMessage(missing, command));
    process.exitCode = USAGE_EXIT_CODE;
    return undefined;
  }
  const [bench, demo, demoTable, tasks, backend] = await Promise.all([
    import('../experiments/bench.js'),
    import('../experiments/demo.js'),
    import('../experiments/demo-table.js'),
    import('../experiments/tasks/registry.js'),
    import('../tfjs/backend.js'),
  ]);
  return { runBench: bench.runBench, runDemo: demo.runDemo, formatDemoReport: demo.formatDemoReport, DEMO_RUN_TITLES: demoTable.DEMO_RUN_TITLES, getTask: tasks.getTask, selectBackend: backend.selectBackend };
}

/** Epochs of each demo run by default. */
const DEMO_EPOCHS = 10;

function positiveInteger(value: string): number {
  const n = strictNumber(value);
  if (!Number.isInteger(n) || n < 1) throw usageError(`expected a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

function positiveNumber(value: string): number {
  const n = strictNumber(value);
  if (!Number.isFinite(n) || n <= 0) throw usageError(`expected a positive number, got ${JSON.stringify(value)}`);
  return n;
}

function nonNegativeNumber(value: string): number {
  const n = strictNumber(value);
  if (!Number.isFinite(n) || n < 0) throw usageError(`expected a number >= 0, got ${JSON.stringify(value)}`);
  return n;
}

function taskName(value: string): 'classification' | TaskName {
  if (value !== 'classification' && !(TASK_NAMES as readonly string[]).includes(value)) {
    throw usageError(`expected classification, ${TASK_NAMES.join(', ')}; got ${JSON.stringify(value)}`);
  }
  return value as 'classification' | TaskName;
}

function optimizerName(value: string): ClassificationOptimizer {
  if (!(CLASSIFICATION_OPTIMIZERS as readonly string[]).includes(value)) throw usageError(`expected ${CLASSIFICATION_OPTIMIZERS.join(' or ')}, got ${JSON.stringify(value)}`);
  return value as ClassificationOptimizer;
}

function modelKind(value: string): ModelKind {
  if (value !== 'cnn' && value !== 'mlp') throw usageError(`expected cnn or mlp, got ${JSON.stringify(value)}`);
  return value;
}

/** `--policies`: every entry parsed and its policy built now, so a bad one fails before training. */
function policyList(value: string): PolicySpec[] {
  try {
    return parsePolicySpecs(value);
  } catch (error) {
    if (error instanceof InfoBatchError) throw usageError(error.message);
    throw error;
  }
}

function commandLine(): string {
  const args = process.argv.slice(2).map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`));
  return ['npx infobatch', ...args].join(' ');
}

const program = new Command();
program
  .name('infobatch')
  .description('InfoBatch (ICLR 2024): lossless training speed-up by unbiased dynamic data pruning')
  .version(VERSION)
  // Usage errors throw (exit code 2, see ./exit.ts) instead of exiting inside commander.
  .exitOverride()
  .showHelpAfterError('(run with --help for usage)')
  .addHelpText('after', () => {
    const missing = missingCliPeers();
    return `\nThe commands that train (demo, bench) need TensorFlow.js${missing.length === 0 ? ' (installed)' : `, not installed here:\n  npm install ${missing.map((spec) => `"${spec}"`).join(' ')}`}.\nDocumentation: https://github.com/infobatch-ts/infobatch#readme`;
  })
  .option('--backend <name>', 'tfjs backend: tensorflow, wasm or cpu (default: fastest available)')
  .option('--fast-kernels', 'on wasm, replace its slow matMul-with-transpose, stride-1 conv input-gradient, max-pool gradient and bias-sum kernels with faster ones (results differ from stock tfjs by float rounding, and max pooling breaks ties as the cpu backend does; benches record it)');

async function backend(selectBackend: NonNullable<Awaited<ReturnType<typeof loadTraining>>>['selectBackend']): Promise<string> {
  const { backend: name, fastKernels } = program.opts<{ backend?: string; fastKernels?: boolean }>();
  return selectBackend({ ...(name !== undefined && { prefer: [name as 'wasm'] }), fastWasmKernels: fastKernels === true });
}

program
  .command('demo')
  .description('train one small model three times (full data, InfoBatch, full data for fewer epochs at the same budget) and compare')
  .option('--dataset <name>', 'fashion-mnist-small (embedded: 5,000 train / 2,000 test images, 14x14), synthetic, fashion-mnist, mnist or digits', 'fashion-mnist-small')
  .option('--data-dir <dir>', 'folder of the dataset files (needed for fashion-mnist, mnist and digits)')
  .option('--epochs <n>', 'epochs per run', positiveInteger, DEMO_EPOCHS)
  .option('--model <kind>', 'cnn or mlp (default: cnn for images, mlp otherwise)', modelKind)
  .option('--train-limit <n>', 'use only the first n training samples', positiveInteger)
  .option('--seed <n>', 'seed of the weights and of the pruning', positiveIntegerOrZero, 0)
  .action(async (options: { dataset: string; dataDir?: string; epochs: number; model?: ModelKind; trainLimit?: number; seed: number }) => {
    requireDataDir('demo', options.dataset, options.dataDir);
    const training = await loadTraining('demo');
    if (training === undefined) return;
    const { runDemo, formatDemoReport, DEMO_RUN_TITLES, selectBackend } = training;
    const backendName = await backend(selectBackend);
    console.log(`infobatch demo: ${options.dataset} dataset, ${options.epochs} epochs, tfjs backend ${backendName}`);
    const progress = createProgress();
    const result = await runDemo({
      dataset: options.dataset,
      epochs: options.epochs,
      seed: options.seed,
      ...(options.dataDir !== undefined && { dataDir: options.dataDir }),
      ...(options.model !== undefined && { model: options.model }),
      ...(options.trainLimit !== undefined && { trainLimit: options.trainLimit }),
      onEpoch: (run, record, epochs) =>
        progress.update(DEMO_RUN_TITLES[run], record.epoch + 1, epochs, `test acc ${(record.testAccuracy * 100).toFixed(1)}%, kept ${(record.keptFraction * 100).toFixed(0)}%`),
    });
    progress.stop();
    console.log('');
    for (const line of formatDemoReport(result)) console.log(line);
    console.log(`\n${result.numSamples.toLocaleString('en-US')} training and ${result.numTest.toLocaleString('en-US')} test samples, ${result.model} model; wall-clock is the training loop only (evaluation excluded), after an untimed warm-up.`);
  });

function positiveIntegerOrZero(value: string): number {
  const n = strictNumber(value);
  if (!Number.isInteger(n) || n < 0) throw usageError(`expected an integer >= 0, got ${JSON.stringify(value)}`);
  return n;
}

program
  .command('bench')
  .description('run policies x seeds on one recipe; write results.json, report.md and report.html (resumable)')
  .requiredOption('--out <dir>', 'output folder (an interrupted bench resumes from it)', outFolder)
  .option('--task <name>', `what to train: classification (dataset + model), or a task family: ${TASK_NAMES.join(', ')} (own data, model, loss and metric; see the README)`, taskName, 'classification')
  .option('--dataset <name>', 'classification: fashion-mnist (needs --data-dir), fashion-mnist-small (embedded), synthetic, mnist or digits', 'fashion-mnist')
  .option('--data-dir <dir>', "folder of the dataset files; with --task, the folder holding the datasets' folders")
  .option('--download', 'download missing dataset files from the official location (checksummed; classification)')
  .option('--model <kind>', 'classification: cnn or mlp', modelKind, 'cnn')
  .option('--epochs <n>', "epochs of the recipe (default 15; with --task, the task's default)", positiveInteger)
  .option('--seeds <list>', 'a count (3 = seeds 0,1,2), a range (5..7) or a list of two or more seeds (0,4,7)', seedList, [0, 1, 2])
  .option('--policies <list>', 'comma-separated: full, infobatch[:r=0.3|:target=0.4][:rescaleMode=auto|loss|step][:score=normalised (diffusion, mae)], full[:lrScale=1.4], infobatch-no-rescale, infobatch-no-anneal, random, random@matched, full@matched, static-random, ucb, epsilon-greedy, seta (default: full,infobatch)', policyList)
  .option('--batch-size <n>', "batch size (default 128; with --task, the task's default)", positiveInteger)
  .option('--optimizer <name>', `classification: ${CLASSIFICATION_OPTIMIZERS.join(' or ')} (default sgd-momentum; the task families always use Adam)`, optimizerName)
  .option('--lr <x>', "peak learning rate, cosine per epoch (default 0.05 for SGD, 0.001 for Adam; with --task, the task's default for Adam)", positiveNumber)
  .option('--momentum <x>', 'SGD momentum (classification)', nonNegativeNumber, 0.9)
  .option('--weight-decay <x>', 'SGD weight decay, L2 on kernels (classification)', nonNegativeNumber, 5e-4)
  .option('--train-limit <n>', "use only the first n training samples (smoke runs; with --task, default: the task's size)", positiveInteger)
  .option('--test-limit <n>', "use only the first n test samples (with --task, default: the task's size)", positiveInteger)
  .option('--name <name>', 'name shown in the reports')
  .action(async (options: {
    out: string; task: 'classification' | TaskName; dataset: string; dataDir?: string; download?: boolean; model: ModelKind; epochs?: number; seeds: number[]; policies?: PolicySpec[];
    batchSize?: number; lr?: number; optimizer?: ClassificationOptimizer; momentum: number; weightDecay: number; trainLimit?: number; testLimit?: number; name?: string;
  }, command: Command) => {
    if (options.task !== 'classification' && options.optimizer !== undefined) {
      command.error(`error: --optimizer applies to classification only; the ${options.task} task always trains with Adam (drop --optimizer).`, { exitCode: USAGE_EXIT_CODE, code: 'infobatch.usage' });
    }
    requireDataDir('bench', options.dataset, options.dataDir, options.task);
    const training = await loadTraining('bench');
    if (training === undefined) return;
    const { runBench, getTask, selectBackend } = training;
    const policies = options.policies ?? parsePolicySpecs('full,infobatch');
    const task: Task | undefined = options.task === 'classification' ? undefined : getTask(options.task);
    const epochs = options.epochs ?? task?.defaults.epochs ?? 15;
    const batchSize = options.batchSize ?? task?.defaults.batchSize ?? 128;
    const learningRate = options.lr ?? task?.defaults.learningRate ?? (options.optimizer === 'adam' ? 0.001 : 0.05);
    const trainLimit = options.trainLimit ?? task?.defaults.trainLimit;
    const testLimit = options.testLimit ?? task?.defaults.testLimit;
    const backendName = await backend(selectBackend);
    const metric = task?.metric;
    const metricText = (value: number): string =>
      metric === undefined ? `test acc ${(value * 100).toFixed(2)}%` : `${metric.name} ${metric.percent === true ? `${(value * 100).toFixed(2)}%` : value.toPrecision(4)}`;
    const progress = createBenchProgress();
    const results = await runBench({
      name: options.name ?? (task === undefined ? `${options.dataset} ${options.model} ${epochs} epochs` : `${task.name}: ${task.dataset}, ${task.model}, ${epochs} epochs`),
      command: commandLine(),
      task: options.task,
      dataset: options.dataset,
      model: options.model,
      epochs,
      batchSize,
      seeds: options.seeds,
      policies,
      learningRate,
      ...(options.optimizer !== undefined && { optimizer: options.optimizer }),
      momentum: options.momentum,
      weightDecay: options.weightDecay,
      out: options.out,
      backend: backendName,
      ...(options.dataDir !== undefined && (task === undefined ? { dataDir: options.dataDir } : { dataRoot: options.dataDir })),
      ...(options.download !== undefined && { download: options.download }),
      ...(trainLimit !== undefined && { trainLimit }),
      ...(testLimit !== undefined && { testLimit }),
      log: (message) => progress.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`),
      onRunStart: (run, runEpochs, remaining) => progress.runStart(`${run.label} seed ${run.seed}`, runEpochs, remaining.epochs),
      onEpoch: (run, record) =>
        progress.epoch(
          `  ${run.label} seed ${run.seed} epoch ${record.epoch + 1}: ${metricText(record.testAccuracy)}, kept ${(record.keptFraction * 100).toFixed(1)}%, ${record.trainSeconds.toFixed(1)} s`,
          `epoch ${record.epoch + 1}: ${metricText(record.testAccuracy)}`,
        ),
    }).finally(() => progress.stop());
    console.log(`wrote ${join(options.out, 'results.json')}, report.md and report.html (${results.runs.length} runs)`);
  });

program
  .command('report <results...>')
  .description('render report.md and report.html from one results.json, or merge several benches of the same recipe into a new folder')
  .option('--out <dir>', 'folder for the reports (and, when merging, the merged results.json); default with one file: the folder of that file; required when merging', outFolder)
  .option('--name <name>', 'name shown in the merged report')
  .action(async (paths: string[], options: { out?: string; name?: string }, command: Command) => {
    const merging = paths.length > 1;
    if (merging && options.out === undefined) {
      command.error(`error: merging ${paths.length} results files writes a merged results.json: pass --out <folder> for it (the input files are never rewritten).`, { exitCode: USAGE_EXIT_CODE, code: 'infobatch.usage' });
    }
    const dir = options.out ?? dirname(paths[0]!);
    const mergedPath = join(dir, 'results.json');
    if (merging && paths.some((path) => resolve(path) === resolve(mergedPath))) {
      command.error(`error: --out ${dir} would overwrite the input ${mergedPath} with the merged results; choose another folder.`, { exitCode: USAGE_EXIT_CODE, code: 'infobatch.usage' });
    }
    const parts = [];
    for (const path of paths) parts.push(await readResultsFile(path));
    const results = parts.length === 1 && options.name === undefined ? parts[0]! : mergeResults(parts, options.name);
    await ensureDirectory(dir, "'--out'");
    if (merging) await writeAtomically(mergedPath, serializeResults(results));
    await writeAtomically(join(dir, 'report.md'), renderMarkdownReport(results));
    await writeAtomically(join(dir, 'report.html'), renderHtmlReport(results));
    console.log(`wrote ${merging ? `${mergedPath} (merged), ` : ''}${join(dir, 'report.md')} and ${join(dir, 'report.html')} (${results.runs.length} runs)`);
  });

program.parseAsync().catch((error: unknown) => {
  exitWithError(error);
  process.exit(process.exitCode);
});
