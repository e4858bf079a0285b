import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBench, type BenchOptions } from '../../src/experiments/bench.js';
import { mergeResults } from '../../src/experiments/merge-results.js';
import { parsePolicySpecs } from '../../src/experiments/policy-spec.js';
import type { BenchResults } from '../../src/experiments/results.js';
import { serializeResults } from '../../src/experiments/results-file.js';
import { selectBackend } from '../../src/tfjs/backend.js';

// A smoke configuration of the harness: the built-in synthetic data, a few hundred samples.
let out: string;
let backend: string;
beforeAll(async () => {
  backend = await selectBackend();
  out = await mkdtemp(join(tmpdir(), 'infobatch-bench-'));
});
afterAll(async () => rm(out, { recursive: true, force: true }));

function options(dir: string): BenchOptions {
  return {
    name: 'smoke', command: 'npx infobatch bench (test)', dataset: 'synthetic', model: 'mlp', epochs: 4, batchSize: 64,
    seeds: [0, 1], policies: parsePolicySpecs('full,infobatch,random@matched,full@matched'),
    learningRate: 0.05, momentum: 0.9, weightDecay: 5e-4, trainLimit: 600, testLimit: 300, out: dir, backend,
  };
}

describe('runBench', () => {
  it('writes results.json, report.md and report.html with every (policy, seed) run', async () => {
    const order: string[] = [];
    const results = await runBench({ ...options(out), onEpoch: (run, record) => record.epoch === 0 && order.push(`${run.label}/${run.seed}`) });
    // Seed by seed, so that drift in machine speed hits every policy of a seed alike.
    expect(order).toEqual(['full/0', 'infobatch/0', 'random@matched/0', 'full@matched/0', 'full/1', 'infobatch/1', 'random@matched/1', 'full@matched/1']);
    expect(results.runs.map((r) => `${r.label}/${r.seed}`).sort()).toEqual(
      ['full/0', 'full/1', 'full@matched/0', 'full@matched/1', 'infobatch/0', 'infobatch/1', 'random@matched/0', 'random@matched/1'],
    );
    const written = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as BenchResults;
    expect(written.runs).toHaveLength(8);
    for (const run of written.runs) {
      expect(run.epochs.length).toBeGreaterThan(0);
      expect(run.final.testAccuracy).toBeGreaterThan(0.4); // 4 classes: well above chance
      expect(run.final.samplesForwarded).toBe(run.epochs.reduce((s, e) => s + e.planLength, 0));
    }
    const infobatch = written.runs.find((r) => r.label === 'infobatch')!;
    const full = written.runs.find((r) => r.label === 'full')!;
    expect(infobatch.final.samplesForwarded).toBeLessThan(full.final.samplesForwarded);
    // Same seed, same initial weights: epoch 0 of both is the full data, so the first epoch matches.
    expect(infobatch.epochs[0]!.testAccuracy).toBe(full.epochs[0]!.testAccuracy);
    // The matched full-data run trains fewer epochs, sized from infobatch's saving.
    const matched = written.runs.find((r) => r.label === 'full@matched')!;
    for (const seed of [0, 1]) {
      const saving = written.runs.find((r) => r.label === 'infobatch' && r.seed === seed)!.final.savedFraction;
      const matchedRun = written.runs.find((r) => r.label === 'full@matched' && r.seed === seed)!;
      expect(matchedRun.epochs.length).toBe(Math.max(1, Math.round(4 * (1 - saving))));
    }
    expect(matched.seed).toBe(0);
    // Every run records the CPU seconds of its training loops beside wall-clock.
    for (const run of written.runs) {
      expect(run.final.trainCpuSeconds).toBeGreaterThan(0);
      expect(run.epochs.every((e) => Number.isFinite(e.trainCpuSeconds) && e.trainCpuSeconds! >= 0)).toBe(true);
    }
    // ... and the machine it trained on, so that a bench resumed elsewhere compares timings fairly.
    const model = cpus()[0]!.model.trim();
    expect(written.environment.cpuModel).toBe(model);
    for (const run of written.runs) expect(run.machine).toEqual({ cpuModel: model, cores: cpus().length, finishedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    expect(infobatch.epochs.some((e) => e.scoreHistogram !== undefined)).toBe(true);
    // With each histogram after the first epoch comes how the scores carried over through that epoch,
    // over every sample it visited (all were scored in epoch 0, on the full data).
    const carried = infobatch.epochs.filter((e) => e.scorePersistence !== undefined);
    expect(carried.map((e) => e.epoch)).toEqual(infobatch.epochs.filter((e) => e.scoreHistogram !== undefined && e.epoch > 0).map((e) => e.epoch));
    expect(carried.length).toBeGreaterThan(0);
    for (const e of carried) {
      expect(e.scorePersistence!.samples).toBe(e.planLength);
      expect(Math.abs(e.scorePersistence!.rankCorrelation)).toBeLessThanOrEqual(1);
    }
    expect(await readFile(join(out, 'report.md'), 'utf8')).toContain('How per-sample scores carry over');
    expect(await readFile(join(out, 'report.md'), 'utf8')).toContain(`- CPU of the runs: ${model} (8 runs)`);
    expect(await readFile(join(out, 'report.md'), 'utf8')).toContain('| infobatch |');
    expect(await readFile(join(out, 'report.html'), 'utf8')).toContain('<svg');
  });

  it('resumes an interrupted bench: only missing runs are trained, and they come out the same', async () => {
    const path = join(out, 'results.json');
    const complete = JSON.parse(await readFile(path, 'utf8')) as BenchResults;
    const interrupted = { ...complete, runs: complete.runs.slice(0, 3) };
    await writeFile(path, serializeResults(interrupted)); // what the bench wrote after its third run
    const trained: string[] = [];
    const resumed = await runBench({ ...options(out), onEpoch: (run, record) => record.epoch === 0 && trained.push(`${run.label}/${run.seed}`) });
    expect(trained).toHaveLength(5);
    expect(resumed.runs.slice(0, 3)).toEqual(interrupted.runs);
    // Deterministic training: the re-run runs equal the first ones in everything but wall-clock (and when they finished).
    const strip = (r: BenchResults['runs'][number]) => ({ ...r, machine: undefined, epochs: r.epochs.map((e) => ({ ...e, trainSeconds: 0, pruneSeconds: 0, trainCpuSeconds: 0 })), final: { ...r.final, trainSeconds: 0, pruneSeconds: 0, trainCpuSeconds: 0 } });
    expect(resumed.runs.map(strip)).toEqual(complete.runs.map(strip));
  });

  it('refuses to resume into a folder holding another recipe', async () => {
    await expect(runBench({ ...options(out), epochs: 5 })).rejects.toThrow(/another configuration/);
  });

  it('refuses an out path that is a file, or a results.json that is not results, before training', async () => {
    const file = join(out, 'report.md');
    const trained: string[] = [];
    const onEpoch = (run: { label: string }) => void trained.push(run.label);
    await expect(runBench({ ...options(file), onEpoch })).rejects.toMatchObject({ name: 'InfoBatchError', code: 'INVALID_OPTION', message: expect.stringContaining('must be a folder') });
    const broken = await mkdtemp(join(tmpdir(), 'infobatch-bench-null-'));
    try {
      await writeFile(join(broken, 'results.json'), 'null');
      await expect(runBench({ ...options(broken), onEpoch })).rejects.toMatchObject({ name: 'InfoBatchError', code: 'INVALID_DATA', message: expect.stringContaining(join(broken, 'results.json')) });
    } finally {
      await rm(broken, { recursive: true, force: true });
    }
    expect(trained).toEqual([]);
  });

  it('sizes random@saving and full@saving runs to a fixed saving without an infobatch run', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'infobatch-bench-saving-'));
    try {
      const results = await runBench({ ...options(dir), seeds: [0], policies: parsePolicySpecs('full,random@saving=0.25,full@saving=0.25') });
      const random = results.runs.find((r) => r.label === 'random@saving=0.25')!;
      const fewer = results.runs.find((r) => r.label === 'full@saving=0.25')!;
      // 4 epochs: dynamic random prunes r = 0.25 · 4 / floor(0.875 · 4) = 1/3 in epochs 0..2; full data trains round(4 · 0.75) = 3 epochs.
      expect(random.policy).toMatchObject({ name: 'dynamic-random', delta: 0.875 });
      expect(random.policy['pruneRatio']).toBeCloseTo(1 / 3, 12);
      expect(random.final.savedFraction).toBeCloseTo(0.25, 2);
      expect(fewer.epochs).toHaveLength(3);
      expect(fewer.final.savedFraction).toBeCloseTo(0.25, 12);
      await expect(runBench({ ...options(dir), out: join(dir, 'x'), policies: parsePolicySpecs('random@saving=0.9') })).rejects.toThrow(/saving of 0.9 cannot be reached by dynamic random pruning in 4 epochs/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  it('trains classification with Adam when asked, records it, and keeps SGD benches resumable', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'infobatch-bench-adam-'));
    try {
      const sgd = await runBench({ ...options(join(dir, 'sgd')), seeds: [0], policies: parsePolicySpecs('full,infobatch') });
      // The default optimizer is not written, so benches started before the option existed resume.
      expect(sgd.config).not.toHaveProperty('optimizer');
      const explicit = await runBench({ ...options(join(dir, 'sgd')), optimizer: 'sgd-momentum', seeds: [0], policies: parsePolicySpecs('full,infobatch') });
      expect(explicit.runs).toEqual(sgd.runs);
      const tensorsBefore = tf.memory().numTensors;
      const adam = await runBench({ ...options(join(dir, 'adam')), optimizer: 'adam', learningRate: 0.003, seeds: [0], policies: parsePolicySpecs('full,infobatch') });
      expect(tf.memory().numTensors).toBe(tensorsBefore);
      expect(adam.config).toMatchObject({ optimizer: 'adam', learningRate: 0.003 });
      const finalLoss = (results: BenchResults, label: string) => results.runs.find((r) => r.label === label)!.epochs.at(-1)!.trainLoss;
      // Both learn (the synthetic data is easy), along different paths.
      for (const results of [sgd, adam]) expect(finalLoss(results, 'full')).toBeLessThan(results.runs[0]!.epochs[0]!.trainLoss);
      expect(finalLoss(adam, 'full')).not.toBeCloseTo(finalLoss(sgd, 'full'), 6);
      await expect(runBench({ ...options(join(dir, 'adam')), learningRate: 0.003, seeds: [0], policies: parsePolicySpecs('full,infobatch') })).rejects.toThrow(/another configuration/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("records each run's rescale mode and trains the :rescaleMode=, :lrScale= and :scoreEma= variants as asked", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'infobatch-bench-rescale-'));
    try {
      const results = await runBench({
        ...options(dir),
        optimizer: 'adam',
        learningRate: 0.003,
        seeds: [0],
        policies: parsePolicySpecs('full,infobatch,infobatch:rescaleMode=loss,full:lrScale=1.5,infobatch:scoreEma=0.3'),
      });
      const run = (label: string) => results.runs.find((r) => r.label === label)!;
      expect(run('infobatch').rescaleMode).toBe('step'); // 'auto' under Adam
      expect(run('infobatch:rescaleMode=loss').rescaleMode).toBe('loss');
      expect(run('infobatch').learningRateScale).toBeUndefined();
      expect(run('full:lrScale=1.5').learningRateScale).toBe(1.5);
      // Smoothed scores are recorded as such and move the pruning threshold (the mean score).
      expect(run('infobatch:scoreEma=0.3').scoreEma).toBe(0.3);
      expect(run('infobatch').scoreEma).toBeUndefined();
      expect(run('infobatch:scoreEma=0.3').epochs.map((e) => e.threshold)).not.toEqual(run('infobatch').epochs.map((e) => e.threshold));
      // The modes train differently, and a larger rate moves full data elsewhere.
      expect(run('infobatch').epochs.at(-1)!.trainLoss).not.toBeCloseTo(run('infobatch:rescaleMode=loss').epochs.at(-1)!.trainLoss, 6);
      expect(run('full:lrScale=1.5').epochs.at(-1)!.trainLoss).not.toBeCloseTo(run('full').epochs.at(-1)!.trainLoss, 6);
      // Under the SGD recipe 'auto' keeps the paper's form.
      const sgd = await runBench({ ...options(join(dir, 'sgd')), seeds: [0], policies: parsePolicySpecs('infobatch') });
      expect(sgd.runs[0]!.rescaleMode).toBe('loss');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('trains the EL2N rival and the coreset + InfoBatch combinator end to end', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'infobatch-bench-rivals-'));
    try {
      const results = await runBench({ ...options(dir), seeds: [0], policies: parsePolicySpecs('full,el2n-loss,el2n-loss+infobatch') });
      const el2n = results.runs.find((r) => r.label === 'el2n-loss')!;
      const combined = results.runs.find((r) => r.label === 'el2n-loss+infobatch')!;
      // 2 scoring epochs on all data, then half of the samples in each of the last 2 of 4 epochs.
      expect(el2n.final.savedFraction).toBeCloseTo(0.25, 12);
      expect(el2n.epochs.map((e) => e.keptFraction)).toEqual([1, 1, 0.5, 0.5]);
      // A 70% coreset after the same 2 scoring epochs, then InfoBatch prunes within it (epoch 3 anneals to the whole coreset).
      expect(combined.epochs[2]!.keptFraction).toBeLessThan(0.7);
      expect(combined.epochs[3]!.keptFraction).toBeCloseTo(0.7, 12);
      expect(combined.policy).toMatchObject({ name: 'coreset-infobatch', coreset: { name: 'el2n-loss', pruneRatio: 0.3 } });
      for (const run of [el2n, combined]) expect(run.final.testAccuracy).toBeGreaterThan(0.4);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('mergeResults', () => {
  it('merges benches of one recipe and rejects duplicates or other recipes', async () => {
    const results = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as BenchResults;
    const a = { ...results, command: 'a', runs: results.runs.slice(0, 4) };
    const b = { ...results, command: 'b', runs: results.runs.slice(4) };
    const merged = mergeResults([a, b], 'all');
    expect(merged.runs).toEqual(results.runs);
    expect(merged.command).toBe('a\nb');
    expect(() => mergeResults([a, a])).toThrow(/appears twice/);
    expect(() => mergeResults([a, { ...b, config: { ...b.config, epochs: 9 } }])).toThrow(/recipes differ/);
  });

  it('merges benches of one recipe that ran different seeds, and lists the union of their seeds', async () => {
    const results = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as BenchResults;
    const run = results.runs[0]!;
    const early = { ...results, config: { ...results.config, seeds: [2, 0] }, runs: [{ ...run, seed: 0 }, { ...run, seed: 2 }] };
    const late = { ...results, config: { ...results.config, seeds: [4, 3] }, runs: [{ ...run, seed: 3 }, { ...run, seed: 4 }] };
    const merged = mergeResults([late, early]);
    expect(merged.config.seeds).toEqual([0, 2, 3, 4]);
    expect(merged.runs.map((r) => r.seed)).toEqual([3, 4, 0, 2]);
    expect(late.config.seeds).toEqual([4, 3]);
    expect(() => mergeResults([early, { ...late, config: { ...late.config, learningRate: 0.1 } }])).toThrow(/recipes differ/);
  });
});
