/**
 * Instruction fine-tuning of a small character-level transformer (the paper's LLaMA experiment,
 * at toy scale).
 *
 * Vocabulary: 96 characters, newline and printable ASCII; any other character reads as `?`.
 * Model: token and position embeddings of width 64 for a context of 96 characters (`tf.gather`,
 * whose gradient needs the wasm UnsortedSegmentSum kernel that `selectBackend` registers), 2
 * pre-norm blocks of 4-head causal self-attention built from tfjs ops (MLP ratio 2), a final layer
 * norm and an output projection.
 *
 * Each run first pretrains the model on random windows of tiny-shakespeare (`pretrainSteps` Adam
 * steps, the same for every policy and cached per seed within a process, so it is not counted in
 * the training time), then fine-tunes it with InfoBatch on the Stanford Alpaca seed tasks formatted
 * as `Instruction: …\nInput: …\nResponse: …\n` (the Input line only when the task has one). The
 * per-sequence loss is the mean next-character cross-entropy over the response characters only:
 * `sequenceCrossEntropy(targets, logits, responseMask)`. Every sixth task (file positions 0, 6,
 * 12, …: 30 tasks) is held out, the other 145 train. Sequences longer than the context keep the
 * response's start (at least half the context) and cut the prompt's end before `\nResponse: `.
 *
 * Evaluation: response-token cross-entropy on the held-out tasks (nats per character) and the
 * primary metric, its perplexity `exp(loss)` (lower is better).
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { SeededRandom } from '../../core/random.js';
import type { AlpacaExample } from '../../data/alpaca.js';
import { loadAlpacaSeedTasks, loadText } from '../../data/node.js';
import { sequenceCrossEntropy, type TrainableModel } from '../../tfjs/index.js';
import { blockParams, causalBias, dense, denseParams, layerNorm, layerNormParams, ParamSet, transformerBlock, type BlockParams, type DenseParams, type LayerNormParams } from './layers.js';
import type { Task, TaskData, TaskEvaluation, TaskLoadOptions, TaskRun } from './task.js';

/** Characters of the vocabulary, by token id: newline, then printable ASCII 32..126. */
export const LM_VOCAB: readonly string[] = Object.freeze(['\n', ...Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i))]);
const VOCAB_SIZE = LM_VOCAB.length;
const UNKNOWN = LM_VOCAB.indexOf('?');
const WIDTH = 64;
const HEADS = 4;
const DEPTH = 2;
const MLP_RATIO = 2;
const RESPONSE_MARK = '\nResponse: ';
const PRETRAIN_STREAM = 0x5ba4e;

/** Token ids of `text` in {@link LM_VOCAB} (tab as space, other characters as `?`). */
export function encodeChars(text: string): Int32Array {
  const out = new Int32Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    out[i] = code === 10 ? 0 : code === 9 ? 1 : code >= 32 && code <= 126 ? code - 31 : UNKNOWN;
  }
  return out;
}

/** One formatted example: `context + 1` tokens and how many of them are prompt and response. */
export interface FormattedExample {
  readonly tokens: Int32Array;
  readonly promptLength: number;
  readonly responseLength: number;
}

/**
 * Formats an Alpaca example as `Instruction: …\nInput: …\nResponse: …\n` in at most `windowLength`
 * characters (see the module comment for how long examples are cut).
 */
export function formatExample(example: Pick<AlpacaExample, 'instruction' | 'input' | 'output'>, windowLength: number): FormattedExample {
  const core = `Instruction: ${example.instruction.trim()}${example.input.trim() === '' ? '' : `\nInput: ${example.input.trim()}`}`;
  const response = `${example.output.trim()}\n`;
  let prompt = core + RESPONSE_MARK;
  let kept = response;
  if (prompt.length + response.length > windowLength) {
    const responseBudget = Math.min(response.length, Math.max(windowLength - prompt.length, Math.floor(windowLength / 2)));
    kept = response.slice(0, responseBudget);
    const promptBudget = windowLength - responseBudget;
    if (prompt.length > promptBudget) prompt = core.slice(0, Math.max(0, promptBudget - RESPONSE_MARK.length)) + RESPONSE_MARK;
  }
  const tokens = new Int32Array(windowLength);
  tokens.set(encodeChars(prompt + kept).subarray(0, windowLength));
  return { tokens, promptLength: prompt.length, responseLength: Math.min(kept.length, windowLength - prompt.length) };
}

/** LM data: fine-tuning inputs `[n, T]`, targets and response masks `[n, T, 2]`, the pretraining corpus. */
export interface LmData extends TaskData {
  readonly inputs: tf.Tensor2D;
  readonly targets: tf.Tensor3D;
  readonly testInputs: tf.Tensor2D;
  readonly testTargets: tf.Tensor3D;
  /** Response tokens of each held-out sequence. */
  readonly testCounts: Float32Array;
  /** tiny-shakespeare as token ids. */
  readonly corpus: Int32Array;
}

