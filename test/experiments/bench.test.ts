import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBench, type BenchOptions } from '../../src/experiments/bench.js';
import { mergeResults } from '../../src/experiments/merge-results.js';
import { parsePolicySpecs } from '../../src/experiments/policy-spec.js';
import type { BenchResults } from '../../src/experiments/results.js';
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
    const results = await runBench(options(out));
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
    expect(matched.epochs.length).toBe(Math.max(1, Math.round(4 * (1 - (written.runs.filter((r) => r.label === 'infobatch').reduce((s, r) => s + r.final.savedFraction, 0) / 2)))));
    expect(infobatch.epochs.some((e) => e.scoreHistogram !== undefined)).toBe(true);
    expect(await readFile(join(out, 'report.md'), 'utf8')).toContain('| infobatch |');
    expect(await readFile(join(out, 'report.html'), 'utf8')).toContain('<svg');
  });

  it('resumes an interrupted bench: only missing runs are trained, and they come out the same', async () => {
    const path = join(out, 'results.json');
    const complete = JSON.parse(await readFile(path, 'utf8')) as BenchResults;
    const interrupted = { ...complete, runs: complete.runs.slice(0, 3) };
    await writeFile(path, JSON.stringify(interrupted));
    const trained: string[] = [];
    const resumed = await runBench({ ...options(out), onEpoch: (run, record) => record.epoch === 0 && trained.push(`${run.label}/${run.seed}`) });
    expect(trained).toHaveLength(5);
    expect(resumed.runs.slice(0, 3)).toEqual(interrupted.runs);
    // Deterministic training: the re-run runs equal the first ones in everything but wall-clock.
    const strip = (r: BenchResults['runs'][number]) => ({ ...r, epochs: r.epochs.map((e) => ({ ...e, trainSeconds: 0, pruneSeconds: 0 })), final: { ...r.final, trainSeconds: 0, pruneSeconds: 0 } });
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
});
