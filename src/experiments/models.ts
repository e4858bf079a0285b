import * as tf from '@tensorflow/tfjs';
import { InfoBatchError } from '../core/errors.js';

/** Model families the experiments train. */
export type ModelKind = 'cnn' | 'mlp';

/** Options of {@link createModel}. */
export interface ModelOptions {
  /** Shape of one sample (e.g. `[28, 28, 1]`, or `[32]` for feature vectors). */
  readonly inputShape: readonly number[];
  /** Number of classes of the output layer. */
  readonly numClasses: number;
  /** Seed of the weight initialisers: the same seed gives the same initial weights. */
  readonly seed: number;
  /**
   * L2 factor on kernels; tfjs adds `l2·Σw²`, so `weightDecay / 2` gives SGD weight decay.
   * @defaultValue 0
   */
  readonly l2?: number;
  /**
   * Hidden units of the MLP.
   * @defaultValue 128
   */
  readonly hiddenUnits?: number;
}

/**
 * The benchmark recipe's models, with seeded initialisers. `cnn`: conv 3×3×8, ReLU, max-pool 2,
 * conv 3×3×16, ReLU, max-pool 2, flatten, dense; `mlp`: dense(hidden, ReLU), dense.
 * The output is logits (no softmax).
 */
export function createModel(kind: ModelKind, options: ModelOptions): tf.Sequential {
  const { inputShape, numClasses, seed, l2 = 0, hiddenUnits = 128 } = options;
  let layer = 0;
  const kernel = () => tf.initializers.glorotUniform({ seed: seed * 101 + layer++ });
  const regularizer = l2 > 0 ? { kernelRegularizer: tf.regularizers.l2({ l2 }) } : {};
  const model = tf.sequential();
  if (kind === 'cnn') {
    if (inputShape.length !== 3) {
      throw new InfoBatchError('INVALID_OPTION', `createModel('cnn') needs an image input shape [height, width, channels] but got [${inputShape.join(', ')}].`);
    }
    model.add(tf.layers.conv2d({ inputShape: [...inputShape], filters: 8, kernelSize: 3, activation: 'relu', kernelInitializer: kernel(), ...regularizer }));
    model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    model.add(tf.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu', kernelInitializer: kernel(), ...regularizer }));
    model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    model.add(tf.layers.flatten());
  } else if (kind === 'mlp') {
    const input = inputShape.length > 1 ? {} : { inputShape: [...inputShape] };
    if (inputShape.length > 1) model.add(tf.layers.flatten({ inputShape: [...inputShape] }));
    model.add(tf.layers.dense({ units: hiddenUnits, activation: 'relu', kernelInitializer: kernel(), ...regularizer, ...input }));
  } else {
    throw new InfoBatchError('INVALID_OPTION', `'kind' passed to createModel must be 'cnn' or 'mlp' but got ${JSON.stringify(kind)}.`);
  }
  model.add(tf.layers.dense({ units: numClasses, kernelInitializer: kernel(), ...regularizer }));
  return model;
}
