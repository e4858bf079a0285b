/**
 * Masked-autoencoder pretraining on Fashion-MNIST (He et al., 2022, at toy scale), judged by a
 * linear probe on the frozen encoder.
 *
 * Each 28×28 image is cut into 16 patches of 7×7. Every training step draws a fresh random mask
 * per image (12 of 16 patches hidden, 75%) from a generator seeded by the run's seed; the encoder
 * (patch embedding, position embedding, 2 transformer blocks of width 64) sees only the 4 visible
 * patches, the decoder (width 32, 1 block) gets the encoded patches plus a learned mask token at
 * every hidden position and predicts all pixels. The per-sample loss is the mean squared error over
 * the pixels of the hidden patches only: `meanSquaredError(patches, reconstruction, mask)`.
 *
 * Scoring (`createRun`'s `score`): `'loss'` records that error as the sample's score, as the paper
 * does. `'normalised'` divides it by the running mean error of visits whose mask hid as many of
 * the 4 central patches (0 to 4: 5 buckets; the central patches hold most of a garment, so they
 * are the hardest to fill in), a {@link NoiseConditionedScore} conditioned on the mask drawn.
 * Measured, the raw error already persists from one epoch to the next (rank correlation about
 * 0.8: the image, not the mask, sets the loss), and the normalised score persists the same.
 *
 * Evaluation: the same loss on held-out images with masks fixed by a constant seed, and the
 * primary metric, linear-probe accuracy: the encoder (all 16 patches visible, tokens mean-pooled)
 * is frozen, features of the first `probeSamples` training images are standardised and a softmax
 * regression is fitted to their labels (full-batch Adam), then scored on the held-out images.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { InfoBatchError } from '../../core/errors.js';
import { NoiseConditionedScore } from '../../core/noise-conditioned-score.js';
import { SeededRandom } from '../../core/random.js';
import { meanSquaredError, sparseSoftmaxCrossEntropy, type BatchScores, type TrainableModel } from '../../tfjs/index.js';
import { loadBenchDataset } from '../datasets.js';
import { blockParams, dense, denseParams, layerNorm, layerNormParams, ParamSet, transformerBlock, type BlockParams, type DenseParams, type LayerNormParams } from './layers.js';
import type { Task, TaskData, TaskEvaluation, TaskLoadOptions, TaskRun, TaskRunSetup, TaskScoring } from './task.js';

const IMAGE = 28;
const PATCH = 7;
const GRID = IMAGE / PATCH;
const NUM_PATCHES = GRID * GRID;
const PATCH_DIM = PATCH * PATCH;
const MASKED = 12;
const VISIBLE = NUM_PATCHES - MASKED;
const WIDTH = 64;
const HEADS = 4;
const DEPTH = 2;
const DECODER_WIDTH = 32;
const DECODER_HEADS = 2;
const PROBE_SAMPLES = 5000;
const PROBE_STEPS = 200;
const PROBE_LR = 0.05;
const NUM_CLASSES = 10;
/** Seed of the held-out masks: the same for every run, so evaluations compare. */
const EVAL_MASK_SEED = 20240501;
const TRAIN_MASK_STREAM = 0x3a5c;
/** The central 2×2 patches (of the 4×4 grid), whose hiding the `'normalised'` score conditions on. */
const CENTRAL_PATCHES = [5, 6, 9, 10] as const;
/** Losses each bucket's running mean follows in the `'normalised'` score. */
const SCORE_WINDOW = 64;

/** How many of the central patches each mask hides (0 to 4), one per image. */
export function hiddenCentralPatches(masks: Uint8Array, count: number): Int32Array {
  const hidden = new Int32Array(count);
  for (let b = 0; b < count; b++) {
    for (const p of CENTRAL_PATCHES) hidden[b]! += masks[b * NUM_PATCHES + p]!;
  }
  return hidden;
}

/** MAE data: patches `[n, 16, 49]` (inputs and targets), labels for the probe. */
export interface MaeData extends TaskData {
  readonly trainPatches: tf.Tensor3D;
  readonly testPatches: tf.Tensor3D;
  /** Labels of the first `probeCount` training images. */
  readonly probeLabels: tf.Tensor1D;
  readonly testLabels: tf.Tensor1D;
  readonly probeCount: number;
  /** Fixed held-out masks, `numTest × 16` (1 = hidden). */
  readonly testMasks: Uint8Array;
}

