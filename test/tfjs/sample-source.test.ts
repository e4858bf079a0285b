import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/tfjs/backend.js';
import { tensorLoader } from '../../src/tfjs/sample-source.js';

afterAll(async () => {
  await selectBackend({ prefer: ['wasm'] });
});

/** `tf.gather`'s rows, the reference the loader must reproduce bit for bit. */
function reference(tensor: tf.Tensor, indices: Int32Array): { values: number[]; shape: number[]; dtype: string } {
  return tf.tidy(() => {
    const rows = tf.gather(tensor, tf.tensor1d(indices, 'int32'));
    return { values: Array.from(rows.dataSync()), shape: rows.shape, dtype: rows.dtype };
  });
}

describe.each(['wasm', 'cpu'] as const)('tensorLoader on %s', (backend) => {
  it('gives the rows tf.gather gives, for float32, int32 and bool tensors of rank 1 to 4, and leaks nothing', async () => {
    expect(await selectBackend({ prefer: [backend] })).toBe(backend);
    const shapes = fc.constantFrom<number[]>([7], [7, 3], [7, 2, 3], [7, 2, 2, 1]);
    await fc.assert(fc.asyncProperty(shapes, fc.constantFrom('float32', 'int32', 'bool'), fc.array(fc.nat(6), { minLength: 1, maxLength: 12 }), fc.integer(), async (shape, dtype, ids, seed) => {
      const x = tf.tidy(() => tf.randomUniform(shape, -3, 3, 'float32', seed).asType(dtype as tf.DataType));
      const y = tf.tidy(() => tf.range(0, shape[0]!, 1, 'int32'));
      const indices = Int32Array.from(ids);
      const before = tf.memory().numTensors;
      const { xs, ys } = tensorLoader(x, y).load(indices) as { xs: tf.Tensor; ys: tf.Tensor };
      expect(tf.memory().numTensors).toBe(before + 2);
      const expected = reference(x, indices);
      expect({ values: Array.from(xs.dataSync()), shape: xs.shape, dtype: xs.dtype }).toEqual(expected);
      expect(Array.from(ys.dataSync())).toEqual(ids);
      tf.dispose([xs, ys, x, y]);
    }), { numRuns: 40 });
  });

  it('refuses a sample id outside the data with an InfoBatchError and leaks nothing', async () => {
    await selectBackend({ prefer: [backend] });
    const x = tf.zeros([4, 2]);
    const y = tf.zeros([4]);
    const loader = tensorLoader(x, y);
    const before = tf.memory().numTensors;
    // On wasm and cpu the rows are copied on the host, which checks the ids.
    expect(() => loader.load(Int32Array.of(1, 4))).toThrow(/sample id 4 is outside \[0, 4\)/);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
  });
});
