import { describe, expect, it } from 'vitest';
import { frontierOf } from '../../src/experiments/frontier.js';
import { renderMarkdownReport } from '../../src/experiments/report-markdown.js';
import { metricFormat, summarizeResults, type BenchResults } from '../../src/experiments/results.js';
import { frontierResults } from './fixtures/frontier-results.js';

function frontier(results: BenchResults) {
  const summary = summarizeResults(results);
  return frontierOf(results, summary, metricFormat(summary));
}

describe('frontierOf (synthetic fixture results)', () => {
  const results = frontierResults();
  const f = frontier(results)!;

  it('puts InfoBatch, random and fewer epochs on the frontier, sorted by saving, and leaves ablations out', () => {
    expect(f.points.map((p) => `${p.method} ${p.label}`)).toEqual([
      'infobatch infobatch:target=0.2',
      'infobatch infobatch:target=0.3',
      'infobatch infobatch:target=0.4',
      'infobatch infobatch:target=0.5',
      'infobatch infobatch:target=0.6',
      'random random@saving=0.2',
      'random random@saving=0.4',
      'random random@saving=0.5',
      'random random@saving=0.6',
      'fewer-epochs full@saving=0.2',
      'fewer-epochs full@saving=0.4',
      'fewer-epochs full@saving=0.6',
    ]);
    const p = f.points.find((x) => x.label === 'infobatch:target=0.4')!;
    expect(p.delta!.mean).toBeCloseTo(-0.1, 9);
    expect(p.verdict).toBe('lossless');
    expect(p.savedCpu).toBeCloseTo(1 - 61.96 / 102, 9); // mean seconds 100·(0.6 − 0.0004) + 2 against 102
    expect(f.points.find((x) => x.label === 'infobatch:target=0.5')!.verdict).toBe('worse');
  });

  it('compares InfoBatch with the rival nearest in saving, seed by seed', () => {
    const c = f.comparisons.find((x) => x.infobatch === 'infobatch:target=0.4' && x.rivalMethod === 'random')!;
    expect(c.rival).toBe('random@saving=0.4');
    // Differences per seed: 0.4, 0.3, 0.4, 0.5, 0.4 points.
    expect(c.delta!.perSeed.map((d) => d.difference)).toEqual([0.4, 0.3, 0.4, 0.5, 0.4].map((v) => expect.closeTo(v, 9)));
    expect(c.outcome).toBe('beats');
    expect(f.comparisons.find((x) => x.infobatch === 'infobatch:target=0.6' && x.rivalMethod === 'random')!.outcome).toBe('ties with');
    expect(f.comparisons.some((x) => x.infobatch === 'infobatch:target=0.3')).toBe(false);
  });

  it('states the largest lossless saving and each comparison from the intervals', () => {
    expect(f.sentences[0]).toBe(
      'InfoBatch is lossless (|mean Δ| ≤ 0.2 points and the 95% CI covering 0) at savings up to 40.0% saved sample passes (infobatch:target=0.4, 39.3% saved wall-clock): \u22120.10 points, 95% CI [\u22120.30, +0.10], 5 seeds. Beyond it: worse at 50.0% (\u22120.35 points, 95% CI [\u22120.49, \u22120.21], 5 seeds); worse at 60.0% (\u22120.80 points, 95% CI [\u22121.00, \u22120.60], 5 seeds).',
    );
    expect(f.sentences).toContain(
      'At 20.0% saved (infobatch:target=0.2), InfoBatch beats fewer epochs (full@saving=0.2 at 20.0%: InfoBatch \u2212 fewer epochs = +0.35 points, 95% CI [+0.31, +0.39], 5 seeds), and is not distinguishable from random pruning (random@saving=0.2 at 20.0%: InfoBatch \u2212 random pruning = +0.17 points, 95% CI [\u22120.07, +0.41], 5 seeds).',
    );
    expect(f.sentences).toContain('At 30.0% saved (infobatch:target=0.3): no fewer epochs or random pruning run within 5 points of saving to compare with.');
    expect(f.sentences.find((s) => s.startsWith('At 50.0%'))).toMatch(/InfoBatch beats random pruning .*There is no fewer epochs run within 5 points of saving\.$/);
  });

  it('says so when InfoBatch is lossless nowhere, and says "loses to" when the interval is below 0', () => {
    const worse = frontierResults();
    for (const run of worse.runs) if (run.label.startsWith('infobatch:')) run.final.testAccuracy -= 0.01;
    const g = frontier(worse)!;
    expect(g.sentences[0]).toMatch(/^InfoBatch is lossless \(.*\) at none of the savings run: worse at 20.0% \(\u22121.00 points/);
    expect(g.comparisons.find((x) => x.infobatch === 'infobatch:target=0.2' && x.rivalMethod === 'random')!.outcome).toBe('loses to');
  });

  it('says when a smaller saving is not lossless although a larger one is', () => {
    const gap = frontierResults();
    for (const run of gap.runs) if (run.label === 'infobatch:target=0.3') run.final.testAccuracy -= 0.005;
    const g = frontier(gap)!;
    expect(g.sentences[0]).toMatch(/at savings up to 40\.0% saved sample passes .* Not at every smaller saving, though: worse at 30\.0% \(\u22120\.53 points/);
  });

  it('is null without a full run or without InfoBatch points', () => {
    const results2 = frontierResults();
    expect(frontier({ ...results2, runs: results2.runs.filter((r) => r.label !== 'full') })).toBeNull();
    expect(frontier({ ...results2, runs: results2.runs.filter((r) => !r.label.startsWith('infobatch:')) })).toBeNull();
  });

  it('appears in report.md as a table and sentences', () => {
    const md = renderMarkdownReport(results);
    expect(md).toContain('## Frontier');
    expect(md).toMatch(/\| InfoBatch \| infobatch:target=0\.4 \| 5 \| 40\.0% \| 39\.3% \| 39\.3% \| \u22120\.10 ± 0\.16 \| \\\[\u22120\.30, \+0\.10\\\] \| lossless \|/);
    expect(md).toContain('- InfoBatch is lossless');
  });

  it('marks a saving that rests on fewer seeds than the policy ran, in the table and the sentences', () => {
    const partial = frontierResults();
    // Two seeds of target=0.4 lose their CPU seconds; one of them also ran on another CPU.
    const runs = partial.runs.filter((r) => r.label === 'infobatch:target=0.4');
    delete runs[0]!.final.trainCpuSeconds;
    delete runs[1]!.final.trainCpuSeconds;
    runs[1]!.machine = { cpuModel: 'another', cores: 2, finishedAt: '2026-01-01T00:00:00Z' };
    const point = frontier(partial)!.points.find((p) => p.label === 'infobatch:target=0.4')!;
    expect({ seeds: point.seeds, cpu: point.savedCpuSeeds, wall: point.savedWallClockSeeds }).toEqual({ seeds: 5, cpu: 3, wall: 4 });
    const md = renderMarkdownReport(partial);
    expect(md).toMatch(/\| InfoBatch \| infobatch:target=0\.4 \| 5 \| 40\.0% \| [0-9.]+% \(4 paired\) \| [0-9.]+% \(3 paired\) \|/);
    expect(md).toMatch(/infobatch:target=0\.4, [0-9.]+% \(4 paired\) saved wall-clock/);
  });
});