/** Cuts `n` row-major 28×28 images into `[n, 16, 49]` patches (row-major patches, row-major pixels). */
export function patchify(images: Float32Array, n: number): Float32Array {
  const out = new Float32Array(n * NUM_PATCHES * PATCH_DIM);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < NUM_PATCHES; p++) {
      const py = Math.floor(p / GRID) * PATCH;
      const px = (p % GRID) * PATCH;
      for (let k = 0; k < PATCH_DIM; k++) {
        out[(i * NUM_PATCHES + p) * PATCH_DIM + k] = images[i * IMAGE * IMAGE + (py + Math.floor(k / PATCH)) * IMAGE + px + (k % PATCH)]!;
      }
    }
  }
  return out;
}

/** One mask per image: `MASKED` distinct patches of 16 hidden, uniformly. */
function drawMasks(random: SeededRandom, count: number): Uint8Array {
  const masks = new Uint8Array(count * NUM_PATCHES);
  const order = new Int32Array(NUM_PATCHES);
  for (let b = 0; b < count; b++) {
    for (let p = 0; p < NUM_PATCHES; p++) order[p] = p;
    for (let k = 0; k < MASKED; k++) {
      const j = k + random.nextInt(NUM_PATCHES - k);
      const t = order[k]!;
      order[k] = order[j]!;
      order[j] = t;
      masks[b * NUM_PATCHES + order[k]!] = 1;
    }
  }
  return masks;
}

/** Gather indices of a batch's masks: the visible tokens, and where each decoder position reads from. */
function maskIndices(masks: Uint8Array, batch: number): { visible: Int32Array; fill: Int32Array } {
  const visible = new Int32Array(batch * VISIBLE);
  const fill = new Int32Array(batch * NUM_PATCHES);
  const maskRow = batch * VISIBLE; // the mask token's row in concat([encoded, maskToken])
  let v = 0;
  for (let b = 0; b < batch; b++) {
    for (let p = 0; p < NUM_PATCHES; p++) {
      const i = b * NUM_PATCHES + p;
      if (masks[i] === 1) fill[i] = maskRow;
      else {
        fill[i] = v;
        visible[v++] = i;
      }
    }
  }
  return { visible, fill };
}

interface MaeParams {
  readonly embed: DenseParams;
  readonly pos: tf.Variable;
  readonly encoder: BlockParams[];
  readonly encoderNorm: LayerNormParams;
  readonly decoderEmbed: DenseParams;
  readonly maskToken: tf.Variable;
  readonly decoderPos: tf.Variable;
  readonly decoder: BlockParams;
  readonly decoderNorm: LayerNormParams;
  readonly head: DenseParams;
}

function createParams(params: ParamSet): MaeParams {
  return {
    embed: denseParams(params, PATCH_DIM, WIDTH),
    pos: params.normal([NUM_PATCHES, WIDTH], 0.02),
    encoder: Array.from({ length: DEPTH }, () => blockParams(params, WIDTH, HEADS)),
    encoderNorm: layerNormParams(params, WIDTH),
    decoderEmbed: denseParams(params, WIDTH, DECODER_WIDTH),
    maskToken: params.normal([1, DECODER_WIDTH], 0.02),
    decoderPos: params.normal([NUM_PATCHES, DECODER_WIDTH], 0.02),
    decoder: blockParams(params, DECODER_WIDTH, DECODER_HEADS),
    decoderNorm: layerNormParams(params, DECODER_WIDTH),
    head: denseParams(params, DECODER_WIDTH, PATCH_DIM),
  };
}

/** Encoder over the given tokens (`[batch, tokens, width]`, position embeddings added). */
function encode(p: MaeParams, tokens: tf.Tensor): tf.Tensor {
  let h = tokens;
  for (const block of p.encoder) h = transformerBlock(h, block);
  return layerNorm(h, p.encoderNorm);
}

/** Reconstruction `[batch, 16, 49]` of patches whose `masks` entries are 1 hidden from the encoder. */
function forward(p: MaeParams, patches: tf.Tensor, masks: Uint8Array): tf.Tensor3D {
  const batch = patches.shape[0]!;
  const { visible, fill } = maskIndices(masks, batch);
  const tokens = tf.reshape(tf.add(dense(patches, p.embed), p.pos), [batch * NUM_PATCHES, WIDTH]);
  const kept = tf.reshape(tf.gather(tokens, tf.tensor1d(visible, 'int32')), [batch, VISIBLE, WIDTH]);
  const encoded = tf.reshape(dense(encode(p, kept), p.decoderEmbed), [batch * VISIBLE, DECODER_WIDTH]);
  const filled = tf.reshape(tf.gather(tf.concat([encoded, p.maskToken], 0), tf.tensor1d(fill, 'int32')), [batch, NUM_PATCHES, DECODER_WIDTH]);
  const decoded = layerNorm(transformerBlock(tf.add(filled, p.decoderPos), p.decoder), p.decoderNorm);
  return dense(decoded, p.head) as tf.Tensor3D;
}

