/**
 * Whole-run checkpoints, in process: a run interrupted by an error thrown from a callback (the
 * checkpoint is whatever was last committed), restarted with fresh objects and the same call,
 * ends with the same bits as the uninterrupted run, for each tfjs optimizer with slots and both
 * kinds of learning-rate schedule. The kill-and-restart test with real processes is
 * resume-kill.test.ts.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/core/canonical-json.js';
import type { CheckpointStorage } from '../../src/core/checkpoint-storage.js';
import { crc32 } from '../../src/core/crc32.js';
import { InfoBatchError } from '../../src/core/errors.js';
import { makeSyntheticDataset } from '../../src/data/synthetic.js';
import { selectBackend } from '../../src/tfjs/backend.js';
import { fitWithInfoBatch } from '../../src/tfjs/fit.js';
import { softmaxCrossEntropy } from '../../src/tfjs/losses.js';
import { cosineSchedule, OneCycle } from '../../src/tfjs/schedules.js';
import { trainWithInfoBatch, type EpochMetrics, type TrainOptions } from '../../src/tfjs/trainer.js';

const N = 240;
const EPOCHS = 4;
const BATCH = 16;
const split = makeSyntheticDataset({ numSamples: N, numTest: 10, numFeatures: 6, numClasses: 3, seed: 5 });
let x: tf.Tensor2D;
let y: tf.Tensor1D;
let yFloat: tf.Tensor1D;

beforeAll(async () => {
  expect(await selectBackend({ prefer: ['cpu'] })).toBe('cpu');
  x = tf.tensor2d(split.train.x, [N, 6]);
  y = tf.tensor1d(split.train.y, 'int32');
  yFloat = tf.tensor1d(split.train.y, 'float32');
});
afterAll(() => tf.dispose([x, y, yFloat]));

/** An in-memory CheckpointStorage that counts writes. */
function memoryStorage(): CheckpointStorage & { files: Map<string, Uint8Array>; writes: number } {
  const files = new Map<string, Uint8Array>();
  return {
    files,
    writes: 0,
    async read(name) {
      return files.get(name)?.slice();
    },
    async write(name, data) {
      this.writes++;
      files.set(name, data.slice());
    },
    async list() {
      return [...files.keys()];
    },
    async remove(name) {
      files.delete(name);
    },
  };
}

