/**
 * Where `fitWithInfoBatch` must behave like `model.fit` (issue #24), measured:
 *
 * - `iris`: `tf.callbacks.earlyStopping({ monitor: 'loss', patience: 2 })` on sklearn's iris (150
 *   samples, a 4-16-3 MLP, Adam 0.01 or with `--sgd` SGD 0.1, batch 32, up to 100 epochs), per seed: the epoch at which
 *   `model.fit` stopped, `fitWithInfoBatch` stopped, and `fitWithInfoBatch` would have stopped
 *   had it monitored the weighted objective (`infobatch_objective`, what `loss` logged before).
 * - `addition`: an addition-rnn-like loop (tfjs-examples addition-rnn: an LSTM seq2seq model
 *   learning digit addition, Adam, a loop of `fit(…, { epochs: 1 })` calls), scaled down to run in
 *   minutes on one core: `model.fit` in the loop, `fitWithInfoBatch` in the loop unchanged (each
 *   call a run of its own), and with `infobatch: { totalEpochs }` added: sample passes and held-out
 *   exact-match accuracy.
 *
 * Usage: `npx tsx bench/fit-parity.ts iris [--seeds 10] [--sgd]`,
 *        `npx tsx bench/fit-parity.ts addition [--seeds 3] [--iterations 40] [--train 2000] [--digits 2]`.
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/tfjs/backend.js';
import { fitWithInfoBatch, INFOBATCH_HISTORY_KEYS } from '../src/tfjs/fit.js';
import { hasToyDataset, loadToyDataset, tinyMlp, toyTensors } from './sklearn-toy.js';

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? fallback : Number(process.argv[at + 1]);
}

function cpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

async function iris(): Promise<void> {
  if (!hasToyDataset('iris')) {
    console.log('iris: no ../shared/data/sklearn-toy/iris.csv; skipped');
    return;
  }
  const seeds = flag('seeds', 10);
  const optimizerName = process.argv.includes('--sgd') ? 'sgd' : 'adam';
  const optimizer = () => (optimizerName === 'sgd' ? tf.train.sgd(0.1) : tf.train.adam(0.01));
  const data = loadToyDataset('iris');
  const { x, y } = toyTensors(data);
  const epochs = 100;
  const common = { epochs, batchSize: 32, verbose: 0 as const };
  const early = (monitor: string) => tf.callbacks.earlyStopping({ monitor, patience: 2 });
  console.log(`iris: ${data.numSamples} samples, MLP 4-16-3, ${optimizerName === 'sgd' ? 'SGD 0.1' : 'Adam 0.01'}, batch 32, up to ${epochs} epochs, earlyStopping({ monitor, patience: 2 }); stop = epochs run`);
  console.log('seed  model.fit  fitWithInfoBatch (loss)  fitWithInfoBatch (infobatch_objective, the old loss)  passes saved (loss run)  full-data loss at the stop, model.fit / fitWithInfoBatch  accuracy at the stop');
  const rows: number[][] = [];
  const finals: number[][] = [];
  for (let seed = 0; seed < seeds; seed++) {
    const reference = tinyMlp(4, 3, seed, optimizer());
    const fitHistory = await reference.fit(x, y, { ...common, callbacks: [early('loss')] });
    const ours = tinyMlp(4, 3, seed, optimizer());
    const oursHistory = await fitWithInfoBatch(ours, x, y, { ...common, callbacks: [early('loss')], infobatch: { seed } });
    const old = tinyMlp(4, 3, seed, optimizer());
    const oldHistory = await fitWithInfoBatch(old, x, y, { ...common, callbacks: [early(INFOBATCH_HISTORY_KEYS.objective)], infobatch: { seed } });
    const kept = oursHistory.history[INFOBATCH_HISTORY_KEYS.keptFraction] as number[];
    const saved = 1 - kept.reduce((a, b) => a + b, 0) / kept.length;
    const row = [fitHistory.epoch.length, oursHistory.epoch.length, oldHistory.epoch.length];
    rows.push(row);
    const [fitLoss, fitAccuracy] = evaluateAll(reference, x, y);
    const [oursLoss, oursAccuracy] = evaluateAll(ours, x, y);
    finals.push([fitLoss, oursLoss, fitAccuracy, oursAccuracy]);
    console.log(`${String(seed).padStart(4)}  ${String(row[0]).padStart(9)}  ${String(row[1]).padStart(23)}  ${String(row[2]).padStart(52)}  ${(saved * 100).toFixed(1).padStart(22)}%  ${fitLoss.toFixed(4)} / ${oursLoss.toFixed(4)}  ${(fitAccuracy * 100).toFixed(1)} / ${(oursAccuracy * 100).toFixed(1)}%`);
    for (const m of [reference, ours, old]) m.dispose();
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const columns = [0, 1, 2].map((c) => rows.map((r) => r[c]!));
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const finalColumns = [0, 1, 2, 3].map((c) => finals.map((r) => r[c]!));
  console.log(`mean full-data loss at the stop: model.fit ${mean(finalColumns[0]!).toFixed(4)}, fitWithInfoBatch ${mean(finalColumns[1]!).toFixed(4)}; mean accuracy: ${(mean(finalColumns[2]!) * 100).toFixed(2)}% / ${(mean(finalColumns[3]!) * 100).toFixed(2)}%`);
  console.log(`median stop epoch: model.fit ${median(columns[0]!)}, fitWithInfoBatch ${median(columns[1]!)}, old loss ${median(columns[2]!)}; range model.fit ${Math.min(...columns[0]!)}-${Math.max(...columns[0]!)}, fitWithInfoBatch ${Math.min(...columns[1]!)}-${Math.max(...columns[1]!)}`);
  tf.dispose([x, y]);
}

/** The model's loss and accuracy on all of `x`, `y` (after training: what early stopping on `loss` stands in for). */
function evaluateAll(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor): [number, number] {
  const result = model.evaluate(x, y, { batchSize: 1024 }) as tf.Scalar[];
  const values = result.map((t) => t.dataSync()[0]!);
  tf.dispose(result);
  return [values[0]!, values[1]!];
}

