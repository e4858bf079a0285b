import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { EpochPlan } from '../../src/core/epoch-plan.js';
import { InfoBatchError } from '../../src/core/errors.js';
import { InfoBatch } from '../../src/core/info-batch.js';
import { selectBackend } from '../../src/tfjs/backend.js';
import { softmaxCrossEntropy } from '../../src/tfjs/losses.js';
import { strideRows, type FromReplica, type ReplicaEndpoint, type ToReplica } from '../../src/tfjs/parallel/protocol.js';
import { Replica } from '../../src/tfjs/parallel/replica.js';
import { trainWithInfoBatch } from '../../src/tfjs/trainer.js';
import { useFastWasmKernels } from '../../src/tfjs/wasm-kernels.js';
import { CLASSES, FEATURES, tinyModel } from './fixtures/replica-model.js';

beforeAll(async () => {
  expect(await selectBackend()).toBe('wasm');
});

describe('strideRows (a rank\'s part of a global batch)', () => {
  it('gives each rank the plan.shard order of the batch, and the parts cover it exactly once', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 3 }), (rows, worldSize, rowSize) => {
        const values = Int32Array.from({ length: rows * rowSize }, (_, i) => i);
        const ids = Int32Array.from({ length: rows }, (_, i) => i);
        const plan = new EpochPlan(0, false, ids, new Float32Array(rows).fill(1), { kept: rows, pruned: 0, wellLearned: 0, threshold: Number.NaN });
        const seen: number[] = [];
        for (let rank = 0; rank < worldSize; rank++) {
          const part = strideRows(values, rowSize, rank, worldSize);
          const partRows = Array.from({ length: part.length / rowSize }, (_, s) => part[s * rowSize]! / rowSize);
          // Without padding: the shard's first entries, those that are not repeats.
          const shard = Array.from(plan.shard(rank, worldSize).indices).slice(0, partRows.length);
          expect(partRows).toEqual(shard);
          expect(rank >= rows || shard.length === Math.ceil((rows - rank) / worldSize)).toBe(true);
          seen.push(...part);
        }
        expect(seen.sort((a, b) => a - b)).toEqual(Array.from(values));
      }),
    );
  });
});

/** An in-process replica behind an endpoint, with a hook to alter its replies. */
function inProcess(alter: (reply: FromReplica) => FromReplica = (r) => r): ReplicaEndpoint {
  let receive: ((reply: FromReplica) => void) | undefined;
  const replica = new Replica((reply) => receive?.(alter(reply)));
  let queue: Promise<void> = Promise.resolve();
  return {
    post: (message: ToReplica) => void (queue = queue.then(() => replica.handle(message))),
    listen: ({ message }) => void (receive = message),
    terminate: () => queue,
  };
}