/** `[batch, 16, 1]` mask tensor (1 = hidden patch), broadcast over a patch's pixels by the loss. */
function maskTensor(masks: Uint8Array, batch: number): tf.Tensor3D {
  return tf.tensor3d(Float32Array.from(masks.subarray(0, batch * NUM_PATCHES)), [batch, NUM_PATCHES, 1]);
}

/** Mean-pooled encoder features `[batch, 64]` with every patch visible. */
function features(p: MaeParams, patches: tf.Tensor): tf.Tensor2D {
  return tf.mean(encode(p, tf.add(dense(patches, p.embed), p.pos)), 1) as tf.Tensor2D;
}

/** The per-sample loss: MSE over the pixels of the hidden patches only. */
function maeLoss(patches: tf.Tensor, reconstruction: tf.Tensor, masks: Uint8Array): tf.Tensor1D {
  return tf.tidy(() => meanSquaredError(patches, reconstruction, maskTensor(masks, patches.shape[0]!)));
}

/** Features of `patches` in chunks, as one `[n, 64]` tensor. */
function allFeatures(p: MaeParams, patches: tf.Tensor3D, count: number, chunk = 1000): tf.Tensor2D {
  const parts: tf.Tensor2D[] = [];
  for (let start = 0; start < count; start += chunk) {
    const size = Math.min(chunk, count - start);
    parts.push(tf.tidy(() => features(p, tf.slice(patches, start, size))));
  }
  const out = tf.concat(parts, 0);
  tf.dispose(parts);
  return out;
}

/** Linear probe: standardised features, softmax regression by full-batch Adam; returns held-out accuracy. */
async function linearProbe(p: MaeParams, data: MaeData): Promise<number> {
  const trainFeatures = allFeatures(p, data.trainPatches, data.probeCount);
  const testFeatures = allFeatures(p, data.testPatches, data.numTest);
  const { mean, variance } = tf.moments(trainFeatures, 0);
  const scale = tf.tidy(() => tf.rsqrt(tf.add(variance, 1e-6)));
  const xTrain = tf.tidy(() => tf.mul(tf.sub(trainFeatures, mean), scale));
  const xTest = tf.tidy(() => tf.mul(tf.sub(testFeatures, mean), scale));
  tf.dispose([trainFeatures, testFeatures, mean, variance, scale]);
  const probe = new ParamSet(0);
  const w = probe.zeros([WIDTH, NUM_CLASSES]);
  const b = probe.zeros([NUM_CLASSES]);
  const optimizer = tf.train.adam(PROBE_LR);
  try {
    for (let step = 0; step < PROBE_STEPS; step++) {
      tf.tidy(() => {
        optimizer.minimize(() => tf.mean(sparseSoftmaxCrossEntropy(data.probeLabels, tf.add(tf.matMul(xTrain, w), b))) as tf.Scalar, false, [w, b]);
      });
    }
    const correct = tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(tf.add(tf.matMul(xTest, w), b), 1), data.testLabels), 'float32')));
    const value = (await correct.data())[0]!;
    correct.dispose();
    return value / data.numTest;
  } finally {
    probe.dispose();
    tf.dispose([xTrain, xTest]);
    optimizer.dispose();
  }
}

class MaeRun implements TaskRun {
  readonly setupSeconds = 0;
  readonly model: TrainableModel;
  private readonly params: ParamSet;
  private readonly p: MaeParams;
  private readonly random: SeededRandom;
  /**
   * The masks of the last forward pass, read by `loss` for the same batch. The mask cannot travel
   * inside the output tensor: sliced from it, it would sit on the model's gradient path, and the
   * masked mean's `count > 0` test has no gradient.
   */
  private lastMasks: Uint8Array = new Uint8Array(0);
  readonly score?: (yTrue: tf.Tensor, yPred: tf.Tensor, perSampleLoss: tf.Tensor) => BatchScores;

