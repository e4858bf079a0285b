/**
 * The model of the `fitWithInfoBatch` benchmark and end-to-end test: the kind the TensorFlow.js
 * examples train on (Fashion-)MNIST — conv layers, max pooling, dropout, a softmax output,
 * compiled with `'rmsprop'` (or SGD with momentum), `'categoricalCrossentropy'` and `metrics: ['accuracy']` — scaled by
 * `width` (1: 16-16-32 filters and 64 hidden units, a size two CPU cores train in minutes).
 */
import * as tf from '@tensorflow/tfjs';

/** Options of {@link exampleCnn}. */
export interface ExampleCnnOptions {
  /** Seed of the weight initialisers (dropout masks come from tfjs's own generator). */
  readonly seed: number;
  /** Multiplier of the filters and hidden units (0.5: 8-8-16 filters, 32 hidden units). @defaultValue 1 */
  readonly width?: number;
  /**
   * `'rmsprop'` (tfjs's default learning rate 0.001, as the tfjs examples compile it) or
   * `'sgd-momentum'` (learning rate 0.05, momentum 0.9: the bench recipe's optimizer, without its
   * schedule). @defaultValue 'rmsprop'
   */
  readonly optimizer?: ExampleOptimizer;
}

/** The optimizers {@link exampleCnn} can compile with. */
export const EXAMPLE_OPTIMIZERS = ['rmsprop', 'sgd-momentum'] as const;
/** One of {@link EXAMPLE_OPTIMIZERS}. */
export type ExampleOptimizer = (typeof EXAMPLE_OPTIMIZERS)[number];

/** A compiled tfjs-examples style CNN for 28×28×1 images and 10 classes. */
export function exampleCnn({ seed, width = 1, optimizer = 'rmsprop' }: ExampleCnnOptions): tf.Sequential {
  const init = (offset: number) => tf.initializers.glorotUniform({ seed: seed * 100 + offset });
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: Math.round(16 * width), kernelSize: 3, activation: 'relu', kernelInitializer: init(1) }),
      tf.layers.conv2d({ filters: Math.round(16 * width), kernelSize: 3, activation: 'relu', kernelInitializer: init(2) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: Math.round(32 * width), kernelSize: 3, activation: 'relu', kernelInitializer: init(3) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dropout({ rate: 0.25 }),
      tf.layers.dense({ units: Math.round(64 * width), activation: 'relu', kernelInitializer: init(4) }),
      tf.layers.dropout({ rate: 0.5 }),
      tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(5) }),
    ],
  });
  model.compile({ optimizer: optimizer === 'rmsprop' ? 'rmsprop' : tf.train.momentum(0.05, 0.9), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}
