/**
 * Semantic segmentation of generated shapes (the paper's ADE20K experiment, at toy scale).
 *
 * Data: `makeShapesDataset` (src/data/shapes.ts): 32×32 noisy grey images with 1–3 circles,
 * squares and triangles, a class per pixel (background + 3 shapes); the training set uses seed 1,
 * the held-out set seed 2. Model: a small U-Net built with tfjs-layers (two 3×3 conv stages with
 * max-pooling down to 8×8, transposed convolutions back up, skip connections by addition, a 1×1
 * conv to 4 class logits per pixel), seeded Glorot initialisers. The per-sample loss is the mean
 * pixel cross-entropy: `sequenceCrossEntropy(classIds, logits)` over the 1024 pixels of an image.
 *
 * Evaluation: mean pixel cross-entropy on the held-out set, and the primary metric, mean IoU over
 * the 4 classes (background included), from intersections and unions summed over the whole set.
 */
import * as tf from '@tensorflow/tfjs';
import { makeShapesDataset, SHAPE_CLASSES } from '../../data/shapes.js';
import { sequenceCrossEntropy } from '../../tfjs/index.js';
import type { Task, TaskData, TaskEvaluation, TaskLoadOptions, TaskRun } from './task.js';

const SIZE = 32;
const PIXELS = SIZE * SIZE;
const NUM_CLASSES = SHAPE_CLASSES.length;
const TRAIN_SAMPLES = 4000;
const TEST_SAMPLES = 800;
const TRAIN_SEED = 1;
const TEST_SEED = 2;

/** Segmentation data: images `[n, 32, 32, 1]` and class ids `[n, 1024]`. */
export interface SegmentationData extends TaskData {
  readonly images: tf.Tensor4D;
  readonly masks: tf.Tensor2D;
  readonly testImages: tf.Tensor4D;
  readonly testMasks: tf.Tensor2D;
}

/** The U-Net: logits `[batch, 1024, 4]`. */
export function createSegmenter(seed: number): tf.LayersModel {
  let layer = 0;
  const kernelInitializer = () => tf.initializers.glorotUniform({ seed: seed * 101 + layer++ });
  const conv = (filters: number, name: string) => tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: kernelInitializer(), name });
  const up = (filters: number, name: string) => tf.layers.conv2dTranspose({ filters, kernelSize: 2, strides: 2, padding: 'same', kernelInitializer: kernelInitializer(), name });
  const input = tf.input({ shape: [SIZE, SIZE, 1] });
  const e1 = conv(8, 'enc1b').apply(conv(8, 'enc1a').apply(input)) as tf.SymbolicTensor;
  const e2 = conv(16, 'enc2').apply(tf.layers.maxPooling2d({ poolSize: 2 }).apply(e1)) as tf.SymbolicTensor;
  const bottom = conv(32, 'bottom').apply(tf.layers.maxPooling2d({ poolSize: 2 }).apply(e2)) as tf.SymbolicTensor;
  const d2 = conv(16, 'dec2').apply(tf.layers.add().apply([up(16, 'up2').apply(bottom) as tf.SymbolicTensor, e2])) as tf.SymbolicTensor;
  const d1 = conv(8, 'dec1').apply(tf.layers.add().apply([up(8, 'up1').apply(d2) as tf.SymbolicTensor, e1])) as tf.SymbolicTensor;
  const logits = tf.layers.conv2d({ filters: NUM_CLASSES, kernelSize: 1, kernelInitializer: kernelInitializer(), name: 'classes' }).apply(d1);
  const output = tf.layers.reshape({ targetShape: [PIXELS, NUM_CLASSES] }).apply(logits) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output });
}

/** Per-image mean pixel cross-entropy. */
function segmentationLoss(yTrue: tf.Tensor, logits: tf.Tensor): tf.Tensor1D {
  return sequenceCrossEntropy(yTrue, logits);
}

/** Mean IoU over classes whose union is not empty. */
export function meanIou(intersections: ArrayLike<number>, unions: ArrayLike<number>): number {
  let sum = 0;
  let count = 0;
  for (let c = 0; c < unions.length; c++) {
    if (unions[c]! > 0) {
      sum += intersections[c]! / unions[c]!;
      count++;
    }
  }
  return count === 0 ? Number.NaN : sum / count;
}

class SegmentationRun implements TaskRun {
  readonly setupSeconds = 0;
  readonly model: tf.LayersModel;

