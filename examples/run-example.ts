/**
 * Shared runner of the task examples (mae.ts, diffusion.ts, lm.ts, segmentation.ts): trains the
 * task once on the full data and once with InfoBatch, same seed, through the bench harness, prints
 * the task's metric and the saving, and leaves results.json, report.md and report.html (and any
 * images) in the output folder.
 *
 * Flags: --seed N (0), --epochs N, --train-limit N, --test-limit N (the task's defaults),
 * --data-dir DIR (../shared/data), --out DIR (results/examples/<task>).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runBench } from '../src/experiments/bench.js';
import { parsePolicySpecs } from '../src/experiments/policy-spec.js';
import { getTask } from '../src/experiments/tasks/registry.js';
import type { TaskName } from '../src/experiments/tasks/task.js';
import { selectBackend } from '../src/tfjs/index.js';

function integer(flag: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${flag} must be an integer >= ${min}, got ${JSON.stringify(text)}`);
  return n;
}

/** Runs the example of `name` with the command-line flags in `argv`. */
export async function runExample(name: TaskName, argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      seed: { type: 'string' },
      epochs: { type: 'string' },
      'train-limit': { type: 'string' },
      'test-limit': { type: 'string' },
      'data-dir': { type: 'string' },
      out: { type: 'string' },
    },
  });
  const task = getTask(name);
  const seed = integer('seed', values.seed, 0) ?? 0;
  const epochs = integer('epochs', values.epochs, 1) ?? task.defaults.epochs;
  const trainLimit = integer('train-limit', values['train-limit'], 1) ?? task.defaults.trainLimit;
  const testLimit = integer('test-limit', values['test-limit'], 1) ?? task.defaults.testLimit;
  const out = values.out ?? join('results', 'examples', name);
  const backend = await selectBackend();
  const metric = task.metric;
  const show = (value: number): string => (metric.percent === true ? `${(value * 100).toFixed(2)}%` : value.toPrecision(4));

  console.log(`${task.name}: ${task.title}`);
  console.log(`model ${task.model}; ${epochs} epochs, batch ${task.defaults.batchSize}, Adam lr ${task.defaults.learningRate} (cosine); tfjs backend ${backend}`);
  console.log(`full data, then InfoBatch (prune ratio 0.5, delta 0.875), seed ${seed}; metric: ${metric.name} (${metric.higherIsBetter ? 'higher' : 'lower'} is better)\n`);

  const results = await runBench({
    name: `example: ${task.name}`,
    command: ['npx tsx', `examples/${name}.ts`, ...argv].join(' '),
    task: name,
    dataset: task.dataset,
    model: 'cnn', // unused with a task
    epochs,
    batchSize: task.defaults.batchSize,
    seeds: [seed],
    policies: parsePolicySpecs('full,infobatch'),
    learningRate: task.defaults.learningRate,
    momentum: 0.9,
    weightDecay: 0,
    out,
    backend,
    ...(values['data-dir'] !== undefined && { dataRoot: values['data-dir'] }),
    ...(trainLimit !== undefined && { trainLimit }),
    ...(testLimit !== undefined && { testLimit }),
    log: (message) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`),
    onEpoch: (run, record) =>
      console.log(`  ${run.label.padEnd(9)} epoch ${String(record.epoch + 1).padStart(2)}/${epochs}: ${metric.name} ${show(record.testAccuracy)}, held-out loss ${record.testLoss.toPrecision(4)}, kept ${(record.keptFraction * 100).toFixed(0)}%, ${record.trainSeconds.toFixed(1)} s`),
  });

  const full = results.runs.find((r) => r.label === 'full' && r.seed === seed);
  const infobatch = results.runs.find((r) => r.label === 'infobatch' && r.seed === seed);
  console.log('');
  console.log(`| policy    | ${metric.name} | held-out loss | saved sample passes | train s |`);
  for (const r of [full, infobatch]) {
    if (r !== undefined) console.log(`| ${r.label.padEnd(9)} | ${show(r.final.testAccuracy)} | ${r.final.testLoss.toPrecision(4)} | ${(r.final.savedFraction * 100).toFixed(1)}% | ${(r.final.trainSeconds + r.final.pruneSeconds).toFixed(1)} |`);
  }
  if (full !== undefined && infobatch !== undefined) {
    const delta = infobatch.final.testAccuracy - full.final.testAccuracy;
    const better = metric.higherIsBetter ? delta >= 0 : delta <= 0;
    const deltaText = metric.percent === true ? `${delta >= 0 ? '+' : ''}${(delta * 100).toFixed(2)} points` : `${delta >= 0 ? '+' : ''}${delta.toPrecision(3)}`;
    const wall = 1 - (infobatch.final.trainSeconds + infobatch.final.pruneSeconds) / (full.final.trainSeconds + full.final.pruneSeconds);
    console.log(`\nInfoBatch vs full: ${metric.name} ${deltaText} (${better ? 'as good or better' : 'worse'}), ${(infobatch.final.savedFraction * 100).toFixed(1)}% fewer sample passes, ${(wall * 100).toFixed(1)}% less training wall-clock (one seed: see the README for the multi-seed bench).`);
  }
  for (const r of results.runs) for (const image of r.images ?? []) console.log(`image: ${join(out, image.file)} (${image.caption})`);
  console.log(`reports: ${join(out, 'report.md')}, ${join(out, 'report.html')} (run again with another --out, or delete ${out}, to retrain: a bench resumes from its folder)`);
}
