/**
 * DDPM-style diffusion on MNIST downscaled to 14×14 (Ho et al., 2020, at toy scale).
 *
 * Images are averaged 2×2 to 14×14 and scaled to [−1, 1]. The forward process has `T = 200` steps
 * with betas linear from 1e-4 to 0.08 (ᾱ_T ≈ 3e-4). Every training step draws, per image, a
 * timestep uniform in [0, T) and Gaussian noise ε from a generator seeded by the run's seed,
 * forms `x_t = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε`, and the denoiser predicts ε. The denoiser is an MLP of width
 * 256 with 3 residual blocks; a sinusoidal timestep embedding, passed through a small MLP, is added
 * to the input projection and to every block's input. The per-sample loss is the noise-prediction
 * error `meanSquaredError(ε, ε̂)` over the 196 pixels.
 *
 * Scoring (`createRun`'s `score`): `'loss'` records that error as the sample's score, as the paper
 * does; but each visit draws a new timestep and noise and the error follows those, not the image
 * (rank correlation between consecutive epochs 0.00), so InfoBatch then prunes at random.
 * `'normalised'` records the error divided by the running mean error of the timestep's bucket
 * (a {@link NoiseConditionedScore} of {@link SCORE_BUCKETS} buckets of 10 timesteps, window
 * {@link SCORE_WINDOW}), which removes the timestep's share of the error.
 *
 * Evaluation (primary metric, lower is better): the same error on held-out images with timesteps
 * and noise drawn once from a constant seed, identical for every run. Artifact: an 8×8 grid of
 * samples (ancestral sampling from constant-seed noise) as a PNG.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { InfoBatchError } from '../../core/errors.js';
import { NoiseConditionedScore } from '../../core/noise-conditioned-score.js';
import { SeededRandom } from '../../core/random.js';
import type { Dataset } from '../../data/dataset.js';
import { meanSquaredError, type BatchScores, type TrainableModel } from '../../tfjs/index.js';
import { loadBenchDataset } from '../datasets.js';
import { dense, denseParams, layerNorm, layerNormParams, ParamSet, sinusoidalEmbedding, type DenseParams, type LayerNormParams } from './layers.js';
import { encodeGreyPng, tileGrid } from './png.js';
import type { Task, TaskArtifact, TaskData, TaskEvaluation, TaskLoadOptions, TaskRun, TaskRunSetup, TaskScoring } from './task.js';

const SIDE = 14;
const PIXELS = SIDE * SIDE;
const STEPS = 200;
const BETA_START = 1e-4;
const BETA_END = 0.08;
const WIDTH = 256;
const BLOCKS = 3;
const TIME_WIDTH = 64;
const SAMPLES = 64;
/** Seed of the held-out timesteps and noise and of the sampling noise: constant, so runs compare. */
const EVAL_SEED = 20240502;
const TRAIN_NOISE_STREAM = 0xd1ff;
/** Timestep buckets of the `'normalised'` score: 10 timesteps each. */
export const SCORE_BUCKETS = 20;
/**
 * Losses each bucket's running mean follows in the `'normalised'` score. Short, because the loss
 * falls within an epoch: measured on 5,000 images over 5 epochs, a window of 32 kept a rank
 * correlation of 0.07 between epochs, 256 only 0.02 (one bucket per timestep: 0.00).
 */
export const SCORE_WINDOW = 32;

/** The noise schedule: betas, alphas and cumulative products ᾱ. */
export interface NoiseSchedule {
  readonly betas: Float64Array;
  readonly alphas: Float64Array;
  readonly alphaBars: Float64Array;
}

/** Linear beta schedule of `steps` steps from `start` to `end`. */
export function linearSchedule(steps = STEPS, start = BETA_START, end = BETA_END): NoiseSchedule {
  const betas = new Float64Array(steps);
  const alphas = new Float64Array(steps);
  const alphaBars = new Float64Array(steps);
  let product = 1;
  for (let t = 0; t < steps; t++) {
    betas[t] = start + ((end - start) * t) / (steps - 1);
    alphas[t] = 1 - betas[t]!;
    product *= alphas[t]!;
    alphaBars[t] = product;
  }
  return { betas, alphas, alphaBars };
}

const SCHEDULE = linearSchedule();

