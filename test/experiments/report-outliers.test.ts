/**
 * Plots keep their axes on the bulk of the runs: on the committed 15-epoch frontier bench, one
 * random-pruning run collapsed to chance (random@saving=0.6, seed 2: −78 points), which used to
 * stretch the paired-difference plot and both frontier plots to −80 … +20 points and hide the
 * 0.1–1 point differences that matter. It is now drawn at the edge, with its value.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderHtmlReport } from '../../src/experiments/report-html.js';
import type { BenchResults } from '../../src/experiments/results.js';

const file = join(import.meta.dirname, '..', '..', 'results', 'fmnist-cnn-15ep-frontier', 'results.json');
const results = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
const html = renderHtmlReport(results);

function figureOf(id: string): string {
  return new RegExp(`<figure class="chart" data-chart="${id}"[\\s\\S]*?</figure>`).exec(html)?.[0] ?? '';
}
const tickValues = (figure: string) =>
  [...figure.matchAll(/<text class="tick"[^>]*>([^<%]*)</g)].map((m) => Number(m[1]!.replace('\u2212', '-')));
const clippedValues = (figure: string) => [...figure.matchAll(/<g class="clipped"[^>]*data-value="([^"]*)"/g)].map((m) => Number(m[1]));

describe('report plots on results/fmnist-cnn-15ep-frontier (one collapsed run among 90)', () => {
  it('the collapsed run is in the results: random@saving=0.6 seed 2 at chance', () => {
    const run = results.runs.find((r) => r.label === 'random@saving=0.6' && r.seed === 2)!;
    expect(run.final.testAccuracy).toBeLessThan(0.15);
  });

  for (const id of ['paired', 'frontier-passes', 'frontier-wall']) {
    it(`${id}: the Δ axis stays on the bulk (within ±6 points, a tenth of a point visible), the outlier drawn at the edge with its value`, () => {
      const figure = figureOf(id);
      expect(figure).not.toBe('');
      const ticks = tickValues(figure).filter(Number.isFinite);
      expect(ticks.length).toBeGreaterThan(3);
      expect(Math.min(...ticks)).toBeGreaterThanOrEqual(-6);
      expect(Math.max(...ticks)).toBeLessThanOrEqual(6);
      // The run's mean difference (−18.2) and its interval's ends are drawn clipped, labelled.
      const clipped = clippedValues(figure);
      expect(clipped.some((v) => v < -18 && v > -19)).toBe(true);
      expect(clipped.some((v) => v < -59)).toBe(true);
      expect(clipped.some((v) => v > 23)).toBe(true);
      expect(figure).toMatch(/class="clipped-label"[^>]*>(mean )?\u221218\.2/);
      expect(figure).toContain('Far outliers');
    });
  }

  it('the paired plot shows the collapsed seed itself at the edge: seed 2, −78.2 points', () => {
    const figure = figureOf('paired');
    expect(clippedValues(figure).some((v) => v < -78 && v > -79)).toBe(true);
    expect(figure).toMatch(/class="clipped-label"[^>]*>seed 2: \u221278\.2/);
  });

  it('a bench without outliers is drawn as before: nothing clipped, no note', () => {
    const clean = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'results', 'fmnist-cnn-15ep-5seeds', 'results.json'), 'utf8')) as BenchResults;
    const cleanHtml = renderHtmlReport(clean);
    expect(cleanHtml).not.toContain('<g class="clipped"');
    expect(cleanHtml).not.toContain('Far outliers');
  });
});
