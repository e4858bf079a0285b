/**
 * scikit-learn's bundled toy datasets (iris, wine, breast cancer) from the CSV files of the
 * shared data folder (`sklearn-toy/`, see its SOURCE.md), and the tiny models the fit-parity
 * bench and tests train on them.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The folder holding the toy CSV files, beside the repository. */
export const SKLEARN_TOY_DIR = join('..', 'shared', 'data', 'sklearn-toy');

/** A toy classification set: standardised features (zero mean, unit variance per column) and class ids. */
export interface ToyDataset {
  readonly features: Float32Array;
  readonly labels: Int32Array;
  readonly numSamples: number;
  readonly numFeatures: number;
  readonly classes: readonly string[];
}

/** Whether `<name>.csv` is in the folder. */
export function hasToyDataset(name: string, dir = SKLEARN_TOY_DIR): boolean {
  return existsSync(join(dir, `${name}.csv`));
}

/**
 * Reads scikit-learn's CSV layout: a header `n_samples,n_features,<class names...>`, then one row
 * of features and an integer class per sample. Features are standardised per column.
 */
export function loadToyDataset(name: string, dir = SKLEARN_TOY_DIR): ToyDataset {
  const path = join(dir, `${name}.csv`);
  const lines = readFileSync(path, 'utf8').trim().split(/\r?\n/);
  const header = lines[0]!.split(',');
  const numSamples = Number(header[0]);
  const numFeatures = Number(header[1]);
  const classes = header.slice(2);
  if (!(numSamples > 0 && numFeatures > 0) || lines.length - 1 !== numSamples) {
    throw new Error(`${path}: expected the header n_samples,n_features,classes... and ${header[0]} rows, got ${lines.length - 1} rows`);
  }
  const features = new Float32Array(numSamples * numFeatures);
  const labels = new Int32Array(numSamples);
  lines.slice(1).forEach((line, i) => {
    const cells = line.split(',').map(Number);
    if (cells.length !== numFeatures + 1 || cells.some((v) => !Number.isFinite(v))) throw new Error(`${path}: row ${i + 2} is not ${numFeatures} numbers and a class`);
    features.set(cells.slice(0, numFeatures), i * numFeatures);
    labels[i] = cells[numFeatures]!;
  });
  for (let j = 0; j < numFeatures; j++) {
    let mean = 0;
    for (let i = 0; i < numSamples; i++) mean += features[i * numFeatures + j]!;
    mean /= numSamples;
    let variance = 0;
    for (let i = 0; i < numSamples; i++) variance += (features[i * numFeatures + j]! - mean) ** 2;
    const std = Math.sqrt(variance / numSamples) || 1;
    for (let i = 0; i < numSamples; i++) features[i * numFeatures + j] = (features[i * numFeatures + j]! - mean) / std;
  }
  return { features, labels, numSamples, numFeatures, classes };
}

/** The dataset as tensors: `x` `[n, features]`, `y` one-hot `[n, classes]`. */
export function toyTensors(data: ToyDataset): { x: tf.Tensor2D; y: tf.Tensor2D } {
  return tf.tidy(() => ({
    x: tf.tensor2d(data.features, [data.numSamples, data.numFeatures]),
    y: tf.oneHot(tf.tensor1d(data.labels, 'int32'), data.classes.length).toFloat() as tf.Tensor2D,
  }));
}

/** A tiny MLP (features → `hidden` relu → softmax), seeded, compiled with `optimizer`, categorical cross-entropy and accuracy. */
export function tinyMlp(numFeatures: number, numClasses: number, seed: number, optimizer: tf.Optimizer | string = 'adam', hidden = 16): tf.Sequential {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [numFeatures], units: hidden, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 10 + 1 }) }),
      tf.layers.dense({ units: numClasses, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 10 + 2 }) }),
    ],
  });
  model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}
