import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBench } from '../../../src/experiments/bench.js';
import { parsePolicySpecs } from '../../../src/experiments/policy-spec.js';
import type { BenchResults } from '../../../src/experiments/results.js';
import { diffusionTask, linearSchedule } from '../../../src/experiments/tasks/diffusion.js';
import { encodeGreyPng, tileGrid } from '../../../src/experiments/tasks/png.js';
import { assertTaskScoring, runTaskTraining } from '../../../src/experiments/tasks/run-task.js';
import { segmentationTask } from '../../../src/experiments/tasks/segmentation.js';
import { selectBackend } from '../../../src/tfjs/backend.js';
import { DATA_ROOT, expectNoLeak, expectSoundRun, hasData } from './helpers.js';

let backend: string;
beforeAll(async () => {
  backend = await selectBackend();
});

describe('noise schedule and PNG writer', () => {
  it('has 200 linear betas ending with almost no signal', () => {
    const { betas, alphaBars } = linearSchedule();
    expect(betas.length).toBe(200);
    expect(betas[0]).toBeCloseTo(1e-4, 12);
    expect(betas[199]).toBeCloseTo(0.08, 12);
    expect(alphaBars[199]).toBeLessThan(1e-3);
    expect(alphaBars[0]).toBeCloseTo(1 - 1e-4, 12);
  });

  it('encodes a greyscale PNG whose pixels decode back', () => {
    const grid = tileGrid(Float32Array.of(0, 1, 0.5, 0.25), 1, 2, 1, 1); // one 2x2 tile, 1-pixel border
    expect([grid.width, grid.height]).toEqual([4, 4]);
    const png = Buffer.from(encodeGreyPng(grid.pixels, grid.width, grid.height));
    expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
    expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
    expect([png.readUInt32BE(16), png.readUInt32BE(20), png[24], png[25]]).toEqual([4, 4, 8, 0]);
    const idatLength = png.readUInt32BE(33);
    expect(png.subarray(37, 41).toString('latin1')).toBe('IDAT');
    const raw = inflateSync(png.subarray(41, 41 + idatLength));
    // Rows: filter byte, then 4 pixels; the tile sits at (1, 1) inside a 1-pixel black border.
    expect([...raw]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 255, 0, 0, 0, 128, 64, 0, 0, 0, 0, 0, 0]);
    expect(() => encodeGreyPng([0, 1], 3, 1)).toThrow(/width × height/);
  });
});