function mlp(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.dense({ units: 12, activation: 'relu', inputShape: [6], kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
      tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
}

async function weightBytes(model: tf.LayersModel): Promise<number[][]> {
  return Promise.all(model.weights.map(async (w) => Array.from(new Uint32Array((await w.read().data() as Float32Array).slice().buffer))));
}

const OPTIMIZERS: Record<string, () => tf.Optimizer> = {
  sgd: () => tf.train.sgd(0.1),
  momentum: () => tf.train.momentum(0.05, 0.9, true),
  adam: () => tf.train.adam(0.01),
  rmsprop: () => tf.train.rmsprop(0.002, 0.9, 0.2),
  adagrad: () => tf.train.adagrad(0.1),
};

const loss = (yTrue: tf.Tensor, yPred: tf.Tensor) => softmaxCrossEntropy(yTrue, yPred);

class Interrupt extends Error {}

/** Runs trainWithInfoBatch with fresh model and optimizer; throws Interrupt after global step `stopAt`. */
async function train(makeOptimizer: () => tf.Optimizer, extra: Partial<TrainOptions>, stopAt?: number): Promise<{ weights: number[][]; epochs: readonly EpochMetrics[] }> {
  const model = mlp();
  const optimizer = makeOptimizer();
  let steps = 0;
  try {
    const result = await trainWithInfoBatch(model, { x, y }, {
      epochs: EPOCHS,
      batchSize: BATCH,
      optimizer,
      loss,
      infobatch: { seed: 3, pruneRatio: 0.5 },
      callbacks: {
        onBatchEnd: () => {
          if (++steps === stopAt) throw new Interrupt(`interrupted after step ${steps}`);
        },
      },
      ...extra,
    });
    return { weights: await weightBytes(model), epochs: result.epochs };
  } finally {
    model.dispose();
    optimizer.dispose();
  }
}

/** Every figure of the epoch metrics but the wall-clock seconds. */
function lossesOf(epochs: readonly EpochMetrics[]): unknown[] {
  return epochs.map(({ trainSeconds, pruneSeconds, planSeconds, recordSeconds, ...figures }) => figures);
}

describe('trainWithInfoBatch checkpoint', () => {
  for (const [name, make] of Object.entries(OPTIMIZERS)) {
    it(`resumes bit for bit with ${name} (mid-epoch checkpoints, OneCycle per-step schedule)`, async () => {
      const schedule = () => new OneCycle({ maxLr: 0.05, totalEpochs: EPOCHS });
      const reference = await train(make, { learningRate: schedule() });
      const storage = memoryStorage();
      const options = () => ({ learningRate: schedule(), checkpoint: { storage, everySteps: 4 } });
      const before = tf.memory().numTensors;
      // Interrupted twice: once inside epoch 1, once inside epoch 2 of the resumed run.
      await expect(train(make, options(), 22)).rejects.toBeInstanceOf(Interrupt);
      await expect(train(make, options(), 9)).rejects.toBeInstanceOf(Interrupt);
      const resumed = await train(make, options());
      expect(resumed.weights).toEqual(reference.weights);
      expect(lossesOf(resumed.epochs)).toEqual(lossesOf(reference.epochs));
      expect(resumed.epochs.map((m) => m.planLength)).toEqual(reference.epochs.map((m) => m.planLength));
      // tfjs's MomentumOptimizer.dispose() does not dispose the learning-rate scalar its SGD
      // constructor keeps: one tensor per momentum optimizer built, none of ours.
      expect(tf.memory().numTensors).toBe(before + (name === 'momentum' ? 3 : 0));
      // Only the committed checkpoint's files are left.
      const names = [...storage.files.keys()].sort();
      expect(names).toHaveLength(4);
      expect(names[3]).toBe('manifest.json');
      expect(new Set(names.slice(0, 3).map((n) => n.split('.')[0])).size).toBe(1);
    });
  }

  it('resumes from epoch checkpoints with an epoch schedule, and a finished run returns at once', async () => {
    const learningRate = cosineSchedule({ baseLr: 0.1, totalEpochs: EPOCHS });
    const reference = await train(OPTIMIZERS.adam!, { learningRate });
    const storage = memoryStorage();
    await expect(train(OPTIMIZERS.adam!, { learningRate, checkpoint: { storage } }, 30)).rejects.toBeInstanceOf(Interrupt);
    const resumed = await train(OPTIMIZERS.adam!, { learningRate, checkpoint: { storage } });
    expect(resumed.weights).toEqual(reference.weights);
    expect(lossesOf(resumed.epochs)).toEqual(lossesOf(reference.epochs));
    const writes = storage.writes;
    // The same call again: the run is over, nothing trains, the same history comes back.
    const again = await train(OPTIMIZERS.adam!, { learningRate, checkpoint: { storage } }, 1);
    expect(again.weights).toEqual(reference.weights);
    expect(lossesOf(again.epochs)).toEqual(lossesOf(reference.epochs));
    expect(storage.writes).toBe(writes);
  });

  it('refuses a checkpoint of another run, and a damaged one, with the model left as it was', async () => {
    const storage = memoryStorage();
    await train(OPTIMIZERS.sgd!, { checkpoint: { storage, everyEpochs: 2 } });
    const model = mlp();
    const initial = await weightBytes(model);
    const run = (options: Partial<TrainOptions>) => trainWithInfoBatch(model, { x, y }, { epochs: EPOCHS, batchSize: BATCH, optimizer: tf.train.sgd(0.1), loss, infobatch: { seed: 3, pruneRatio: 0.5 }, ...options });
    await expect(run({ batchSize: 8, checkpoint: { storage } })).rejects.toMatchObject({ code: 'CHECKPOINT_MISMATCH', message: expect.stringMatching(/batchSize 16.*8/) });
    await expect(run({ optimizer: tf.train.adam(0.1), checkpoint: { storage } })).rejects.toMatchObject({ code: 'CHECKPOINT_MISMATCH', message: expect.stringMatching(/SGD.*Adam/) });
    await expect(run({ infobatch: { seed: 4, pruneRatio: 0.5 }, checkpoint: { storage } })).rejects.toMatchObject({ code: 'CHECKPOINT_MISMATCH' });
    const payload = [...storage.files.keys()].find((k) => k.endsWith('.model.0.bin'))!;
    const damaged = storage.files.get(payload)!;
    damaged[3] ^= 0x10;
    await expect(run({ checkpoint: { storage } })).rejects.toMatchObject({ code: 'CORRUPT_CHECKPOINT', message: expect.stringContaining(payload) });
    damaged[3] ^= 0x10;
    const manifest = storage.files.get('manifest.json')!;
    const text = new TextDecoder().decode(manifest).replace('"stepsDone":', '"stepsDone":1');
    storage.files.set('manifest.json', new TextEncoder().encode(text));
    await expect(run({ checkpoint: { storage } })).rejects.toMatchObject({ code: 'CORRUPT_CHECKPOINT', message: expect.stringContaining('CRC-32') });
    storage.files.set('manifest.json', manifest);
    // What a CRC cannot catch: a manifest with a valid CRC but impossible contents.
    const craft = (edit: (body: Record<string, any>) => void) => {
      const parsed = JSON.parse(new TextDecoder().decode(manifest)) as { body: Record<string, any>; crc32: number };
      edit(parsed.body);
      parsed.crc32 = crc32(new TextEncoder().encode(canonicalJson(parsed.body)));
      storage.files.set('manifest.json', new TextEncoder().encode(JSON.stringify(parsed)));
    };
    craft((body) => {
      body.model[0].offset = 1 << 30;
    });
    await expect(run({ checkpoint: { storage } })).rejects.toMatchObject({ code: 'CORRUPT_CHECKPOINT', message: expect.stringContaining('model[0]') });
    craft((body) => {
      body.next = { epoch: 1, step: 3 };
      body.finished = false;
    });
    await expect(run({ checkpoint: { storage } })).rejects.toMatchObject({ code: 'CORRUPT_CHECKPOINT', message: expect.stringMatching(/InfoBatch state resumes at epoch 4.*epoch 1, step 3/) });
    craft((body) => {
      body.front = { epochs: 3 };
    });
    await expect(run({ checkpoint: { storage } })).rejects.toMatchObject({ code: 'CORRUPT_CHECKPOINT', message: expect.stringContaining('saved history') });
    craft((body) => {
      body.run.epochs = -1;
    });
    await expect(run({ checkpoint: { storage } })).rejects.toMatchObject({ code: 'CORRUPT_CHECKPOINT' });
    storage.files.set('manifest.json', manifest);
    expect(await weightBytes(model)).toEqual(initial);
    model.dispose();
  });

  it('keeps a folder checkpoint with `dir` (the node storage, loaded on demand)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'infobatch-run-ckpt-'));
    try {
      const first = await train(OPTIMIZERS.sgd!, { checkpoint: { dir: join(dir, 'run') } });
      expect((await readdir(join(dir, 'run'))).sort()).toEqual(['ckpt-000004.infobatch.0.bin', 'ckpt-000004.model.0.bin', 'ckpt-000004.optimizer.0.bin', 'manifest.json']);
      const again = await train(OPTIMIZERS.sgd!, { checkpoint: { dir: join(dir, 'run') } }, 1);
      expect(again.weights).toEqual(first.weights);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses bad checkpoint options with a clear error', async () => {
    const model = mlp();
    const run = (checkpoint: unknown) => trainWithInfoBatch(model, { x, y }, { epochs: 1, batchSize: BATCH, optimizer: tf.train.sgd(0.1), loss, checkpoint: checkpoint as NonNullable<TrainOptions['checkpoint']> });
    await expect(run({})).rejects.toMatchObject({ code: 'INVALID_OPTION', message: expect.stringMatching(/exactly one of 'dir'.*'storage'.*neither/) });
    await expect(run({ dir: '' })).rejects.toMatchObject({ code: 'INVALID_TYPE', message: expect.stringContaining("'checkpoint.dir'") });
    await expect(run({ storage: { read() {} } })).rejects.toMatchObject({ code: 'INVALID_TYPE', message: expect.stringContaining('CheckpointStorage') });
    await expect(run({ storage: memoryStorage(), everySteps: 0 })).rejects.toMatchObject({ code: 'OUT_OF_RANGE', message: expect.stringContaining('checkpoint.everySteps') });
    await expect(run({ storage: memoryStorage(), every: 3 })).rejects.toBeInstanceOf(InfoBatchError);
    await expect(trainWithInfoBatch(model, { x, y }, { epochs: 1, batchSize: BATCH, optimizer: tf.train.adamax(0.1), loss, checkpoint: { storage: memoryStorage() } })).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringContaining('Adamax') });
    model.dispose();
  });
});

