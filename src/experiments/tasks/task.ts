/**
 * The `Task` abstraction: what the harness needs to train and judge one task family (masked
 * autoencoding, diffusion, language-model fine-tuning, segmentation…) with InfoBatch.
 *
 * A task loads its data once per bench ({@link Task.load}); each run then gets a fresh model from
 * {@link Task.createRun}, trained by `trainWithInfoBatch` on `data.train` with the run's per-sample
 * `loss`, and judged after every epoch by `evaluate`, which returns the task's primary metric.
 * Stochastic corruption that a task draws per step (MAE patch masks, diffusion noise and timesteps)
 * lives in the run's training-mode forward pass, drawn from a generator seeded by the run's seed,
 * so a run is reproducible. What the loss needs besides the targets either travels in the output
 * (diffusion returns the predicted and the true noise) or, when it must stay off the gradient path
 * (the MAE mask, whose masked mean has a non-differentiable `count > 0` test), is kept by the run
 * for the loss of the same batch.
 */
import type * as tf from '@tensorflow/tfjs';
import type { BatchScores, TrainableModel, TrainingData } from '../../tfjs/index.js';

/** Names of the task families `bench --task` knows. */
export const TASK_NAMES = ['mae', 'diffusion', 'lm', 'segmentation'] as const;
/** One of {@link TASK_NAMES}. */
export type TaskName = (typeof TASK_NAMES)[number];

/**
 * What InfoBatch ranks a run's samples by (the bench's `:score=` variant): `'loss'`, the training
 * loss, as in the paper; `'normalised'`, the loss divided by the running mean loss at the noise
 * level the visit drew (a `NoiseConditionedScore`), for tasks whose loss follows randomness drawn
 * per visit (diffusion timesteps, MAE masks). The objective is the loss either way.
 */
export const TASK_SCORINGS = ['loss', 'normalised'] as const;
/** One of {@link TASK_SCORINGS}. */
export type TaskScoring = (typeof TASK_SCORINGS)[number];

/** Options of {@link Task.createRun}. */
export interface TaskRunSetup {
  /** Seed of the initial weights and of the per-step randomness. */
  readonly seed: number;
  /**
   * How the run scores its samples; a task offers the scorings in {@link Task.scorings}.
   * @defaultValue 'loss'
   */
  readonly score?: TaskScoring;
}

/** The primary metric of a task: its name and direction (written into results as `config.metric`). */
export interface TaskMetricInfo {
  /** Shown in reports, e.g. `'linear-probe accuracy'`. */
  readonly name: string;
  /** Whether larger values are better. */
  readonly higherIsBetter: boolean;
  /** The value is a fraction in [0, 1], shown in % (differences in points). */
  readonly percent?: boolean;
}

/** A metric value with its name and direction. */
export interface TaskMetricValue extends TaskMetricInfo {
  readonly value: number;
}

/** What {@link TaskRun.evaluate} returns. */
export interface TaskEvaluation {
  /** The primary metric on held-out data. */
  readonly metric: TaskMetricValue;
  /** The task's loss on held-out data (what the per-sample training loss measures). */
  readonly loss: number;
}

/** A file a run produces besides its numbers (e.g. a PNG grid of diffusion samples). */
export interface TaskArtifact {
  /** File name, no folders (e.g. `'samples.png'`); a `.png` is also embedded in the HTML report. */
  readonly file: string;
  /** What it shows, one line. */
  readonly caption: string;
  readonly bytes: Uint8Array;
}

/** Sizes and optimiser settings a task trains with unless told otherwise. */
export interface TaskDefaults {
  readonly epochs: number;
  readonly batchSize: number;
  /** Peak learning rate of Adam (cosine schedule over the epochs). */
  readonly learningRate: number;
  /** Training samples used (a prefix of the training set); undefined uses them all. */
  readonly trainLimit?: number;
  /** Held-out samples used; undefined uses them all. */
  readonly testLimit?: number;
}

/** Options of {@link Task.load}. */
export interface TaskLoadOptions {
  /** Folder holding the datasets' folders (`fashion-mnist/`, `mnist/`, `tiny-shakespeare/`, …). @defaultValue `../shared/data` */
  readonly dataDir?: string;
  /** Keep only the first N training samples. */
  readonly trainLimit?: number;
  /** Keep only the first N held-out samples. */
  readonly testLimit?: number;
}

/** A task's data, uploaded once and shared by every run of a bench. */
export interface TaskData {
  /** Training inputs and targets, samples along axis 0 (`x` and `y` may be the same tensor). */
  readonly train: TrainingData;
  /** Number of training samples (`train.x.shape[0]`). */
  readonly numTrain: number;
  /** Number of held-out samples. */
  readonly numTest: number;
  /** Frees the tensors. */
  dispose(): void;
}

/** One run's model with its loss and evaluation. */
export interface TaskRun {
  /** The model `trainWithInfoBatch` trains. */
  readonly model: TrainableModel;
  /** Per-sample loss, shape `[batch]`, from `infobatch/tfjs`'s helpers. */
  loss(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor;
  /**
   * What to record as the samples' scores instead of the loss (`trainWithInfoBatch`'s `score`),
   * called right after `loss` for the same batch; present when the run was created with a scoring
   * other than `'loss'`.
   */
  score?(yTrue: tf.Tensor, yPred: tf.Tensor, perSampleLoss: tf.Tensor): BatchScores;
  /** Held-out metric and loss of the model as it is now (deterministic: fixed seeded masks/noise). */
  evaluate(): Promise<TaskEvaluation>;
  /** Files to keep after training (optional). */
  artifacts?(): Promise<TaskArtifact[]>;
  /** Seconds spent preparing the model before training (e.g. LM pretraining), 0 when none. */
  readonly setupSeconds: number;
  /** Frees the model's variables and any tensors it holds. */
  dispose(): void;
}

/**
 * A task family. `D` is the task's own data type; the harness only uses the {@link TaskData} part.
 * Methods (not function properties) so that a `Task<MaeData>` is usable as a `Task`.
 */
export interface Task<D extends TaskData = TaskData> {
  readonly name: TaskName;
  /** One line for help texts and reports. */
  readonly title: string;
  /** Dataset label written into results (`config.dataset`). */
  readonly dataset: string;
  /** Model label written into results (`config.model`). */
  readonly model: string;
  readonly metric: TaskMetricInfo;
  readonly defaults: TaskDefaults;
  /** The task's fixed settings (patch size, mask ratio, diffusion steps…), written into results as `config.recipe`. */
  readonly recipe: Readonly<Record<string, number | string | boolean>>;
  /** Folders under `dataDir` the task reads; empty for generated data. */
  readonly dataFolders: readonly string[];
  /** Scorings the task offers besides `'loss'` (see {@link TaskScoring}); none when absent. */
  readonly scorings?: readonly TaskScoring[];
  /** Loads and uploads the data. */
  load(options?: TaskLoadOptions): Promise<D>;
  /** A fresh model whose initial weights depend on `seed` alone. */
  createRun(data: D, options: TaskRunSetup): Promise<TaskRun>;
}
