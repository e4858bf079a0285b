/**
 * The model of the `fitWithInfoBatch` benchmark and end-to-end test: the kind the TensorFlow.js
 * examples train on (Fashion-)MNIST — conv layers, max pooling, dropout, a softmax output,
 * compiled with `'rmsprop'`, `'categoricalCrossentropy'` and `metrics: ['accuracy']` — scaled by
 * `width` (1: 16-16-32 filters and 64 hidden units, a size two CPU cores train in minutes).
 */
import * as tf from '@tensorflow/tfjs';

/** Options of {@link exampleCnn}. */
export interface ExampleCnnOptions {
  /** Seed of the weight initialisers (dropout masks come from tfjs's own generator). */
  readonly seed: number;
  /** Multiplier of the filters and hidden units (0.5: 8-8-16 filters, 32 hidden units). @defaultValue 1 */
  readonly width?: number;
}

/** A compiled tfjs-examples style CNN for 28×28×1 images and 10 classes. */
export function exampleCnn({ seed, width = 1 }: ExampleCnnOptions): tf.Sequential {
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
  model.compile({ optimizer: 'rmsprop', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}
