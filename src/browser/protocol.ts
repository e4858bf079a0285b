/** Messages between the page (main.ts) and the training worker (worker.ts). Types only. */
import type { ModelKind } from '../experiments/models.js';
import type { EpochRecord, RunResult } from '../experiments/results.js';
import type { BackendName } from '../tfjs/backend.js';

/** The two runs of the demo, in the order they train. */
export type RunName = 'full' | 'infobatch';

/** What to train: the embedded Fashion-MNIST subset (served as data/), the built-in synthetic data, or IDX files the user picked. */
export type DatasetChoice = { readonly kind: 'embedded' } | { readonly kind: 'synthetic' } | { readonly kind: 'idx'; readonly files: readonly File[] };

/** Settings of one demo (two runs). */
export interface DemoConfig {
  readonly dataset: DatasetChoice;
  readonly epochs: number;
  /** Training samples (synthetic: generated; IDX: the first N of the training file). */
  readonly samples: number;
  /** Test samples (synthetic: generated; IDX: the first N of the test file). */
  readonly testSamples: number;
  readonly seed: number;
  /** Omitted: 'cnn' for images, 'mlp' for feature vectors. */
  readonly model?: ModelKind;
  /** Backends to try, in order. */
  readonly backends: readonly BackendName[];
}

/** Page → worker. */
export type ToWorker = { readonly type: 'start'; readonly config: DemoConfig };

/** Worker → page. */
export type FromWorker =
  | { readonly type: 'backend'; readonly name: BackendName }
  | { readonly type: 'dataset'; readonly description: string; readonly numSamples: number; readonly numTest: number; readonly model: ModelKind }
  /** `numTensors`: `tf.memory().numTensors` in the worker after the epoch (the end-to-end tests check it stays flat). */
  | { readonly type: 'epoch'; readonly run: RunName; readonly record: EpochRecord; readonly numTensors: number }
  | { readonly type: 'run'; readonly run: RunName; readonly result: RunResult }
  | { readonly type: 'done' }
  | { readonly type: 'error'; readonly message: string };