describe('ParallelStepRunner over a custom transport', () => {
  const x = () => tf.tidy(() => tf.randomNormal([48, FEATURES], 0, 1, 'float32', 4));
  const y = () => tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(Array.from({ length: 48 }, (_, i) => i % CLASSES), 'int32'), CLASSES), 'float32'));

  it('trains through endpoints a user supplies (workers.spawn) like one thread does, leaking no tensor (replicas included)', async () => {
    const before = tf.memory().numTensors;
    const [xs, ys] = [x(), y()];
    const single = tinyModel(2);
    const parallel = tinyModel(2);
    const options = { epochs: 3, batchSize: 16, loss: softmaxCrossEntropy };
    const ib1 = new InfoBatch({ numSamples: 48, numEpochs: 3, seed: 1 });
    const ib2 = new InfoBatch({ numSamples: 48, numEpochs: 3, seed: 1 });
    const [sgd1, sgd2] = [tf.train.sgd(0.1), tf.train.sgd(0.1)];
    await trainWithInfoBatch(single, { x: xs, y: ys }, { ...options, optimizer: sgd1, infobatch: ib1 });
    await trainWithInfoBatch(parallel, { x: xs, y: ys }, { ...options, optimizer: sgd2, infobatch: ib2, workers: { count: 3, spawn: async () => [inProcess(), inProcess(), inProcess()] } });
    sgd1.dispose();
    sgd2.dispose();
    const a = single.getWeights().map((w) => Array.from(w.dataSync()));
    const b = parallel.getWeights().map((w) => Array.from(w.dataSync()));
    a.flat().forEach((value, i) => expect(b.flat()[i]).toBeCloseTo(value, 4));
    expect(Array.from(ib2.scores)).toEqual(Array.from(ib1.scores).map((s) => expect.closeTo(s, 4)));
    tf.dispose([xs, ys]);
    single.dispose();
    parallel.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('tells every replica whether this thread uses the fast wasm kernels, so that all ranks compute alike', async () => {
    const initFlags = async (): Promise<unknown[]> => {
      const seen: ToReplica[] = [];
      const recording = (): ReplicaEndpoint => {
        const inner = inProcess();
        return { ...inner, post: (message, transfer) => (seen.push(message), inner.post(message, transfer)) };
      };
      const [xs, ys] = [x(), y()];
      const model = tinyModel(2);
      const sgd = tf.train.sgd(0.1);
      await trainWithInfoBatch(model, { x: xs, y: ys }, { epochs: 1, batchSize: 16, loss: softmaxCrossEntropy, optimizer: sgd, infobatch: new InfoBatch({ numSamples: 48, numEpochs: 1, seed: 1 }), workers: { count: 2, spawn: async () => [recording(), recording()] } });
      sgd.dispose();
      model.dispose();
      tf.dispose([xs, ys]);
      return seen.filter((m) => m.type === 'init').map((m) => (m as { fastWasmKernels?: unknown }).fastWasmKernels);
    };
    expect(await initFlags()).toEqual([false, false]);
    const restore = useFastWasmKernels();
    try {
      expect(await initFlags()).toEqual([true, true]);
    } finally {
      restore();
    }
  });

  it('stops with WORKER_FAILED naming the rank whose weights differ at an epoch end', async () => {
    const [xs, ys] = [x(), y()];
    const model = tinyModel(2);
    const corrupt = (reply: FromReplica): FromReplica => (reply.type === 'hash' ? { type: 'hash', hash: (reply.hash + 1) >>> 0 } : reply);
    let error: unknown;
    try {
      await trainWithInfoBatch(model, { x: xs, y: ys }, { epochs: 2, batchSize: 16, loss: softmaxCrossEntropy, optimizer: tf.train.sgd(0.1), workers: { count: 2, spawn: async () => [inProcess(), inProcess(corrupt)] } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InfoBatchError);
    expect((error as InfoBatchError).code).toBe('WORKER_FAILED');
    expect((error as Error).message).toMatch(/worker rank 1 of 2 failed during the weight check at the end of epoch 0: its weights \(hash [0-9a-f]+\) differ from the coordinator's/);
    tf.dispose([xs, ys]);
    model.dispose();
  });

  it('reports a replica that cannot build the model, before training starts', async () => {
    const [xs, ys] = [x(), y()];
    const model = tinyModel(2);
    const endpoint = inProcess();
    const original = endpoint.post;
    // The replica is told the coordinator's variables have other sizes.
    endpoint.post = (message, transfer) => original(message.type === 'init' ? { ...message, sizes: [1, 2, 3] } : message, transfer);
    await expect(trainWithInfoBatch(model, { x: xs, y: ys }, { epochs: 1, batchSize: 16, loss: softmaxCrossEntropy, optimizer: tf.train.sgd(0.1), workers: { count: 2, spawn: async () => [inProcess(), endpoint] } }))
      .rejects.toThrow(/worker rank 1 of 2 failed during init: replica 1 built a model whose trainable variables hold \[48, 8, 24, 3\] values but the coordinator's hold \[1, 2, 3\]/);
    tf.dispose([xs, ys]);
    model.dispose();
  });
});

describe('receiveWithin / postCounted (the worker-thread transport taking a message without an event-loop turn)', () => {
  it('takes a counted message at once, in order, and gives up after maxWaitMs when none comes', async () => {
    const { MessageChannel, receiveMessageOnPort } = await import('node:worker_threads');
    const { postCounted, receiveWithin } = await import('../../src/tfjs/parallel/spawn-node.js');
    const { port1, port2 } = new MessageChannel();
    const counters = new Int32Array(new SharedArrayBuffer(8));
    try {
      postCounted(port1, { n: 1 }, [], counters, 1);
      postCounted(port1, { n: 2 }, [], counters, 1);
      expect(counters[1]).toBe(2);
      expect(receiveWithin(receiveMessageOnPort, port2, counters, 1, 1000)).toEqual({ message: { n: 1 } });
      expect(receiveWithin(receiveMessageOnPort, port2, counters, 1, 1000)).toEqual({ message: { n: 2 } });
      const started = performance.now();
      expect(receiveWithin(receiveMessageOnPort, port2, counters, 1, 30)).toBeUndefined();
      expect(performance.now() - started).toBeGreaterThanOrEqual(25);
    } finally {
      port1.close();
      port2.close();
    }
  });
});