describe.skipIf(!hasData('diffusion', diffusionTask.dataFolders))('diffusion task (MNIST 14x14, noise prediction)', () => {
  it('trains a few steps with InfoBatch: held-out denoising MSE falls below the untrained model\'s, samples as PNG, no tensor left behind', async () => {
    const before = tf.memory().numTensors;
    const data = await diffusionTask.load({ dataDir: DATA_ROOT, trainLimit: 256, testLimit: 64 });
    expect(data.train.x.shape).toEqual([256, 196]);
    const untrained = await diffusionTask.createRun(data, { seed: 0 });
    const initial = await untrained.evaluate();
    untrained.dispose();
    const { result, artifacts } = await expectNoLeak(() =>
      runTaskTraining(diffusionTask, data, { label: 'infobatch', policy: { name: 'infobatch' }, seed: 0, epochs: 3, batchSize: 64, learningRate: 2e-3, artifacts: true }),
    );
    expectSoundRun(result, 3, true);
    // Fixed held-out noise and timesteps: the same seed's untrained model scores worse.
    expect(result.final.testAccuracy).toBeLessThan(initial.loss);
    expect(result.final.testAccuracy).toBe(result.final.testLoss);
    expect(artifacts.map((a) => a.file)).toEqual(['samples.png']);
    const png = Buffer.from(artifacts[0]!.bytes);
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([8 * 29 + 1, 8 * 29 + 1]);
    data.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('with score: normalised, trains exactly as with the loss and records the loss over its timestep bucket\'s running mean', async () => {
    const before = tf.memory().numTensors;
    const data = await diffusionTask.load({ dataDir: DATA_ROOT, trainLimit: 128, testLimit: 32 });
    const common = { policy: { name: 'full' }, seed: 0, epochs: 2, batchSize: 32, learningRate: 2e-3, histogramEpochs: [1] };
    const byLoss = await expectNoLeak(() => runTaskTraining(diffusionTask, data, { label: 'full', ...common }));
    const normalised = await expectNoLeak(() => runTaskTraining(diffusionTask, data, { label: 'full:score=normalised', variant: { score: 'normalised' }, ...common }));
    // The objective is the loss either way: the same training losses and held-out metric, bit for bit.
    expect(normalised.result.epochs.map((e) => e.trainLoss)).toEqual(byLoss.result.epochs.map((e) => e.trainLoss));
    expect(normalised.result.final.testAccuracy).toBe(byLoss.result.final.testAccuracy);
    expect(normalised.result.score).toBe('normalised');
    expect(byLoss.result.score).toBeUndefined();
    // The scores differ: ratios to the bucket's mean (about 1) instead of squared errors.
    const histogram = (r: typeof byLoss) => r.result.epochs[1]!.scoreHistogram!;
    expect(histogram(normalised).edges).not.toEqual(histogram(byLoss).edges);
    const run = await diffusionTask.createRun(data, { seed: 1, score: 'normalised' });
    try {
      let scores: unknown;
      tf.tidy(() => {
        const xs = tf.slice(data.train.x, 0, 8);
        const output = run.model.apply!(xs, { training: true }) as tf.Tensor;
        scores = run.score!(xs, output, run.loss(xs, output));
      });
      expect(typeof scores).toBe('function');
      // One batch, all losses equal: each is exactly its bucket's mean.
      expect(Array.from((scores as (l: Float32Array) => ArrayLike<number>)(new Float32Array(8).fill(0.3)))).toEqual(new Array(8).fill(1));
      expect(() => tf.tidy(() => {
        run.score!(tf.zeros([3, 196]), tf.zeros([3, 2, 196]), tf.zeros([3]));
      })).toThrow(/diffusion score called for a batch of 3 without a forward pass of that batch first/);
    } finally {
      run.dispose();
    }
    data.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  describe('bench --task diffusion', () => {
    let out: string;
    beforeAll(async () => {
      out = await mkdtemp(join(tmpdir(), 'infobatch-diffusion-bench-'));
    });
    afterAll(async () => rm(out, { recursive: true, force: true }));

    it('writes the sample grids beside results.json and into report.html, and labels the metric as lower-is-better', async () => {
      await runBench({
        name: 'diffusion smoke', command: 'npx infobatch bench --task diffusion (test)', task: 'diffusion', dataset: 'unused', model: 'cnn',
        epochs: 2, batchSize: 64, seeds: [0], policies: parsePolicySpecs('infobatch'), learningRate: 2e-3, momentum: 0.9, weightDecay: 0,
        trainLimit: 128, testLimit: 32, dataRoot: DATA_ROOT, out, backend,
      });
      const png = await readFile(join(out, 'infobatch-seed0-samples.png'));
      expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
      const results = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as BenchResults;
      expect(results.config.metric).toEqual({ name: 'held-out denoising MSE', higherIsBetter: false });
      expect(results.runs[0]!.images?.[0]?.pngBase64).toBe(png.toString('base64'));
      const html = await readFile(join(out, 'report.html'), 'utf8');
      expect(html).toContain(`src="data:image/png;base64,${png.toString('base64')}"`);
      expect(await readFile(join(out, 'report.md'), 'utf8')).toContain('final held-out denoising MSE (mean ± std, lower is better)');
    });

    it('runs infobatch:score=normalised, records the scoring in the run and its score persistence in the report', async () => {
      const folder = join(out, 'normalised');
      const results = await runBench({
        name: 'diffusion normalised', command: 'npx infobatch bench --task diffusion (test)', task: 'diffusion', dataset: 'unused', model: 'cnn',
        epochs: 2, batchSize: 32, seeds: [0], policies: parsePolicySpecs('infobatch:score=normalised'), learningRate: 2e-3, momentum: 0.9, weightDecay: 0,
        trainLimit: 128, testLimit: 32, dataRoot: DATA_ROOT, out: folder, backend,
      });
      expect(results.runs.map((r) => [r.label, r.score])).toEqual([['infobatch:score=normalised', 'normalised']]);
      expect(results.runs[0]!.epochs[1]!.scorePersistence?.samples).toBeGreaterThan(0);
      expect(await readFile(join(folder, 'report.md'), 'utf8')).toMatch(/How per-sample scores carry over[\s\S]*infobatch:score=normalised/);
    });
  });
});

describe('score=normalised outside the task families that offer it', () => {
  it('is refused for classification before anything trains, and for a task without it', async () => {
    const out = await mkdtemp(join(tmpdir(), 'infobatch-score-refused-'));
    try {
      await expect(runBench({
        name: 'refused', command: 'test', dataset: 'synthetic', model: 'mlp',
        epochs: 2, batchSize: 32, seeds: [0], policies: parsePolicySpecs('full,infobatch:score=normalised'), learningRate: 0.05, momentum: 0.9, weightDecay: 0,
        out, backend,
      })).rejects.toThrow(/infobatch:score=normalised in '--policies' asks for score=normalised, but classification records the loss as the score/);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
    expect(() => assertTaskScoring(segmentationTask, 'normalised')).toThrow(/The segmentation task cannot score samples by "normalised": it offers loss\./);
    expect(() => assertTaskScoring(diffusionTask, 'normalised')).not.toThrow();
  });
});
