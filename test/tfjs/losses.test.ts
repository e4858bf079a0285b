import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend, type BackendName } from '../../src/tfjs/backend.js';
import { meanSquaredError, sequenceCrossEntropy, softmaxCrossEntropy, sparseSoftmaxCrossEntropy } from '../../src/tfjs/losses.js';

async function values(t: tf.Tensor): Promise<number[]> {
  const out = Array.from(await t.data());
  t.dispose();
  return out;
}

/** Runs `make` and checks it leaves exactly one new tensor (its result) behind. */
function noLeak<T extends tf.Tensor>(make: () => T): T {
  const before = tf.memory().numTensors;
  const result = make();
  expect(tf.memory().numTensors).toBe(before + 1);
  return result;
}

const close = (expected: number[], digits = 5) => expected.map((v) => expect.closeTo(v, digits));

describe.each<BackendName>(['wasm', 'cpu'])('per-sample losses on %s', (backend) => {
  beforeAll(async () => {
    expect(await selectBackend({ prefer: [backend] })).toBe(backend);
  });

  describe('softmaxCrossEntropy', () => {
    it('matches hand-computed values for one-hot and sparse labels', async () => {
      // softmax([0, ln 3]) = [1/4, 3/4]
      const logits = tf.tensor2d([[0, Math.log(3)], [0, Math.log(3)]]);
      const expected = [Math.log(4), Math.log(4 / 3)];
      const [oneHot, ids, floatIds] = [tf.tensor2d([[1, 0], [0, 1]]), tf.tensor1d([0, 1], 'int32'), tf.tensor1d([0, 1])];
      expect(await values(noLeak(() => softmaxCrossEntropy(oneHot, logits)))).toEqual(close(expected));
      expect(await values(noLeak(() => softmaxCrossEntropy(ids, logits)))).toEqual(close(expected));
      expect(await values(noLeak(() => sparseSoftmaxCrossEntropy(floatIds, logits)))).toEqual(close(expected));
      // smoothing 0.2 over 2 classes: label 1 → targets [0.1, 0.9]
      const smoothed = -(0.1 * Math.log(1 / 4) + 0.9 * Math.log(3 / 4));
      expect(await values(sparseSoftmaxCrossEntropy(tf.tensor1d([1, 1], 'int32'), logits, { labelSmoothing: 0.2 }))).toEqual(close([smoothed, smoothed]));
    });

    it('equals tf.losses.softmaxCrossEntropy with Reduction.NONE, with and without label smoothing', async () => {
      const logits = tf.randomNormal([6, 5], 0, 3, 'float32', 7);
      const ids = tf.tensor1d([0, 4, 2, 2, 1, 3], 'int32');
      const oneHot = tf.oneHot(ids, 5);
      for (const labelSmoothing of [0, 0.1]) {
        const reference = await values(tf.losses.softmaxCrossEntropy(oneHot, logits, undefined, labelSmoothing, tf.Reduction.NONE));
        expect(await values(softmaxCrossEntropy(oneHot, logits, { labelSmoothing }))).toEqual(close(reference));
        expect(await values(softmaxCrossEntropy(ids, logits, { labelSmoothing }))).toEqual(close(reference));
      }
    });

    it('is stable for large logits and has finite gradients', async () => {
      const logits = tf.tensor2d([[1000, 0], [-1000, 1000]]);
      const labels = tf.tensor1d([1, 1], 'int32');
      expect(await values(softmaxCrossEntropy(labels, logits))).toEqual(close([1000, 0]));
      const grad = tf.grad((l: tf.Tensor) => tf.sum(softmaxCrossEntropy(labels, l)))(logits);
      // d/dlogits = softmax − onehot
      expect(await values(grad)).toEqual(close([1, -1, 0, 0]));
    });

    it.each([
      { name: 'rank-3 logits', labels: () => tf.ones([2, 3, 4]), logits: () => tf.ones([2, 3, 4]), message: /rank 2 \[batch, classes\].*\[2, 3, 4\].*use sequenceCrossEntropy/ },
      { name: 'labels of another shape', labels: () => tf.ones([2, 5]), logits: () => tf.ones([2, 4]), message: /'labels'.*shape \[2, 4\].*or \[2\].*got shape \[2, 5\]/ },
      { name: 'too many class ids', labels: () => tf.ones([3], 'int32'), logits: () => tf.ones([2, 4]), message: /'labels'.*shape \[2\].*got shape \[3\]/ },
    ])('throws SHAPE_MISMATCH for $name', ({ labels, logits, message }) => {
      expect(() => softmaxCrossEntropy(labels(), logits())).toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH', message: expect.stringMatching(message) }));
    });

    it('rejects labelSmoothing outside [0, 1) and unknown options', () => {
      const call = (options: object) => () => softmaxCrossEntropy(tf.ones([1], 'int32'), tf.ones([1, 2]), options);
      expect(call({ labelSmoothing: 1 })).toThrow(expect.objectContaining({ code: 'OUT_OF_RANGE', message: expect.stringContaining("'labelSmoothing' passed to softmaxCrossEntropy") }));
      expect(call({ smoothing: 0.1 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    });
  });

  describe('meanSquaredError', () => {
    it('averages over every non-batch axis, like tf.losses.meanSquaredError(NONE) then a mean', async () => {
      const targets = tf.randomNormal([3, 4, 2], 0, 1, 'float32', 1);
      const predictions = tf.randomNormal([3, 4, 2], 0, 1, 'float32', 2);
      const reference = await values(tf.mean(tf.losses.meanSquaredError(targets, predictions, undefined, tf.Reduction.NONE), [1, 2]));
      expect(await values(noLeak(() => meanSquaredError(targets, predictions)))).toEqual(close(reference));
      expect(await values(meanSquaredError(tf.tensor1d([1, 2]), tf.tensor1d([0, 5])))).toEqual(close([1, 9]));
    });

    it('averages over the masked elements of each sample; an all-zero mask gives 0 and finite gradients', async () => {
      const targets = tf.tensor2d([[0, 0, 0], [1, 1, 1], [2, 2, 2]]);
      const predictions = tf.tensor2d([[1, 2, 3], [1, 3, 5], [0, 0, 0]]);
      const mask = tf.tensor2d([[1, 1, 0], [0, 1, 1], [0, 0, 0]]);
      expect(await values(noLeak(() => meanSquaredError(targets, predictions, mask)))).toEqual(close([(1 + 4) / 2, (4 + 16) / 2, 0]));
      const grad = tf.grad((p: tf.Tensor) => tf.sum(meanSquaredError(targets, p, mask)))(predictions);
      // d/dp = 2 m (p − t) / Σm
      expect(await values(grad)).toEqual(close([1, 2, 0, 0, 2, 4, 0, 0, 0]));
    });

    it('accepts a mask broadcast over trailing axes ([b, n, 1] for [b, n, d])', async () => {
      const targets = tf.zeros([1, 2, 2]);
      const predictions = tf.tensor3d([[[1, 1], [3, 3]]]);
      expect(await values(meanSquaredError(targets, predictions, tf.tensor3d([[[0], [1]]])))).toEqual(close([9]));
      expect(await values(meanSquaredError(tf.zeros([2]), tf.tensor1d([2, 3]), tf.tensor1d([1, 0])))).toEqual(close([4, 0]));
    });

    it('throws SHAPE_MISMATCH for different shapes or a wrong mask', () => {
      expect(() => meanSquaredError(tf.ones([2, 3]), tf.ones([2, 4]))).toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH', message: expect.stringContaining('[2, 3] and [2, 4]') }));
      expect(() => meanSquaredError(tf.ones([2, 3]), tf.ones([2, 3]), tf.ones([2]))).toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH', message: expect.stringContaining("'mask'") }));
      expect(() => meanSquaredError(tf.ones([2, 3]), tf.ones([2, 3]), tf.ones([1, 3]))).toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH' }));
    });
  });

  describe('sequenceCrossEntropy', () => {
    const logitsValues = [
      [[0, Math.log(3)], [Math.log(3), 0], [0, 0]],
      [[2, -1], [0.5, 0.5], [1, 4]],
    ];

    it('is the mean token cross-entropy over the masked positions; an empty mask gives 0', async () => {
      const logits = tf.tensor3d(logitsValues);
      const targets = tf.tensor2d([[1, 1, 0], [0, 1, 1]], undefined, 'int32');
      const mask = tf.tensor2d([[1, 1, 0], [0, 0, 0]]);
      // row 0: −ln(3/4) and −ln(1/4), position 2 masked out
      expect(await values(noLeak(() => sequenceCrossEntropy(targets, logits, mask)))).toEqual(close([(Math.log(4 / 3) + Math.log(4)) / 2, 0]));
      const tokenLosses = await values(sparseSoftmaxCrossEntropy(tf.tensor1d([1, 1, 0, 0, 1, 1], 'int32'), tf.reshape(logits, [6, 2]) as tf.Tensor2D));
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      expect(await values(sequenceCrossEntropy(targets, logits))).toEqual(close([mean(tokenLosses.slice(0, 3)), mean(tokenLosses.slice(3))]));
    });

    it('has finite gradients, zero on masked-out positions', async () => {
      const logits = tf.tensor3d(logitsValues);
      const targets = tf.tensor2d([[1, 1, 0], [0, 1, 1]], undefined, 'int32');
      const mask = tf.tensor2d([[1, 1, 0], [0, 0, 0]]);
      const grad = await values(tf.grad((l: tf.Tensor) => tf.sum(sequenceCrossEntropy(targets, l, mask)))(logits));
      expect(grad.every(Number.isFinite)).toBe(true);
      expect(grad.slice(4)).toEqual(close([0, 0, 0, 0, 0, 0, 0, 0]));
      // position (0, 0): (softmax − onehot) / 2 = ([1/4, 3/4] − [0, 1]) / 2
      expect(grad.slice(0, 2)).toEqual(close([0.125, -0.125]));
    });

    it('throws SHAPE_MISMATCH naming the expected shape', () => {
      expect(() => sequenceCrossEntropy(tf.ones([2, 4], 'int32'), tf.ones([2, 3, 5]))).toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH', message: expect.stringContaining('must have shape [2, 3]') }));
      expect(() => sequenceCrossEntropy(tf.ones([2, 3], 'int32'), tf.ones([2, 3]))).toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH', message: expect.stringContaining('rank 3') }));
      expect(() => sequenceCrossEntropy(tf.ones([2, 3], 'int32'), tf.ones([2, 3, 5]), tf.ones([2, 3, 1]))).toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH', message: expect.stringContaining("'mask'") }));
    });
  });
});
