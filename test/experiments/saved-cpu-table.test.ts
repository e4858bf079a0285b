import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderHtmlReport } from '../../src/experiments/report-html.js';
import { renderMarkdownReport } from '../../src/experiments/report-markdown.js';
import { pairedSaving, summarizeResults, type RunResult } from '../../src/experiments/results.js';
import { savedCpuTable } from '../../src/experiments/saved-cpu-table.js';
import { bench, run } from './fixtures/one-epoch-runs.js';

describe('pairedSaving: per seed', () => {
  it("gives each paired seed's own saving, sorted by seed, beside the pooled one", () => {
    // full seed 1 ran slow (drift): its seed's saving stands out, and pulls the pooled figure up.
    const full = [run('full', 1, 0.9, 800), run('full', 0, 0.9, 400), run('full', 2, 0.9, 400)];
    const ib = [run('ib', 2, 0.9, 260), run('ib', 0, 0.9, 280), run('ib', 1, 0.9, 270), run('ib', 3, 0.9, 100)];
    const saving = pairedSaving(ib, full, (r) => r.final.trainCpuSeconds);
    expect(saving.perSeed).toEqual([
      { seed: 0, saving: expect.closeTo(0.3, 12) },
      { seed: 1, saving: expect.closeTo(0.6625, 12) },
      { seed: 2, saving: expect.closeTo(0.35, 12) },
    ]);
    expect(saving.seeds).toBe(3);
    expect(saving.saving).toBeCloseTo((1600 - 810) / 1600, 12);
    expect(pairedSaving(ib, undefined, (r) => r.final.trainCpuSeconds)).toEqual({ saving: null, seeds: 0, perSeed: [] });
  });

  it('property: the pooled saving lies between the smallest and the largest per-seed saving', () => {
    const cost = fc.double({ min: 1, max: 1000, noNaN: true });
    fc.assert(
      fc.property(fc.array(fc.tuple(cost, cost), { minLength: 1, maxLength: 6 }), (pairs) => {
        const base = pairs.map(([b], seed) => run('full', seed, 0.9, b));
        const runs = pairs.map(([, c], seed) => run('a', seed, 0.9, c));
        const { saving, perSeed } = pairedSaving(runs, base, (r) => r.final.trainCpuSeconds);
        const values = perSeed.map((s) => s.saving);
        expect(perSeed.length).toBe(pairs.length);
        expect(saving!).toBeGreaterThanOrEqual(Math.min(...values) - 1e-9);
        expect(saving!).toBeLessThanOrEqual(Math.max(...values) + 1e-9);
      }),
    );
  });
});

describe('savedCpuTable', () => {
  const on = (r: RunResult, cpuModel: string): RunResult => ({ ...r, machine: { cpuModel, cores: 2, finishedAt: '2026-01-01T00:00:00Z' } });
  const results = bench([
    on(run('full', 0, 0.9, 400), 'X'),
    on(run('full', 1, 0.9, 800), 'X'),
    on(run('full', 2, 0.9, 400), 'X'),
    on(run('ib', 0, 0.9, 280), 'X'),
    on(run('ib', 1, 0.9, 270), 'X'),
    on(run('ib', 2, 0.9, 260), 'Y'), // another CPU: no pair
    run('old', 0, 0.9), // recorded before CPU seconds: no row
  ]);

  it("lists the baseline's CPU seconds, each label's per-seed saving and the pooled one", () => {
    const table = savedCpuTable(results, summarizeResults(results))!;
    expect(table.columns).toEqual(['policy', 'seed 0', 'seed 1', 'pooled']);
    expect(table.rows).toEqual([
      ['full (CPU s)', '400', '800', ''],
      ['ib', '30.0%', '66.3%', '54.2%'],
    ]);
  });

  it('is null without a baseline or without any paired CPU seconds', () => {
    expect(savedCpuTable(results, summarizeResults(results, { baselineLabel: 'none' }))).toBeNull();
    const noCpu = bench([run('full', 0, 0.9), run('ib', 0, 0.9)]);
    expect(savedCpuTable(noCpu, summarizeResults(noCpu))).toBeNull();
  });

  it('appears in report.md and report.html, and not where there is nothing to show', () => {
    const md = renderMarkdownReport(results);
    expect(md).toContain('### Saved CPU time, per seed');
    expect(md).toContain('| ib | 30.0% | 66.3% | 54.2% |');
    const html = renderHtmlReport(results);
    expect(html).toContain('<h3>Saved CPU time, per seed</h3>');
    expect(html).toContain('<td>66.3%</td>');
    const noCpu = bench([run('full', 0, 0.9), run('ib', 0, 0.9)]);
    expect(renderMarkdownReport(noCpu)).not.toContain('Saved CPU time, per seed');
    expect(renderHtmlReport(noCpu)).not.toContain('Saved CPU time, per seed');
  });
});
