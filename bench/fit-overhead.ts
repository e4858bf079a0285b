/**
 * What an iris-sized fit costs (150 samples, a 4-16-3 MLP, batch 32): CPU seconds of `model.fit`
 * and of `fitWithInfoBatch` (InfoBatch's defaults, and the full-data policy, which prunes nothing
 * and so measures the loop's own cost), in one process, interleaved rounds, medians. On such a
 * model a step takes well under a millisecond, so fixed per-epoch and per-step costs decide
 * whether a pruned epoch costs less than a full one.
 *
 * Usage: `npx tsx bench/fit-overhead.ts [--epochs 100 | --loop 100] [--rounds 5] [--sgd] [--profile]`
 * (`--profile` runs the InfoBatch variant alone, e.g. under `node --cpu-prof`).
 */
import * as tf from '@tensorflow/tfjs';
import { InfoBatch } from '../src/core/info-batch.js';
import { FullDataPolicy } from '../src/policies/full-data.js';
import { selectBackend } from '../src/tfjs/backend.js';
import { fitWithInfoBatch, INFOBATCH_HISTORY_KEYS } from '../src/tfjs/fit.js';
import { hasToyDataset, loadToyDataset, tinyMlp, toyTensors } from './sklearn-toy.js';

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? fallback : Number(process.argv[at + 1]);
}

const cpu = (): number => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
};

const epochs = flag('epochs', 100);
const rounds = flag('rounds', 5);
console.log(`backend ${await selectBackend()}`);
const data = hasToyDataset('iris') ? loadToyDataset('iris') : undefined;
if (data === undefined) {
  console.log('no ../shared/data/sklearn-toy/iris.csv; generated data of the same size is used');
}
const { x, y } = data !== undefined ? toyTensors(data) : tf.tidy(() => ({ x: tf.randomNormal([150, 4], 0, 1, 'float32', 1) as tf.Tensor2D, y: tf.oneHot(tf.randomUniform([150], 0, 3, 'int32', 2), 3).toFloat() as tf.Tensor2D }));
const args = { epochs, batchSize: 32, verbose: 0 as const };
const sgd = process.argv.includes('--sgd');
const optimizer = (): tf.Optimizer => (sgd ? tf.train.sgd(0.1) : tf.train.adam(0.01));

type Variant = [string, () => Promise<{ passes: number }>];
const loop = flag('loop', 0);
/** `--loop N`: N calls of one epoch each on the same model (the tfjs examples' loop), instead of one call. */
const loopVariants: Variant[] = [
  ['model.fit loop', async () => {
    const model = tinyMlp(4, 3, 0, optimizer());
    for (let i = 0; i < loop; i++) await model.fit(x, y, { ...args, epochs: 1 });
    model.dispose();
    return { passes: 150 * loop };
  }],
  ['fitWithInfoBatch loop (own runs)', async () => {
    const model = tinyMlp(4, 3, 0, optimizer());
    for (let i = 0; i < loop; i++) await fitWithInfoBatch(model, x, y, { ...args, epochs: 1 });
    model.dispose();
    return { passes: 150 * loop };
  }],
  ['fitWithInfoBatch loop + totalEpochs', async () => {
    const model = tinyMlp(4, 3, 0, optimizer());
    let passes = 0;
    for (let i = 0; i < loop; i++) {
      const history = await fitWithInfoBatch(model, x, y, { ...args, epochs: 1, infobatch: { totalEpochs: loop } as never });
      passes += (history.history[INFOBATCH_HISTORY_KEYS.keptFraction] as number[])[0]! * 150;
    }
    model.dispose();
    return { passes: Math.round(passes) };
  }],
];
const oneCall: Variant[] = [
  ['model.fit', async () => {
    const model = tinyMlp(4, 3, 0, optimizer());
    await model.fit(x, y, args);
    model.dispose();
    return { passes: 150 * epochs };
  }],
  ['fitWithInfoBatch (defaults)', async () => {
    const model = tinyMlp(4, 3, 0, optimizer());
    const history = await fitWithInfoBatch(model, x, y, args);
    model.dispose();
    return { passes: Math.round((history.history[INFOBATCH_HISTORY_KEYS.keptFraction] as number[]).reduce((a, b) => a + b, 0) * 150) };
  }],
  ['fitWithInfoBatch (full-data policy)', async () => {
    const model = tinyMlp(4, 3, 0, optimizer());
    await fitWithInfoBatch(model, x, y, { ...args, infobatch: new InfoBatch({ numSamples: 150, numEpochs: epochs, policy: new FullDataPolicy() }) });
    model.dispose();
    return { passes: 150 * epochs };
  }],
];
const variants = loop > 0 ? loopVariants : oneCall;
const total = loop > 0 ? 150 * loop : 150 * epochs;

if (process.argv.includes('--profile')) {
  for (let i = 0; i < rounds; i++) await variants[1]![1]();
} else {
  // Warm-up: kernels compiled, code optimised. A variant this version does not support is left out.
  for (const [name, run] of [...variants]) {
    try {
      await run();
    } catch (error) {
      console.log(`${name}: not supported here (${(error as Error).message.slice(0, 80)}...)`);
      variants.splice(variants.findIndex(([n]) => n === name), 1);
    }
  }
  const times = new Map<string, number[]>(variants.map(([name]) => [name, []]));
  const passes = new Map<string, number>();
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    for (const [name, run] of order) {
      const start = cpu();
      const result = await run();
      times.get(name)!.push(cpu() - start);
      passes.set(name, result.passes);
    }
  }
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
  const base = median(times.get(variants[0]![0])!);
  console.log(`${loop > 0 ? `${loop} calls of 1 epoch` : `${epochs} epochs`} of 150 samples, batch 32, MLP 4-16-3, ${sgd ? 'SGD 0.1' : 'Adam 0.01'}; CPU seconds per run, median of ${rounds} interleaved rounds (min-max)`);
  for (const [name] of variants) {
    const t = times.get(name)!;
    console.log(`${name.padEnd(36)} ${median(t).toFixed(3)} s (${Math.min(...t).toFixed(3)}-${Math.max(...t).toFixed(3)})  ${((median(t) / base - 1) * 100).toFixed(1).padStart(6)}% vs model.fit  passes ${passes.get(name)}  (${((1 - passes.get(name)! / total) * 100).toFixed(1)}% saved)`);
  }
}
tf.dispose([x, y]);