/** Averages 2×2 blocks of `n` 28×28 images into 14×14 and maps [0, 1] to [−1, 1]. */
export function downscale(ds: Dataset): Float32Array {
  const n = ds.numSamples;
  const out = new Float32Array(n * PIXELS);
  for (let i = 0; i < n; i++) {
    for (let y = 0; y < SIDE; y++) {
      for (let x = 0; x < SIDE; x++) {
        const base = i * 784 + 2 * y * 28 + 2 * x;
        const mean = (ds.x[base]! + ds.x[base + 1]! + ds.x[base + 28]! + ds.x[base + 29]!) / 4;
        out[i * PIXELS + y * SIDE + x] = 2 * mean - 1;
      }
    }
  }
  return out;
}

/** One batch's corruption: per-sample timesteps (as embeddings and coefficients) and noise, drawn on the CPU. */
interface Corruption {
  /** `√ᾱ_t` per sample. */
  readonly signal: Float32Array;
  /** `√(1 − ᾱ_t)` per sample. */
  readonly spread: Float32Array;
  /** `count × 196` standard normal draws. */
  readonly noise: Float32Array;
  /** `count × 64` sinusoidal embeddings of the timesteps. */
  readonly embedding: Float32Array;
  /** The timesteps, one per sample. */
  readonly steps: Int32Array;
}

function drawCorruption(count: number, random: SeededRandom): Corruption {
  const signal = new Float32Array(count);
  const spread = new Float32Array(count);
  const noise = new Float32Array(count * PIXELS);
  const steps = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const t = random.nextInt(STEPS);
    steps[i] = t;
    signal[i] = Math.sqrt(SCHEDULE.alphaBars[t]!);
    spread[i] = Math.sqrt(1 - SCHEDULE.alphaBars[t]!);
    for (let k = 0; k < PIXELS; k++) noise[i * PIXELS + k] = random.nextGaussian();
  }
  return { signal, spread, noise, embedding: sinusoidalEmbedding(steps, TIME_WIDTH), steps };
}

/** `x_t = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε` on the device, with the noise tensor. */
function noisy(x0: tf.Tensor, c: Corruption): { xt: tf.Tensor2D; noise: tf.Tensor2D; embedding: tf.Tensor2D } {
  const count = x0.shape[0]!;
  const noise = tf.tensor2d(c.noise, [count, PIXELS]);
  const xt = tf.add(tf.mul(x0, tf.tensor2d(c.signal, [count, 1])), tf.mul(noise, tf.tensor2d(c.spread, [count, 1]))) as tf.Tensor2D;
  return { xt, noise, embedding: tf.tensor2d(c.embedding, [count, TIME_WIDTH]) };
}

/** Diffusion data: clean images `[n, 196]` in [−1, 1], and the fixed held-out corruption. */
export interface DiffusionData extends TaskData {
  readonly images: tf.Tensor2D;
  readonly testNoisy: tf.Tensor2D;
  readonly testNoise: tf.Tensor2D;
  readonly testEmbedding: tf.Tensor2D;
}

interface DenoiserParams {
  readonly time1: DenseParams;
  readonly time2: DenseParams;
  readonly input: DenseParams;
  readonly blocks: { norm: LayerNormParams; fc1: DenseParams; fc2: DenseParams }[];
  readonly outNorm: LayerNormParams;
  readonly output: DenseParams;
}

function createParams(params: ParamSet): DenoiserParams {
  return {
    time1: denseParams(params, TIME_WIDTH, WIDTH),
    time2: denseParams(params, WIDTH, WIDTH),
    input: denseParams(params, PIXELS, WIDTH),
    blocks: Array.from({ length: BLOCKS }, () => ({ norm: layerNormParams(params, WIDTH), fc1: denseParams(params, WIDTH, 2 * WIDTH), fc2: denseParams(params, 2 * WIDTH, WIDTH) })),
    outNorm: layerNormParams(params, WIDTH),
    output: denseParams(params, WIDTH, PIXELS),
  };
}