/** Digit-addition data as tfjs-examples addition-rnn makes it: "12+345" → "357", one-hot characters, reversed-free. */
function additionData(count: number, digits: number, seed: number): { x: tf.Tensor3D; y: tf.Tensor3D; questions: string[]; answers: string[] } {
  const chars = '0123456789+ ';
  const inLen = digits * 2 + 1;
  const outLen = digits + 1;
  let state = seed * 2654435761 + 1;
  const random = () => {
    state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0;
    return state / 2 ** 32;
  };
  const seen = new Set<string>();
  const questions: string[] = [];
  const answers: string[] = [];
  const max = 10 ** digits;
  while (questions.length < count) {
    const a = Math.floor(random() * max);
    const b = Math.floor(random() * max);
    const key = `${Math.min(a, b)}+${Math.max(a, b)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    questions.push(`${a}+${b}`.padEnd(inLen, ' '));
    answers.push(String(a + b).padEnd(outLen, ' '));
  }
  const encode = (texts: string[], length: number) =>
    tf.tidy(() => tf.oneHot(tf.tensor2d(texts.flatMap((t) => [...t].map((c) => chars.indexOf(c))), [texts.length, length], 'int32'), chars.length).toFloat() as tf.Tensor3D);
  return { x: encode(questions, inLen), y: encode(answers, outLen), questions, answers };
}

/** The addition-rnn model: LSTM encoder, repeat vector, LSTM decoder, time-distributed softmax. */
function additionModel(digits: number, seed: number, hidden: number): tf.LayersModel {
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed * 10 + k });
  const model = tf.sequential({
    layers: [
      tf.layers.lstm({ units: hidden, inputShape: [digits * 2 + 1, 12], kernelInitializer: init(1), recurrentInitializer: tf.initializers.orthogonal({ seed: seed * 10 + 2 }) }),
      tf.layers.repeatVector({ n: digits + 1 }),
      tf.layers.lstm({ units: hidden, returnSequences: true, kernelInitializer: init(3), recurrentInitializer: tf.initializers.orthogonal({ seed: seed * 10 + 4 }) }),
      tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 12, kernelInitializer: init(5) }) }),
      tf.layers.activation({ activation: 'softmax' }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

function exactMatch(model: tf.LayersModel, x: tf.Tensor3D, y: tf.Tensor3D): number {
  return tf.tidy(() => {
    const predicted = tf.argMax(model.predict(x) as tf.Tensor, 2);
    const truth = tf.argMax(y, 2);
    return tf.mean(tf.all(tf.equal(predicted, truth), 1).toFloat()).dataSync()[0]!;
  });
}

async function addition(): Promise<void> {
  const seeds = flag('seeds', 3);
  const iterations = flag('iterations', 40);
  const trainSize = flag('train', 2000);
  const digits = flag('digits', 2);
  const hidden = flag('hidden', 64);
  const batchSize = 128;
  console.log(`addition-rnn-like loop: ${digits}-digit sums, ${trainSize} training / 500 held-out questions, LSTM ${hidden} seq2seq, Adam 0.01, batch ${batchSize}, ${iterations} x fit(..., { epochs: 1 }); held-out exact-match accuracy`);
  console.log('seed  variant                                      passes    saved   accuracy  CPU s');
  for (let seed = 0; seed < seeds; seed++) {
    const all = additionData(trainSize + 500, digits, seed);
    const x = all.x.slice([0, 0, 0], [trainSize, -1, -1]);
    const y = all.y.slice([0, 0, 0], [trainSize, -1, -1]);
    const xTest = all.x.slice([trainSize, 0, 0], [500, -1, -1]);
    const yTest = all.y.slice([trainSize, 0, 0], [500, -1, -1]);
    const variants: Array<[string, (model: tf.LayersModel) => Promise<number>]> = [
      ['model.fit loop', async (model) => {
        for (let i = 0; i < iterations; i++) await model.fit(x, y, { epochs: 1, batchSize, verbose: 0 });
        return trainSize * iterations;
      }],
      ['fitWithInfoBatch loop, unchanged', async (model) => {
        let passes = 0;
        for (let i = 0; i < iterations; i++) {
          const h = await fitWithInfoBatch(model, x, y, { epochs: 1, batchSize, verbose: 0, infobatch: { seed } });
          passes += (h.history[INFOBATCH_HISTORY_KEYS.keptFraction] as number[]).reduce((a, b) => a + b, 0) * trainSize;
        }
        return passes;
      }],
      ['fitWithInfoBatch loop + { totalEpochs }', async (model) => {
        let passes = 0;
        for (let i = 0; i < iterations; i++) {
          const h = await fitWithInfoBatch(model, x, y, { epochs: 1, batchSize, verbose: 0, infobatch: { seed, totalEpochs: iterations } });
          passes += (h.history[INFOBATCH_HISTORY_KEYS.keptFraction] as number[]).reduce((a, b) => a + b, 0) * trainSize;
        }
        return passes;
      }],
    ];
    for (const [name, train] of variants) {
      const model = additionModel(digits, seed, hidden);
      const cpu = cpuSeconds();
      const passes = Math.round(await train(model));
      const seconds = cpuSeconds() - cpu;
      const accuracy = exactMatch(model, xTest, yTest);
      console.log(`${String(seed).padStart(4)}  ${name.padEnd(42)}  ${String(passes).padStart(7)}  ${((1 - passes / (trainSize * iterations)) * 100).toFixed(1).padStart(6)}%  ${(accuracy * 100).toFixed(1).padStart(8)}%  ${seconds.toFixed(1).padStart(5)}`);
      model.dispose();
    }
    tf.dispose([all.x, all.y, x, y, xTest, yTest]);
  }
}

const which = process.argv[2];
console.log(`backend ${await selectBackend()}`);
if (which === 'iris') await iris();
else if (which === 'addition') await addition();
else {
  console.error('usage: npx tsx bench/fit-parity.ts iris|addition [--seeds N] ...');
  process.exitCode = 2;
}