/** Settings of {@link createLmTask}. */
export interface LmTaskOptions {
  /**
   * Context length (input characters per sequence).
   * @defaultValue 96
   */
  readonly context?: number;
  /**
   * Adam steps of pretraining on tiny-shakespeare.
   * @defaultValue 300
   */
  readonly pretrainSteps?: number;
  /**
   * Windows per pretraining step.
   * @defaultValue 16
   */
  readonly pretrainBatch?: number;
  /**
   * Learning rate of pretraining (constant).
   * @defaultValue 2e-3
   */
  readonly pretrainLr?: number;
}

interface LmParams {
  readonly tokens: tf.Variable;
  readonly positions: tf.Variable;
  readonly blocks: BlockParams[];
  readonly norm: LayerNormParams;
  readonly head: DenseParams;
}

function createParams(params: ParamSet, context: number): LmParams {
  return {
    tokens: params.normal([VOCAB_SIZE, WIDTH], 0.02),
    positions: params.normal([context, WIDTH], 0.02),
    blocks: Array.from({ length: DEPTH }, () => blockParams(params, WIDTH, HEADS, MLP_RATIO)),
    norm: layerNormParams(params, WIDTH),
    head: denseParams(params, WIDTH, VOCAB_SIZE),
  };
}

/** Logits `[batch, time, vocab]` of token ids `[batch, time]`. */
function forward(p: LmParams, ids: tf.Tensor, bias: tf.Tensor): tf.Tensor3D {
  const [batch, time] = ids.shape as [number, number];
  const embedded = tf.reshape(tf.gather(p.tokens, tf.reshape(ids, [-1])), [batch, time, WIDTH]);
  let h = tf.add(embedded, time === p.positions.shape[0] ? p.positions : tf.slice(p.positions, 0, time));
  for (const block of p.blocks) h = transformerBlock(h, block, bias);
  return dense(layerNorm(h, p.norm), p.head) as tf.Tensor3D;
}

/** The per-sequence loss: `yTrue` is `[batch, T, 2]` (next-token id, response mask). */
function lmLoss(yTrue: tf.Tensor, logits: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => {
    const [targets, mask] = tf.unstack(yTrue, 2);
    return sequenceCrossEntropy(targets!, logits, mask!);
  });
}

/** Pretrained weights per (settings, seed), so every policy of a seed starts from the same model without pretraining twice. */
const pretrained = new Map<string, Float32Array[]>();

function pretrain(p: LmParams, variables: tf.Variable[], corpus: Int32Array, bias: tf.Tensor, seed: number, o: Required<LmTaskOptions>): void {
  const random = SeededRandom.derive(seed, PRETRAIN_STREAM);
  const optimizer = tf.train.adam(o.pretrainLr);
  const length = o.context + 1;
  const windows = new Int32Array(o.pretrainBatch * length);
  try {
    for (let step = 0; step < o.pretrainSteps; step++) {
      for (let b = 0; b < o.pretrainBatch; b++) {
        const start = random.nextInt(corpus.length - length);
        windows.set(corpus.subarray(start, start + length), b * length);
      }
      tf.tidy(() => {
        const all = tf.tensor2d(windows, [o.pretrainBatch, length], 'int32');
        const inputs = tf.slice(all, [0, 0], [-1, o.context]);
        const targets = tf.slice(all, [0, 1], [-1, o.context]);
        optimizer.minimize(() => tf.mean(sequenceCrossEntropy(targets, forward(p, inputs, bias))) as tf.Scalar, false, variables);
      });
    }
  } finally {
    optimizer.dispose();
  }
}

class LmRun implements TaskRun {
  readonly model: TrainableModel;
  readonly setupSeconds: number;
  private readonly params: ParamSet;
  private readonly p: LmParams;
  private readonly bias: tf.Tensor2D;

  constructor(
    private readonly data: LmData,
    seed: number,
    settings: Required<LmTaskOptions>,
  ) {
    this.params = new ParamSet(seed);
    this.p = createParams(this.params, settings.context);
    this.bias = causalBias(settings.context);
    const key = `${JSON.stringify(settings)}/${seed}/${data.corpus.length}`;
    const start = performance.now();
    const cached = pretrained.get(key);
    if (cached !== undefined) this.params.restore(cached);
    else if (settings.pretrainSteps > 0) {
      pretrain(this.p, this.params.variables, data.corpus, this.bias, seed, settings);
      pretrained.set(key, this.params.snapshot());
    }
    this.setupSeconds = (performance.now() - start) / 1000;
    const run = (x: tf.Tensor): tf.Tensor => forward(this.p, x, this.bias);
    this.model = { trainableWeights: this.params.variables, predict: run };
  }

  loss(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
    return lmLoss(yTrue, yPred);
  }

