/**
 * What a SampleSource can do wrong, and the ways out: a step error is not held back by a pending
 * prefetch, a gather that never settles is stopped by `gatherTimeoutMs`, and cached or disposed
 * tensors are a clear error. No tensor is left behind in any case.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/tfjs/backend.js';
import { fitWithInfoBatch } from '../../src/tfjs/fit.js';
import type { SampleSource } from '../../src/tfjs/sample-source.js';

const N = 64;
const BATCH = 16;
let x: tf.Tensor2D;
let y: tf.Tensor2D;

beforeAll(async () => {
  expect(await selectBackend()).toBe('wasm');
  x = tf.randomNormal([N, 4], 0, 1, 'float32', 3) as tf.Tensor2D;
  y = tf.tidy(() => tf.oneHot(tf.cast(tf.greater(tf.sum(x, 1), 0), 'int32'), 2).toFloat() as tf.Tensor2D);
});
afterAll(() => tf.dispose([x, y]));

function model(): tf.Sequential {
  const m = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 2, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) })] });
  m.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
  return m;
}

const rows = (indices: Int32Array) => tf.tidy(() => ({ xs: tf.gather(x, indices), ys: tf.gather(y, indices) }));
const never = new Promise<never>(() => undefined);

/** Settles with the run's outcome, or 'hung' when it has not settled after `ms`. */
async function outcome(run: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise((resolve) => {
    timer = setTimeout(() => resolve('hung'), ms);
  });
  try {
    return await Promise.race([run.then(() => 'resolved', (error: unknown) => error), hung]);
  } finally {
    clearTimeout(timer);
  }
}

describe('a SampleSource that hangs or hands back tensors it does not give away', () => {
  it('a step error is reported at once, not after a prefetched gather that never settles', async () => {
    const m = model();
    const before = tf.memory().numTensors;
    let calls = 0;
    // The check of the loss shape loads batch 0 once; then the loop loads batch 0 and prefetches batch 1, which hangs.
    const source: SampleSource = { size: N, gather: (indices) => (++calls <= 2 ? rows(indices) : never) };
    const run = fitWithInfoBatch(m, source, { epochs: 1, batchSize: BATCH, verbose: 0, callbacks: { onBatchEnd: () => { throw new Error('step failed'); } } });
    const result = await outcome(run, 3000);
    expect(result).toBeInstanceOf(Error);
    expect((result as Error).message).toBe('step failed');
    expect(calls).toBe(3);
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });

  it('gatherTimeoutMs stops a run whose gather never settles, and disposes what a late gather returns', async () => {
    const m = model();
    const before = tf.memory().numTensors;
    let calls = 0;
    let late: (() => void) | undefined;
    const source: SampleSource = {
      size: N,
      gatherTimeoutMs: 300,
      gather: (indices) => {
        if (++calls !== 4) return rows(indices);
        return new Promise((resolve) => {
          late = () => resolve(rows(indices)); // settles after the timeout
        });
      },
    };
    const result = await outcome(fitWithInfoBatch(m, source, { epochs: 1, batchSize: BATCH, verbose: 0 }), 5000);
    expect(result).toMatchObject({ code: 'TIMEOUT', message: expect.stringMatching(/'source\.gather' passed to fitWithInfoBatch did not settle within gatherTimeoutMs = 300 ms for a batch of 16 samples \(sample ids .*\); the run was stopped/) });
    late!();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(tf.memory().numTensors).toBe(before);
    const bad: SampleSource = { size: N, gatherTimeoutMs: -1, gather: rows };
    await expect(fitWithInfoBatch(m, bad, { verbose: 0 })).rejects.toMatchObject({ code: 'OUT_OF_RANGE', message: expect.stringContaining("'source.gatherTimeoutMs' passed to fitWithInfoBatch must be a number of milliseconds > 0") });
    m.dispose();
  });

  it('a gather that returns the same (cached) tensors again is a clear error, not a TypeError at batch 2', async () => {
    const m = model();
    const cached = rows(Int32Array.from({ length: BATCH }, (_, i) => i));
    const before = tf.memory().numTensors;
    const source: SampleSource = { size: N, gather: () => cached };
    await expect(fitWithInfoBatch(m, source, { epochs: 1, batchSize: BATCH, verbose: 0 })).rejects.toMatchObject({
      code: 'INVALID_DATA',
      message: expect.stringMatching(/'source\.gather' passed to fitWithInfoBatch returned a tensor it had returned before \(and the loop has disposed since\) as xs .*each call must return new ones.*tf\.clone\(\)/),
    });
    // The loop disposed the batch it trained on (the cached tensors), as it disposes every batch.
    expect(tf.memory().numTensors).toBe(before - 2);
    m.dispose();
  });

  it('a gather that returns a disposed tensor is a clear error, not a SHAPE_MISMATCH', async () => {
    const m = model();
    const before = tf.memory().numTensors;
    let calls = 0;
    const source: SampleSource = {
      size: N,
      gather: (indices) => {
        const batch = rows(indices);
        if (++calls === 3) batch.xs.dispose();
        return batch;
      },
    };
    await expect(fitWithInfoBatch(m, source, { epochs: 1, batchSize: BATCH, verbose: 0 })).rejects.toMatchObject({
      code: 'INVALID_DATA',
      message: expect.stringMatching(/returned a disposed tensor as xs \(shape \[16, 4\]\) for a batch of 16 samples/),
    });
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });

  it('a source followed by a y tensor is named as such, not as an unknown option', async () => {
    const m = model();
    const source: SampleSource = { size: N, gather: rows };
    await expect(fitWithInfoBatch(m, source as never, y, { epochs: 1 })).rejects.toMatchObject({
      code: 'INVALID_TYPE',
      message: expect.stringContaining("fitWithInfoBatch(model, source, args) takes no 'y': the source's gather returns the targets with the inputs, but a tf.Tensor of shape [64, 2] was passed after the source"),
    });
    m.dispose();
  });
});