describe('fitWithInfoBatch checkpoint', () => {
  async function fit(stopAt: number | undefined, checkpoint?: { storage: CheckpointStorage; everySteps?: number }): Promise<{ weights: number[][]; history: tf.History }> {
    const model = mlp();
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    let steps = 0;
    try {
      const history = await fitWithInfoBatch(model, x, yFloat, {
        epochs: EPOCHS,
        batchSize: BATCH,
        verbose: 0,
        validationSplit: 0.2,
        infobatch: { seed: 7 },
        callbacks: {
          onBatchEnd: async () => {
            if (++steps === stopAt) throw new Interrupt(`interrupted after step ${steps}`);
          },
        },
        ...(checkpoint && { checkpoint }),
      });
      return { weights: await weightBytes(model), history };
    } finally {
      model.optimizer.dispose();
      model.dispose();
    }
  }

  it('a run stopped early (model.stopTraining) is finished: the same call returns its History and trains no more', async () => {
    const storage = memoryStorage();
    const model = mlp();
    model.compile({ optimizer: tf.train.sgd(0.1), loss: 'sparseCategoricalCrossentropy' });
    let steps = 0;
    const args = {
      epochs: EPOCHS,
      batchSize: BATCH,
      verbose: 0 as const,
      checkpoint: { storage, everySteps: 2 },
      callbacks: {
        onBatchEnd: async () => {
          if (++steps === 20) model.stopTraining = true;
        },
      },
    };
    const first = await fitWithInfoBatch(model, x, yFloat, args);
    expect(first.epoch).toEqual([0, 1]);
    const weights = await weightBytes(model);
    const writes = storage.writes;
    const again = await fitWithInfoBatch(model, x, yFloat, args);
    expect(steps).toBe(20);
    expect(again.epoch).toEqual([0, 1]);
    expect(again.history['loss']).toEqual(first.history['loss']);
    expect(await weightBytes(model)).toEqual(weights);
    expect(storage.writes).toBe(writes);
    model.optimizer.dispose();
    model.dispose();
  });

  for (const backend of ['cpu', 'wasm'] as const) {
    it(`resumes bit for bit on ${backend}, with the same History (epoch averages of a split epoch included)`, async () => {
      expect(await selectBackend({ prefer: [backend] })).toBe(backend);
      const reference = await fit(undefined);
      const storage = memoryStorage();
      const before = tf.memory().numTensors;
      await expect(fit(17, { storage, everySteps: 5 })).rejects.toBeInstanceOf(Interrupt);
      const resumed = await fit(undefined, { storage, everySteps: 5 });
      expect(tf.memory().numTensors).toBe(before);
      expect(resumed.weights).toEqual(reference.weights);
      expect(resumed.history.epoch).toEqual(reference.history.epoch);
      const keys = ['loss', 'acc', 'val_loss', 'val_acc', 'infobatch_mean_loss', 'infobatch_kept_fraction'];
      for (const key of keys) expect(resumed.history.history[key], key).toEqual(reference.history.history[key]);
      // Finished: the same call returns the whole History without training.
      const writes = storage.writes;
      const again = await fit(1, { storage, everySteps: 5 });
      expect(again.weights).toEqual(reference.weights);
      for (const key of keys) expect(again.history.history[key], key).toEqual(reference.history.history[key]);
      expect(storage.writes).toBe(writes);
      await selectBackend({ prefer: ['cpu'] });
    });
  }
});