  async evaluate(): Promise<TaskEvaluation> {
    const { testInputs, testTargets, testCounts } = this.data;
    const total = tf.tidy(() => tf.sum(tf.mul(lmLoss(testTargets, forward(this.p, testInputs, this.bias)), tf.tensor1d(testCounts))));
    const sum = (await total.data())[0]!;
    total.dispose();
    const loss = sum / testCounts.reduce((a, b) => a + b, 0);
    return { metric: { ...lmTask.metric, value: Math.exp(loss) }, loss };
  }

  dispose(): void {
    this.params.dispose();
    this.bias.dispose();
  }
}

/** Inputs `[n, T]` and (target, mask) pairs `[n, T, 2]` of formatted examples. */
function sequenceArrays(examples: readonly FormattedExample[], context: number): { inputs: Int32Array; targets: Int32Array; counts: Float32Array } {
  const n = examples.length;
  const inputs = new Int32Array(n * context);
  const targets = new Int32Array(n * context * 2);
  const counts = new Float32Array(n);
  examples.forEach((e, i) => {
    inputs.set(e.tokens.subarray(0, context), i * context);
    for (let j = 0; j < context; j++) {
      const position = j + 1; // the token predicted at j
      const inResponse = position >= e.promptLength && position < e.promptLength + e.responseLength;
      targets[(i * context + j) * 2] = e.tokens[position]!;
      targets[(i * context + j) * 2 + 1] = inResponse ? 1 : 0;
      if (inResponse) counts[i]!++;
    }
  });
  return { inputs, targets, counts };
}

/**
 * The LM fine-tuning task with the given settings (see the module comment); {@link lmTask} uses the defaults.
 *
 * @example
 * ```ts
 * const quick = createLmTask({ context: 32, pretrainSteps: 5 }); // for smoke tests
 * ```
 */
export function createLmTask(options: LmTaskOptions = {}): Task<LmData> {
  const settings: Required<LmTaskOptions> = { context: 96, pretrainSteps: 300, pretrainBatch: 16, pretrainLr: 2e-3, ...options };
  const { context } = settings;
  const task: Task<LmData> = {
    name: 'lm',
    title: 'character-level transformer: pretraining on tiny-shakespeare, instruction fine-tuning on Alpaca seed tasks',
    dataset: 'stanford-alpaca-seed-tasks (pretrained on tiny-shakespeare)',
    model: `char-transformer (${DEPTH}x${WIDTH}, ${HEADS} heads, context ${context})`,
    metric: { name: 'held-out response perplexity', higherIsBetter: false },
    defaults: { epochs: 20, batchSize: 16, learningRate: 2e-3 },
    recipe: { context, width: WIDTH, depth: DEPTH, heads: HEADS, mlpRatio: MLP_RATIO, pretrainSteps: settings.pretrainSteps, pretrainBatch: settings.pretrainBatch, pretrainLr: settings.pretrainLr, heldOut: 'every 6th task', optimizer: 'adam' },
    dataFolders: ['tiny-shakespeare', 'stanford-alpaca-seed-tasks'],

    async load(loadOptions: TaskLoadOptions = {}): Promise<LmData> {
      const { dataDir = join('..', 'shared', 'data'), trainLimit, testLimit } = loadOptions;
      const corpus = encodeChars(await loadText(join(dataDir, 'tiny-shakespeare', 'input.txt')));
      const examples = await loadAlpacaSeedTasks(join(dataDir, 'stanford-alpaca-seed-tasks'));
      const formatted = examples.map((e) => formatExample(e, context + 1));
      let train = formatted.filter((_, i) => i % 6 !== 0);
      let test = formatted.filter((_, i) => i % 6 === 0);
      if (trainLimit !== undefined) train = train.slice(0, trainLimit);
      if (testLimit !== undefined) test = test.slice(0, testLimit);
      const a = sequenceArrays(train, context);
      const b = sequenceArrays(test, context);
      const inputs = tf.tensor2d(a.inputs, [train.length, context], 'int32');
      const targets = tf.tensor3d(a.targets, [train.length, context, 2], 'int32');
      const testInputs = tf.tensor2d(b.inputs, [test.length, context], 'int32');
      const testTargets = tf.tensor3d(b.targets, [test.length, context, 2], 'int32');
      return {
        train: { x: inputs, y: targets },
        numTrain: train.length,
        numTest: test.length,
        inputs,
        targets,
        testInputs,
        testTargets,
        testCounts: b.counts,
        corpus,
        dispose: () => tf.dispose([inputs, targets, testInputs, testTargets]),
      };
    },

    async createRun(data: LmData, runOptions: { readonly seed: number }): Promise<TaskRun> {
      return new LmRun(data, runOptions.seed, settings);
    },
  };
  return task;
}

/** The LM task with its default settings. */
export const lmTask: Task<LmData> = createLmTask();
