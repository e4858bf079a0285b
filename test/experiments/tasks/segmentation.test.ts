import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBench } from '../../../src/experiments/bench.js';
import { parsePolicySpecs } from '../../../src/experiments/policy-spec.js';
import type { BenchResults } from '../../../src/experiments/results.js';
import { runTaskTraining } from '../../../src/experiments/tasks/run-task.js';
import { createSegmenter, meanIou, segmentationTask } from '../../../src/experiments/tasks/segmentation.js';
import { selectBackend } from '../../../src/tfjs/backend.js';
import { expectNoLeak, expectSoundRun } from './helpers.js';

let backend: string;
beforeAll(async () => {
  backend = await selectBackend();
});

describe('segmentation task (generated shapes, U-Net, mean IoU)', () => {
  it('trains a few steps with InfoBatch: finite loss, mean IoU in [0, 1], no tensor left behind, same seed same numbers', async () => {
    const before = tf.memory().numTensors;
    const data = await segmentationTask.load({ trainLimit: 96, testLimit: 24 });
    expect(data.numTrain).toBe(96);
    expect(data.train.x.shape).toEqual([96, 32, 32, 1]);
    expect(data.train.y.shape).toEqual([96, 1024]);
    const options = { label: 'infobatch', policy: { name: 'infobatch' }, seed: 3, epochs: 3, batchSize: 32, learningRate: 3e-3 } as const;
    const first = await expectNoLeak(() => runTaskTraining(segmentationTask, data, options));
    expectSoundRun(first.result, 3, true);
    expect(first.result.final.testAccuracy).toBeGreaterThanOrEqual(0);
    expect(first.result.final.testAccuracy).toBeLessThanOrEqual(1);
    expect(first.evaluation.metric).toMatchObject({ name: 'mean IoU', higherIsBetter: true });
    const second = await runTaskTraining(segmentationTask, data, options);
    expect(second.result.epochs.map((e) => [e.testAccuracy, e.testLoss, e.planLength])).toEqual(first.result.epochs.map((e) => [e.testAccuracy, e.testLoss, e.planLength]));
    data.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('outputs per-pixel logits and computes mean IoU over non-empty classes', () => {
    const model = createSegmenter(0);
    const out = tf.tidy(() => model.predict(tf.zeros([2, 32, 32, 1])) as tf.Tensor);
    expect(out.shape).toEqual([2, 1024, 4]);
    out.dispose();
    model.dispose();
    expect(meanIou([1, 2, 0, 0], [2, 4, 0, 5])).toBeCloseTo((0.5 + 0.5 + 0) / 3, 12);
    expect(meanIou([0], [0])).toBeNaN();
  });

  describe('bench --task segmentation', () => {
    let out: string;
    beforeAll(async () => {
      out = await mkdtemp(join(tmpdir(), 'infobatch-task-bench-'));
    });
    afterAll(async () => rm(out, { recursive: true, force: true }));

    it('writes results with config.metric, and reports whose metric columns carry its name', async () => {
      const results = await runBench({
        name: 'segmentation smoke', command: 'npx infobatch bench --task segmentation (test)', task: 'segmentation', dataset: 'unused', model: 'cnn',
        epochs: 3, batchSize: 32, seeds: [0], policies: parsePolicySpecs('full,infobatch'), learningRate: 3e-3, momentum: 0.9, weightDecay: 0,
        trainLimit: 64, testLimit: 16, out, backend,
      });
      expect(results.config).toMatchObject({ task: 'segmentation', optimizer: 'adam', metric: { name: 'mean IoU', higherIsBetter: true, percent: true }, trainLimit: 64 });
      const written = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as BenchResults;
      expect(written.runs.map((r) => r.label)).toEqual(['full', 'infobatch']);
      const md = await readFile(join(out, 'report.md'), 'utf8');
      expect(md).toContain('| policy | seeds | final mean IoU % (mean ± std, higher is better) | Δ mean IoU vs full (points) |');
      expect(md).toContain('Mean IoU in %, mean ± sample std over seeds, higher is better');
      const html = await readFile(join(out, 'report.html'), 'utf8');
      expect(html).toContain('Mean IoU per epoch');
      expect(html).toContain('>Δ mean IoU vs full');
    });
  });
});