  constructor(
    private readonly data: MaeData,
    seed: number,
    scoring: TaskScoring,
  ) {
    if (scoring === 'normalised') {
      const ncs = new NoiseConditionedScore({ buckets: CENTRAL_PATCHES.length + 1, window: SCORE_WINDOW });
      // Called right after `loss` for the same batch, whose forward pass drew `lastMasks`.
      this.score = (yTrue) => {
        const count = yTrue.shape[0]!;
        if (this.lastMasks.length !== count * NUM_PATCHES) {
          throw new InfoBatchError('INVALID_STATE', `MAE score called for a batch of ${count} without a forward pass of that batch first.`);
        }
        const buckets = hiddenCentralPatches(this.lastMasks, count);
        return (losses) => ncs.score(losses, buckets);
      };
    }
    this.params = new ParamSet(seed);
    this.p = createParams(this.params);
    this.random = SeededRandom.derive(seed, TRAIN_MASK_STREAM);
    // Training: a fresh random mask per image and step. Inference: masks of a constant seed.
    const run = (x: tf.Tensor, random: SeededRandom): tf.Tensor => {
      this.lastMasks = drawMasks(random, x.shape[0]!);
      return forward(this.p, x, this.lastMasks);
    };
    this.model = {
      trainableWeights: this.params.variables,
      apply: (x: tf.Tensor, kwargs: { training: boolean }) => run(x, kwargs.training ? this.random : SeededRandom.derive(EVAL_MASK_SEED, 1)),
      predict: (x: tf.Tensor) => run(x, SeededRandom.derive(EVAL_MASK_SEED, 1)),
    };
  }

  loss(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
    if (this.lastMasks.length !== yTrue.shape[0]! * NUM_PATCHES) {
      throw new InfoBatchError('INVALID_STATE', `MAE loss called for a batch of ${yTrue.shape[0]} without a forward pass of that batch first.`);
    }
    return maeLoss(yTrue, yPred, this.lastMasks);
  }

  async evaluate(): Promise<TaskEvaluation> {
    const { testPatches, testMasks, numTest } = this.data;
    let total = tf.scalar(0);
    const chunk = 1000;
    for (let start = 0; start < numTest; start += chunk) {
      const size = Math.min(chunk, numTest - start);
      const next = tf.tidy(() => {
        const patches = tf.slice(testPatches, start, size);
        const masks = testMasks.subarray(start * NUM_PATCHES, (start + size) * NUM_PATCHES);
        return tf.add(total, tf.sum(maeLoss(patches, forward(this.p, patches, masks), masks)));
      });
      total.dispose();
      total = next as tf.Scalar;
    }
    const loss = (await total.data())[0]! / numTest;
    total.dispose();
    const accuracy = await linearProbe(this.p, this.data);
    return { metric: { ...maeTask.metric, value: accuracy }, loss };
  }

  dispose(): void {
    this.params.dispose();
  }
}

/** The MAE task (see the module comment). */
export const maeTask: Task<MaeData> = {
  name: 'mae',
  title: 'masked-autoencoder pretraining on Fashion-MNIST, judged by a linear probe',
  dataset: 'fashion-mnist',
  model: `mae-vit (patch ${PATCH}, encoder ${DEPTH}x${WIDTH}, decoder 1x${DECODER_WIDTH})`,
  metric: { name: 'linear-probe accuracy', higherIsBetter: true, percent: true },
  defaults: { epochs: 8, batchSize: 64, learningRate: 3e-3, trainLimit: 12000, testLimit: 2000 },
  recipe: { patch: PATCH, maskRatio: MASKED / NUM_PATCHES, width: WIDTH, depth: DEPTH, decoderWidth: DECODER_WIDTH, probeSamples: PROBE_SAMPLES, probeSteps: PROBE_STEPS, optimizer: 'adam' },
  dataFolders: ['fashion-mnist'],
  scorings: ['normalised'],

  async load(options: TaskLoadOptions = {}): Promise<MaeData> {
    const { dataDir = join('..', 'shared', 'data') } = options;
    const { train, test } = await loadBenchDataset('fashion-mnist', { ...options, dataDir: join(dataDir, 'fashion-mnist') });
    const probeCount = Math.min(PROBE_SAMPLES, train.numSamples);
    const trainPatches = tf.tensor3d(patchify(train.x, train.numSamples), [train.numSamples, NUM_PATCHES, PATCH_DIM]);
    const testPatches = tf.tensor3d(patchify(test.x, test.numSamples), [test.numSamples, NUM_PATCHES, PATCH_DIM]);
    const probeLabels = tf.tensor1d(train.y.subarray(0, probeCount), 'int32');
    const testLabels = tf.tensor1d(test.y, 'int32');
    return {
      train: { x: trainPatches, y: trainPatches },
      numTrain: train.numSamples,
      numTest: test.numSamples,
      trainPatches,
      testPatches,
      probeLabels,
      testLabels,
      probeCount,
      testMasks: drawMasks(SeededRandom.derive(EVAL_MASK_SEED, 0), test.numSamples),
      dispose: () => tf.dispose([trainPatches, testPatches, probeLabels, testLabels]),
    };
  },

  async createRun(data: MaeData, options: TaskRunSetup): Promise<TaskRun> {
    return new MaeRun(data, options.seed, options.score ?? 'loss');
  },
};
