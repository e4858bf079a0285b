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
import { runTaskTraining } from '../../../src/experiments/tasks/run-task.js';
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
  });
});