/** Predicted noise `[batch, 196]` from noisy images and timestep embeddings. */
function denoise(p: DenoiserParams, xt: tf.Tensor, embedding: tf.Tensor): tf.Tensor2D {
  const time = dense(tf.relu(dense(embedding, p.time1)), p.time2);
  let h = tf.add(dense(xt, p.input), time);
  for (const block of p.blocks) {
    h = tf.add(h, dense(tf.relu(dense(tf.add(layerNorm(h, block.norm), time), block.fc1)), block.fc2));
  }
  return dense(layerNorm(h, p.outNorm), p.output) as tf.Tensor2D;
}

/** The per-sample loss: `yPred` is `[batch, 2, 196]`, predicted noise then true noise. */
function diffusionLoss(_yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => {
    const [predicted, noise] = tf.unstack(yPred, 1) as [tf.Tensor2D, tf.Tensor2D];
    return meanSquaredError(noise, predicted);
  });
}

class DiffusionRun implements TaskRun {
  readonly setupSeconds = 0;
  readonly model: TrainableModel;
  private readonly params: ParamSet;
  private readonly p: DenoiserParams;
  private readonly random: SeededRandom;
  /** The timesteps of the last forward pass, one per sample: what the score of that batch is conditioned on. */
  private lastSteps: Int32Array = new Int32Array(0);
  readonly score?: (yTrue: tf.Tensor, yPred: tf.Tensor, perSampleLoss: tf.Tensor) => BatchScores;

  constructor(
    private readonly data: DiffusionData,
    seed: number,
    scoring: TaskScoring,
  ) {
    if (scoring === 'normalised') {
      const ncs = new NoiseConditionedScore({ buckets: SCORE_BUCKETS, range: [0, STEPS], window: SCORE_WINDOW });
      // Called right after the loss of the batch whose forward pass drew `lastSteps`; the scores
      // are computed when its losses are read, in step order.
      this.score = (_yTrue, yPred) => {
        const buckets = ncs.bucketsOf(this.lastSteps);
        if (buckets.length !== yPred.shape[0]) {
          throw new InfoBatchError('INVALID_STATE', `diffusion score called for a batch of ${yPred.shape[0]} without a forward pass of that batch first.`);
        }
        return (losses) => ncs.score(losses, buckets);
      };
    }
    this.params = new ParamSet(seed);
    this.p = createParams(this.params);
    this.random = SeededRandom.derive(seed, TRAIN_NOISE_STREAM);
    // Training: fresh timesteps and noise every step. Inference: a constant seed.
    const run = (x: tf.Tensor, random: SeededRandom): tf.Tensor => {
      const corruption = drawCorruption(x.shape[0]!, random);
      this.lastSteps = corruption.steps;
      const { xt, noise, embedding } = noisy(x, corruption);
      return tf.stack([denoise(this.p, xt, embedding), noise], 1);
    };
    this.model = {
      trainableWeights: this.params.variables,
      apply: (x: tf.Tensor, kwargs: { training: boolean }) => run(x, kwargs.training ? this.random : SeededRandom.derive(EVAL_SEED, 1)),
      predict: (x: tf.Tensor) => run(x, SeededRandom.derive(EVAL_SEED, 1)),
    };
  }

  loss(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
    return diffusionLoss(yTrue, yPred);
  }

  async evaluate(): Promise<TaskEvaluation> {
    const { testNoisy, testNoise, testEmbedding, numTest } = this.data;
    let total = tf.scalar(0);
    const chunk = 1000;
    for (let start = 0; start < numTest; start += chunk) {
      const size = Math.min(chunk, numTest - start);
      const next = tf.tidy(() => {
        const predicted = denoise(this.p, tf.slice(testNoisy, start, size), tf.slice(testEmbedding, start, size));
        return tf.add(total, tf.sum(meanSquaredError(tf.slice(testNoise, start, size), predicted)));
      });
      total.dispose();
      total = next as tf.Scalar;
    }
    const loss = (await total.data())[0]! / numTest;
    total.dispose();
    return { metric: { ...diffusionTask.metric, value: loss }, loss };
  }

