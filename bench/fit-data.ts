/**
 * What the `model.fit` benchmarks share: Fashion-MNIST as tensors (one-hot labels, as
 * 'categoricalCrossentropy' takes), timing a training call in wall-clock and CPU seconds, and the
 * test metrics of a trained {@link exampleCnn}-style model (compiled with metrics ['accuracy']).
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadBenchDataset } from '../src/experiments/datasets.js';
import { datasetTensors } from '../src/experiments/train-run.js';
import { fail } from './bench-args.js';

/** Fashion-MNIST on the current backend. */
export interface FitData {
  /** Training images [n, 28, 28, 1] and one-hot labels [n, 10] (validation split not yet taken). */
  readonly x: tf.Tensor;
  readonly y: tf.Tensor;
  readonly testX: tf.Tensor;
  readonly testY: tf.Tensor;
  /** Frees every tensor above. */
  dispose(): void;
}

/** Loads Fashion-MNIST from `dataDir` (exits naming `bench` when its files are missing). */
export async function loadFitData(bench: string, dataDir: string, limits: { trainLimit?: number | undefined; testLimit?: number | undefined }): Promise<FitData> {
  if (!existsSync(join(dataDir, 'train-images-idx3-ubyte.gz'))) fail(bench, `no Fashion-MNIST files in ${dataDir} (pass --data-dir).`);
  const split = await loadBenchDataset('fashion-mnist', {
    dataDir,
    ...(limits.trainLimit !== undefined && { trainLimit: limits.trainLimit }),
    ...(limits.testLimit !== undefined && { testLimit: limits.testLimit }),
  });
  const data = datasetTensors(split);
  const y = tf.oneHot(data.trainY, 10);
  const testY = tf.oneHot(data.testY, 10);
  return {
    x: data.trainX,
    y,
    testX: data.testX,
    testY,
    dispose() {
      tf.dispose([y, testY]);
      data.dispose();
    },
  };
}

/** Runs `train` and returns its result with the wall-clock and process CPU seconds (user + system, all threads) it took. */
export async function timed<T>(train: () => Promise<T>): Promise<{ result: T; trainSeconds: number; cpuSeconds: number }> {
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const result = await train();
  const trainSeconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  return { result, trainSeconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

/** Test loss and accuracy of a model compiled with one metric (`'accuracy'`). */
export async function testMetrics(model: tf.LayersModel, data: FitData): Promise<{ testLoss: number; testAccuracy: number }> {
  const [testLoss, testAccuracy] = await Promise.all(
    (model.evaluate(data.testX, data.testY, { batchSize: 1000 }) as tf.Scalar[]).map(async (s) => {
      const value = (await s.data())[0]!;
      s.dispose();
      return value;
    }),
  );
  return { testLoss: testLoss!, testAccuracy: testAccuracy! };
}
