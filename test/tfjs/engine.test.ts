import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { InfoBatch } from '../../src/core/info-batch.js';
import { FullDataPolicy } from '../../src/policies/full-data.js';
import { selectBackend } from '../../src/tfjs/backend.js';
import { LocalStepRunner, runTraining, type EngineSpec, type StepRunner, type TrainPosition } from '../../src/tfjs/engine.js';
import { InfoBatchTfjs } from '../../src/tfjs/info-batch-tfjs.js';
import { softmaxCrossEntropy } from '../../src/tfjs/losses.js';
import { tensorLoader } from '../../src/tfjs/sample-source.js';

const N = 64;
let x: tf.Tensor2D;
let y: tf.Tensor1D;

beforeAll(async () => {
  expect(await selectBackend()).toBe('wasm');
  x = tf.randomNormal([N, 5], 0, 1, 'float32', 1) as tf.Tensor2D;
  y = tf.tidy(() => tf.argMax(tf.matMul(x, tf.randomNormal([5, 3], 0, 1, 'float32', 2)), 1).toInt() as tf.Tensor1D);
});

function model(): tf.Sequential {
  return tf.sequential({ layers: [tf.layers.dense({ inputShape: [5], units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) })] });
}

function spec(m: tf.LayersModel, ib: InfoBatch, optimizer: tf.Optimizer, overrides: Partial<EngineSpec> = {}): EngineSpec {
  return {
    where: 'engine test',
    model: m,
    loader: tensorLoader(x, y),
    numSamples: N,
    epochs: 3,
    batchSize: 10,
    optimizer,
    loss: (yTrue, yPred) => softmaxCrossEntropy(yTrue, yPred),
    ibt: new InfoBatchTfjs(ib),
    initialEpoch: 0,
    wantCost: false,
    hooks: {},
    ...overrides,
  };
}

const weights = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));
const fullData = () => new InfoBatch({ numSamples: N, numEpochs: 3, seed: 5, policy: new FullDataPolicy() });

describe('runTraining (the one loop behind trainWithInfoBatch and fitWithInfoBatch)', () => {
  it('stops at a step and resumes from that (epoch, step) to the same weights as an uninterrupted run', async () => {
    const whole = model();
    await runTraining(spec(whole, fullData(), tf.train.sgd(0.1)));

    const parts = model();
    const optimizer = tf.train.sgd(0.1);
    const ib = fullData();
    const seen: TrainPosition[] = [];
    const first = await runTraining(spec(parts, ib, optimizer, {
      hooks: { onBatchEnd: (position) => void seen.push(position), shouldStop: () => seen.length === 10 },
    }));
    // 7 steps per epoch: the 10th step is step 2 of epoch 1; the next one to run is step 3.
    expect(first.stopped).toBe(true);
    expect(first.position).toEqual({ epoch: 1, step: 3 });
    expect(first.epochs.map((e) => e.epoch)).toEqual([0, 1]);
    const second = await runTraining(spec(parts, ib, optimizer, { initialEpoch: first.position.epoch, initialStep: first.position.step, hooks: { onBatchEnd: (position) => void seen.push(position) } }));
    expect(second.stopped).toBe(false);
    expect(second.position).toEqual({ epoch: 3, step: 0 });
    expect(seen.slice(9, 12)).toEqual([{ epoch: 1, step: 2 }, { epoch: 1, step: 3 }, { epoch: 1, step: 4 }]);
    expect(seen).toHaveLength(21);
    expect(weights(parts)).toEqual(weights(whole));
  });

  it('runs every step through a custom StepRunner (the data-parallel seam) and leaks nothing', async () => {
    const m = model();
    const optimizer = tf.train.sgd(0.1);
    const ib = fullData();
    const ibt = new InfoBatchTfjs(ib);
    const local = new LocalStepRunner({ model: m, loss: (a, b) => softmaxCrossEntropy(a, b), optimizer, ibt, where: 'engine test' });
    const calls: number[] = [];
    const runner: StepRunner = {
      runStep(input) {
        calls.push(input.batch.indices.length);
        expect(input.tensors.xs.shape[0]).toBe(input.batch.indices.length);
        return local.runStep(input);
      },
    };
    const before = tf.memory().numTensors;
    const result = await runTraining({ ...spec(m, ib, optimizer), ibt, runner });
    expect(tf.memory().numTensors).toBe(before);
    expect(calls).toEqual(Array(3).fill([10, 10, 10, 10, 10, 10, 4]).flat());
    expect(result.epochs.every((e) => Number.isFinite(e.meanLoss) && e.meanLoss > 0)).toBe(true);
    expect(ib.summary().lossesRecorded).toBe(3 * N);
  });

  it('disposes a prefetched batch when a step fails, and reports the failure', async () => {
    const m = model();
    const optimizer = tf.train.sgd(0.1); // holds its learning rate as a tensor
    const before = tf.memory().numTensors;
    const failing: StepRunner = {
      runStep() {
        throw new Error('step failed');
      },
    };
    await expect(runTraining({ ...spec(m, fullData(), optimizer), runner: failing })).rejects.toThrow('step failed');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('property: every epoch loads exactly its plan, in order, from the resume step on, and leaks nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 16 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 3 }),
        fc.nat({ max: 6 }),
        fc.nat({ max: 1000 }),
        async (numSamples, batchSize, epochs, initialEpochRaw, initialStep, seed) => {
          const initialEpoch = Math.min(initialEpochRaw, epochs - 1);
          const xs = tf.tidy(() => tf.abs(tf.randomNormal([numSamples, 2], 0, 1, 'float32', seed)));
          const loaded = new Map<number, number[]>();
          const plans = new Map<number, Int32Array>();
          let epochNow = -1;
          const ib = new InfoBatch({ numSamples, numEpochs: epochs, seed });
          const ibt = new InfoBatchTfjs(ib);
          const inner = tensorLoader(xs, xs);
          // A step that trains nothing but records a per-sample loss, as a runner must.
          const runner: StepRunner = {
            runStep: ({ batch, tensors }) =>
              tf.tidy(() => ({ weightedSum: tf.mul(ibt.update(tf.sum(tensors.xs, 1), batch), batch.indices.length) as tf.Scalar, extras: [] })),
          };
          const m = model();
          const optimizer = tf.train.sgd(0);
          const before = tf.memory().numTensors;
          const result = await runTraining({
            ...spec(m, ib, optimizer, { epochs, batchSize, numSamples, initialEpoch, initialStep }),
            ibt,
            runner,
            loader: { load: (indices) => (loaded.get(epochNow)!.push(...indices), inner.load(indices)) },
            hooks: {
              onEpochBegin: (epoch, plan) => {
                epochNow = epoch;
                loaded.set(epoch, []);
                plans.set(epoch, plan.indices.slice());
              },
            },
          });
          expect(tf.memory().numTensors).toBe(before);
          expect([...plans.keys()]).toEqual(Array.from({ length: epochs - initialEpoch }, (_, i) => initialEpoch + i));
          for (const [epoch, indices] of plans) {
            const skip = epoch === initialEpoch ? Math.min(initialStep * batchSize, indices.length) : 0;
            expect(loaded.get(epoch)).toEqual(Array.from(indices.subarray(skip)));
          }
          expect(result.position).toEqual({ epoch: epochs, step: 0 });
          xs.dispose();
          optimizer.dispose();
          m.dispose();
        },
      ),
      { numRuns: 25 },
    );
  });
});