  /** Ancestral sampling (x̂₀ clipped to [−1, 1]) of 64 images from constant-seed noise, as an 8×8 PNG grid. */
  async artifacts(): Promise<TaskArtifact[]> {
    const random = SeededRandom.derive(EVAL_SEED, 2);
    const gaussian = (n: number): Float32Array => Float32Array.from({ length: n }, () => random.nextGaussian());
    let x = tf.tensor2d(gaussian(SAMPLES * PIXELS), [SAMPLES, PIXELS]);
    for (let t = STEPS - 1; t >= 0; t--) {
      const z = t > 0 ? gaussian(SAMPLES * PIXELS) : undefined;
      const next = tf.tidy(() => {
        const embedding = tf.tensor2d(sinusoidalEmbedding(new Int32Array(SAMPLES).fill(t), TIME_WIDTH), [SAMPLES, TIME_WIDTH]);
        const eps = denoise(this.p, x, embedding);
        // Posterior q(x_{t-1} | x_t, x̂₀) with x̂₀ clipped to the data range (DDPM's "clip denoised").
        const alphaBar = SCHEDULE.alphaBars[t]!;
        const previous = t > 0 ? SCHEDULE.alphaBars[t - 1]! : 1;
        const beta = SCHEDULE.betas[t]!;
        const x0 = tf.clipByValue(tf.div(tf.sub(x, tf.mul(eps, Math.sqrt(1 - alphaBar))), Math.sqrt(alphaBar)), -1, 1);
        const mean = tf.add(tf.mul(x0, (beta * Math.sqrt(previous)) / (1 - alphaBar)), tf.mul(x, ((1 - previous) * Math.sqrt(SCHEDULE.alphas[t]!)) / (1 - alphaBar)));
        const variance = (beta * (1 - previous)) / (1 - alphaBar);
        return z === undefined ? mean : tf.add(mean, tf.mul(tf.tensor2d(z, [SAMPLES, PIXELS]), Math.sqrt(variance)));
      });
      x.dispose();
      x = next as tf.Tensor2D;
    }
    const values = await x.data();
    x.dispose();
    const tiles = Float32Array.from(values, (v) => (v + 1) / 2);
    const grid = tileGrid(tiles, SAMPLES, SIDE, 8, 2);
    return [{ file: 'samples.png', caption: `${SAMPLES} samples (ancestral sampling, ${STEPS} steps, fixed seed)`, bytes: encodeGreyPng(grid.pixels, grid.width, grid.height) }];
  }

  dispose(): void {
    this.params.dispose();
  }
}

/** The diffusion task (see the module comment). */
export const diffusionTask: Task<DiffusionData> = {
  name: 'diffusion',
  title: 'DDPM noise prediction on MNIST 14x14, judged by held-out denoising error',
  dataset: 'mnist-14x14',
  model: `mlp-denoiser (width ${WIDTH}, ${BLOCKS} residual blocks, sinusoidal timestep embedding)`,
  metric: { name: 'held-out denoising MSE', higherIsBetter: false },
  defaults: { epochs: 8, batchSize: 64, learningRate: 3e-3, trainLimit: 10000, testLimit: 2000 },
  recipe: { side: SIDE, steps: STEPS, betaStart: BETA_START, betaEnd: BETA_END, width: WIDTH, blocks: BLOCKS, optimizer: 'adam' },
  dataFolders: ['mnist'],
  scorings: ['normalised'],

  async load(options: TaskLoadOptions = {}): Promise<DiffusionData> {
    const { dataDir = join('..', 'shared', 'data') } = options;
    const { train, test } = await loadBenchDataset('mnist', { ...options, dataDir: join(dataDir, 'mnist') });
    const images = tf.tensor2d(downscale(train), [train.numSamples, PIXELS]);
    const clean = tf.tensor2d(downscale(test), [test.numSamples, PIXELS]);
    const corruption = drawCorruption(test.numSamples, SeededRandom.derive(EVAL_SEED, 0));
    const held = tf.tidy(() => noisy(clean, corruption));
    clean.dispose();
    const { xt: testNoisy, noise: testNoise, embedding: testEmbedding } = held;
    return {
      train: { x: images, y: images },
      numTrain: train.numSamples,
      numTest: test.numSamples,
      images,
      testNoisy,
      testNoise,
      testEmbedding,
      dispose: () => tf.dispose([images, testNoisy, testNoise, testEmbedding]),
    };
  },

  async createRun(data: DiffusionData, options: TaskRunSetup): Promise<TaskRun> {
    return new DiffusionRun(data, options.seed, options.score ?? 'loss');
  },
};
