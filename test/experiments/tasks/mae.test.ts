import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { hiddenCentralPatches, maeTask, patchify } from '../../../src/experiments/tasks/mae.js';
import { runTaskTraining } from '../../../src/experiments/tasks/run-task.js';
import { selectBackend } from '../../../src/tfjs/backend.js';
import { DATA_ROOT, expectNoLeak, expectSoundRun, hasData } from './helpers.js';

beforeAll(async () => {
  await selectBackend();
});

describe('patchify', () => {
  it('cuts 28x28 images into 16 row-major 7x7 patches', () => {
    const image = Float32Array.from({ length: 784 }, (_, i) => i);
    const patches = patchify(image, 1);
    expect(patches.length).toBe(16 * 49);
    expect(patches[0]).toBe(0); // patch 0, pixel (0, 0)
    expect(patches[8]).toBe(29); // patch 0, pixel (1, 1)
    expect(patches[49]).toBe(7); // patch 1 starts at column 7
    expect(patches[4 * 49]).toBe(7 * 28); // patch 4 starts at row 7
    expect(patches[16 * 49 - 1]).toBe(783);
  });
});

describe('hiddenCentralPatches', () => {
  it('counts the hidden patches among the central 2x2 of the 4x4 grid, per image', () => {
    const masks = new Uint8Array(3 * 16);
    masks.set([1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 1, 1, 1], 0); // the border hidden: 0 central
    masks.set([0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0], 16); // the centre hidden: 4
    masks.set([0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0], 32); // 2
    expect(Array.from(hiddenCentralPatches(masks, 3))).toEqual([0, 4, 2]);
  });
});

describe.skipIf(!hasData('mae', maeTask.dataFolders))('MAE task (Fashion-MNIST, masked patches, linear probe)', () => {
  it('trains a few steps with InfoBatch: masked-patch loss, probe accuracy in [0, 1], no tensor left behind', async () => {
    const before = tf.memory().numTensors;
    const data = await maeTask.load({ dataDir: DATA_ROOT, trainLimit: 160, testLimit: 40 });
    expect(data.train.x.shape).toEqual([160, 16, 49]);
    const { result, evaluation } = await expectNoLeak(() =>
      runTaskTraining(maeTask, data, { label: 'infobatch', policy: { name: 'infobatch' }, seed: 0, epochs: 3, batchSize: 32, learningRate: 2e-3 }),
    );
    expectSoundRun(result, 3, true);
    expect(evaluation.metric).toMatchObject({ name: 'linear-probe accuracy', higherIsBetter: true, percent: true });
    expect(result.final.testAccuracy).toBeGreaterThanOrEqual(0);
    expect(result.final.testAccuracy).toBeLessThanOrEqual(1);
    // Pixels are in [0, 1]: a masked-patch MSE is well below 1, and training lowers it.
    expect(result.epochs[2]!.trainLoss).toBeLessThan(result.epochs[0]!.trainLoss);
    expect(result.final.testLoss).toBeLessThan(0.5);
    data.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('uses a per-sample masked MSE: positive for the model, 0 for a perfect reconstruction, exactly 1 for an offset of 1', async () => {
    const data = await maeTask.load({ dataDir: DATA_ROOT, trainLimit: 4, testLimit: 4 });
    const run = await maeTask.createRun(data, { seed: 1 });
    try {
      const patches = data.train.x;
      const loss = tf.tidy(() => {
        const output = run.model.apply!(patches, { training: true }) as tf.Tensor;
        expect(output.shape).toEqual([4, 16, 49]);
        // The loss of the real output is positive; replacing it by the target gives exactly 0.
        const real = run.loss(patches, output);
        const perfect = run.loss(patches, tf.add(patches, 0));
        const offset = run.loss(patches, tf.add(patches, 1));
        expect(real.shape).toEqual([4]);
        return tf.concat([tf.stack([tf.min(real), tf.max(perfect)]), offset]);
      });
      const [realMin, perfectMax, ...offsets] = await loss.data();
      loss.dispose();
      expect(realMin).toBeGreaterThan(0);
      expect(perfectMax).toBe(0);
      for (const value of offsets) expect(value).toBeCloseTo(1, 6);
    } finally {
      run.dispose();
      data.dispose();
    }
  });

  it('with score: normalised, trains exactly as with the loss and records other scores, without leaking', async () => {
    const before = tf.memory().numTensors;
    const data = await maeTask.load({ dataDir: DATA_ROOT, trainLimit: 96, testLimit: 16 });
    const common = { policy: { name: 'full' }, seed: 0, epochs: 2, batchSize: 32, learningRate: 2e-3, evaluate: false, histogramEpochs: [1] };
    const byLoss = await expectNoLeak(() => runTaskTraining(maeTask, data, { label: 'full', ...common }));
    const normalised = await expectNoLeak(() => runTaskTraining(maeTask, data, { label: 'full:score=normalised', variant: { score: 'normalised' }, ...common }));
    expect(normalised.result.epochs.map((e) => e.trainLoss)).toEqual(byLoss.result.epochs.map((e) => e.trainLoss));
    expect(normalised.result.score).toBe('normalised');
    expect(normalised.result.epochs[1]!.scoreHistogram!.edges).not.toEqual(byLoss.result.epochs[1]!.scoreHistogram!.edges);
    data.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