  constructor(
    private readonly data: SegmentationData,
    seed: number,
  ) {
    this.model = createSegmenter(seed);
  }

  loss(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
    return segmentationLoss(yTrue, yPred);
  }

  async evaluate(): Promise<TaskEvaluation> {
    const { testImages, testMasks, numTest } = this.data;
    // Row 0: intersections, row 1: predicted counts, row 2: true counts, per class; [3, 0]: loss sum.
    let totals = tf.zeros([4, NUM_CLASSES]);
    const chunk = 200;
    for (let start = 0; start < numTest; start += chunk) {
      const size = Math.min(chunk, numTest - start);
      const next = tf.tidy(() => {
        const truth = tf.slice(testMasks, start, size);
        const logits = this.model.predict(tf.slice(testImages, start, size)) as tf.Tensor3D;
        // int32 one-hot, then cast: the wasm OneHot kernel ignores a float32 dtype (it writes int32 bits).
        const predicted = tf.cast(tf.oneHot(tf.reshape(tf.argMax(logits, 2), [-1]), NUM_CLASSES), 'float32');
        const actual = tf.cast(tf.oneHot(tf.reshape(tf.cast(truth, 'int32'), [-1]), NUM_CLASSES), 'float32');
        const loss = tf.sum(segmentationLoss(truth, logits));
        const lossRow = tf.pad(tf.reshape(loss, [1, 1]), [[0, 0], [0, NUM_CLASSES - 1]]);
        const counts = tf.stack([tf.sum(tf.mul(predicted, actual), 0), tf.sum(predicted, 0), tf.sum(actual, 0)]);
        return tf.add(totals, tf.concat([counts, lossRow], 0));
      });
      totals.dispose();
      totals = next;
    }
    const values = await totals.data();
    totals.dispose();
    const intersections = values.subarray(0, NUM_CLASSES);
    const unions = Array.from(intersections, (inter, c) => values[NUM_CLASSES + c]! + values[2 * NUM_CLASSES + c]! - inter);
    return { metric: { ...segmentationTask.metric, value: meanIou(intersections, unions) }, loss: values[3 * NUM_CLASSES]! / numTest };
  }

  dispose(): void {
    this.model.dispose();
  }
}

/** The segmentation task (see the module comment). */
export const segmentationTask: Task<SegmentationData> = {
  name: 'segmentation',
  title: 'per-pixel classification of generated shapes with a small U-Net, judged by mean IoU',
  dataset: `shapes-${SIZE}x${SIZE} (generated, seeds ${TRAIN_SEED}/${TEST_SEED})`,
  model: 'unet (8-16-32 channels)',
  metric: { name: 'mean IoU', higherIsBetter: true, percent: true },
  defaults: { epochs: 10, batchSize: 32, learningRate: 3e-3, trainLimit: TRAIN_SAMPLES, testLimit: TEST_SAMPLES },
  recipe: { size: SIZE, classes: SHAPE_CLASSES.join('/'), shapesPerImage: '1-3', noiseStd: 0.1, optimizer: 'adam' },
  dataFolders: [],

  async load(options: TaskLoadOptions = {}): Promise<SegmentationData> {
    const { trainLimit = TRAIN_SAMPLES, testLimit = TEST_SAMPLES } = options;
    const train = makeShapesDataset({ numSamples: trainLimit, size: SIZE, seed: TRAIN_SEED });
    const test = makeShapesDataset({ numSamples: testLimit, size: SIZE, seed: TEST_SEED });
    const images = tf.tensor4d(train.images, [train.numSamples, SIZE, SIZE, 1]);
    const masks = tf.tensor2d(train.masks, [train.numSamples, PIXELS], 'int32');
    const testImages = tf.tensor4d(test.images, [test.numSamples, SIZE, SIZE, 1]);
    const testMasks = tf.tensor2d(test.masks, [test.numSamples, PIXELS], 'int32');
    return {
      train: { x: images, y: masks },
      numTrain: train.numSamples,
      numTest: test.numSamples,
      images,
      masks,
      testImages,
      testMasks,
      dispose: () => tf.dispose([images, masks, testImages, testMasks]),
    };
  },

  async createRun(data: SegmentationData, options: { readonly seed: number }): Promise<TaskRun> {
    return new SegmentationRun(data, options.seed);
  },
};
