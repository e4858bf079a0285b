import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { InfoBatchError } from '../../src/core/errors.js';
import { columnLayout, escapeHtml, jsonForScript, niceTicks, PALETTE, renderHtmlReport } from '../../src/experiments/report-html.js';
import { escapeMarkdown, markdownCodeBlock, renderMarkdownReport } from '../../src/experiments/report-markdown.js';
import { formatNumber, formatPercent, formatSigned, stat, summarizeResults, type BenchResults, type RunResult } from '../../src/experiments/results.js';
import { syntheticResults } from './fixtures/synthetic-results.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const SCREENSHOT_SCRIPT = join(ROOT, 'scripts/screenshot.mjs');
const CHROMIUM = '/usr/bin/chromium';

/** A run with two epochs; only the fields summaries read are meaningful. */
function run(label: string, seed: number, acc: number, savedFraction: number, trainSeconds: number, pruneSeconds: number, name = label): RunResult {
  return {
    label,
    policy: { name },
    seed,
    epochs: [
      { epoch: 0, testAccuracy: acc - 0.1, testLoss: 1, trainLoss: 2, planLength: 100, keptFraction: 1, threshold: null, trainSeconds: trainSeconds / 2, pruneSeconds: 0 },
      { epoch: 1, testAccuracy: acc, testLoss: 0.5, trainLoss: 1, planLength: 60, keptFraction: 1 - 2 * savedFraction, threshold: 0.7, trainSeconds: trainSeconds / 2, pruneSeconds },
    ],
    final: { testAccuracy: acc, testLoss: 0.5, samplesForwarded: 160, samplesBackpropagated: 160, fullDataSamples: 200, savedFraction, trainSeconds, pruneSeconds },
  };
}

function results(runs: RunResult[], command = 'infobatch bench --epochs 2 --seeds 1,2,3'): BenchResults {
  return {
    schemaVersion: 1,
    name: 'hand-made',
    command,
    createdAt: '2025-01-01T00:00:00.000Z',
    environment: { node: 'v20.0.0', backend: 'cpu', cpus: 2, platform: 'linux x64' },
    config: { dataset: 'toy', model: 'mlp', epochs: 2, batchSize: 32, seeds: [1, 2, 3], learningRate: 0.01 },
    runs,
  };
}

/**
 * full: 90 / 91 / 92 % → mean 91, std 1; wall-clock 10 s.
 * infobatch: 89.5 / 90.5 / 92.5 % → mean 90.8333; per-seed differences −0.5, −0.5, +0.5 →
 * mean −1/6, std √(1/3); wall-clock 6 + 0.5 s → saved (10 − 6.5) / 10 = 0.35.
 * random: seeds 1, 2 only (unpaired). single: one seed. nan: seed 2 diverged.
 */
const HAND_MADE = results([
  run('full', 1, 0.9, 0, 10, 0),
  run('full', 2, 0.91, 0, 10, 0),
  run('full', 3, 0.92, 0, 10, 0),
  run('infobatch', 1, 0.895, 0.4, 6, 0.5),
  run('infobatch', 2, 0.905, 0.4, 6, 0.5),
  run('infobatch', 3, 0.925, 0.3, 6, 0.5),
  run('random', 1, 0.88, 0.5, 5, 0.1),
  run('random', 2, 0.9, 0.5, 6, 0.1),
  run('single', 1, 0.85, 0.2, 12, 0),
  run('nan', 1, 0.9, 0.1, 9, 0),
  run('nan', 2, Number.NaN, 0.1, 9, 0),
  run('nan', 3, 0.92, 0.1, 9, 0),
]);

describe('summarizeResults', () => {
  const summary = summarizeResults(HAND_MADE);
  const byLabel = (label: string) => summary.policies.find((p) => p.label === label)!;

  it('keeps labels in first-appearance order and finds the baseline', () => {
    expect(summary.baselineLabel).toBe('full');
    expect(summary.policies.map((p) => p.label)).toEqual(['full', 'infobatch', 'random', 'single', 'nan']);
  });

  it('computes mean ± sample std of final accuracy in %', () => {
    const full = byLabel('full');
    expect(full.seeds).toBe(3);
    expect(full.accuracy.mean).toBeCloseTo(91, 10);
    expect(full.accuracy.std).toBeCloseTo(1, 10);
    expect(full.isBaseline).toBe(true);
    expect(full.deltaVsFull).toBe(0);
    expect(full.deltaStd).toBeNull();
    expect(full.savedWallClock).toBe(0);
  });

  it('computes paired differences, saved passes and saved wall-clock', () => {
    const ib = byLabel('infobatch');
    expect(ib.accuracy.mean).toBeCloseTo(272.5 / 3, 10);
    expect(ib.paired).toBe(true);
    expect(ib.deltaVsFull).toBeCloseTo(-1 / 6, 10);
    expect(ib.deltaStd).toBeCloseTo(Math.sqrt(1 / 3), 10);
    expect(ib.savedSamplePasses.mean).toBeCloseTo(1.1 / 3, 12);
    expect(ib.savedWallClock).toBeCloseTo(0.35, 12);
    expect(ib.trainSeconds).toEqual({ mean: 6, std: 0, n: 3, nonFinite: 0 });
    expect(ib.pruneSeconds.mean).toBeCloseTo(0.5, 12);
  });

  it('does not pair runs whose seeds differ from the baseline', () => {
    const random = byLabel('random');
    expect(random.paired).toBe(false);
    expect(random.deltaStd).toBeNull();
    expect(random.deltaVsFull).toBeCloseTo(89 - 91, 10);
    expect(random.savedWallClock).toBeCloseTo((10 - 5.6) / 10, 12);
  });

  it('gives no std for a single seed', () => {
    const single = byLabel('single');
    expect(single.accuracy).toEqual({ mean: 85, std: null, n: 1, nonFinite: 0 });
    expect(single.deltaVsFull).toBeCloseTo(-6, 10);
    expect(single.deltaStd).toBeNull();
    expect(single.savedWallClock).toBeCloseTo(-0.2, 12);
  });

  it('leaves NaN out of means, counts it, and does not pair', () => {
    const nan = byLabel('nan');
    expect(nan.accuracy.n).toBe(2);
    expect(nan.accuracy.nonFinite).toBe(1);
    expect(nan.accuracy.mean).toBeCloseTo(91, 10);
    expect(nan.accuracy.std).toBeCloseTo(Math.SQRT2, 10);
    expect(nan.paired).toBe(false);
    expect(nan.deltaVsFull).toBeCloseTo(0, 10);
    expect(stat([Number.NaN, null, Infinity])).toEqual({ mean: null, std: null, n: 0, nonFinite: 3 });
  });

  it('aggregates per-epoch curves (mean/min/max over seeds)', () => {
    const full = byLabel('full');
    expect(full.epochs.map((e) => e.epoch)).toEqual([0, 1]);
    expect(full.epochs[1]!.testAccuracy.mean).toBeCloseTo(91, 10);
    expect(full.epochs[1]!.testAccuracy.min).toBeCloseTo(90, 10);
    expect(full.epochs[1]!.testAccuracy.max).toBeCloseTo(92, 10);
    expect(byLabel('infobatch').epochs[1]!.keptFraction.mean).toBeCloseTo(1 - 2 * (1.1 / 3), 12);
  });

  it('reports n/a differences without a full label', () => {
    const s = summarizeResults(results(HAND_MADE.runs.filter((r) => r.label !== 'full')));
    expect(s.baselineLabel).toBeNull();
    for (const p of s.policies) {
      expect(p.deltaVsFull).toBeNull();
      expect(p.deltaStd).toBeNull();
      expect(p.savedWallClock).toBeNull();
      expect(p.isBaseline).toBe(false);
    }
  });

  it('accepts another baseline label', () => {
    const s = summarizeResults(HAND_MADE, { baselineLabel: 'infobatch' });
    expect(s.baselineLabel).toBe('infobatch');
    expect(s.policies.find((p) => p.label === 'full')!.deltaVsFull).toBeCloseTo(1 / 6, 10);
  });

  it('rejects duplicate (label, seed) runs', () => {
    const bad = results([run('full', 1, 0.9, 0, 1, 0), run('full', 1, 0.9, 0, 1, 0)]);
    expect(() => summarizeResults(bad)).toThrow(InfoBatchError);
    expect(() => summarizeResults(bad)).toThrow(/seed 1/);
  });

  it('formats numbers with a real minus sign and n/a', () => {
    expect(formatNumber(-0.123, 2)).toBe('\u22120.12');
    expect(formatNumber(-0.001, 2)).toBe('0.00');
    expect(formatNumber(null, 2)).toBe('n/a');
    expect(formatNumber(Number.NaN, 2)).toBe('n/a');
    expect(formatSigned(0.5, 2)).toBe('+0.50');
    expect(formatPercent(0.38)).toBe('38.0%');
  });
});

describe('renderMarkdownReport', () => {
  const md = renderMarkdownReport(HAND_MADE);

  it('has a title, the command in a code block, environment and config', () => {
    expect(md.startsWith('# hand-made\n')).toBe(true);
    expect(md).toContain('```sh\ninfobatch bench --epochs 2 --seeds 1,2,3\n```');
    expect(md).toContain('- backend: `cpu`');
    expect(md).toContain('- seeds: `[1,2,3]`');
    expect(md).toContain('- learningRate: `0.01`');
  });

  it('has the table header and one row per policy', () => {
    expect(md).toContain('| policy | seeds | final test acc (mean ± std) | Δ acc vs full (points) | 95% CI of Δ | verdict | saved sample passes | saved wall-clock | saved CPU | train s | prune overhead s |');
    expect(md).toContain('| full | 3 | 91.00 ± 1.00 | baseline |  |  | 0.0% | 0.0% | n/a | 10.00 | 0.000 |');
    // Paired differences −0.5, −0.5, +0.5: mean −1/6, std √(1/3), half-width t(0.975, 2)·std/√3 = 1.434.
    expect(md).toContain('| infobatch | 3 | 90.83 ± 1.53 | \u22120.17 ± 0.58 | \\[\u22121.60, +1.27\\] | lossless | 36.7% | 35.0% | n/a | 6.00 | 0.500 |');
    // Seeds 1 and 2 pair: −2 and −1, mean −1.5, std 0.707, half-width 12.706·0.707/√2 = 6.353.
    expect(md).toContain('| random | 2 | 89.00 ± 1.41 | \u22121.50 ± 0.71 | \\[\u22127.85, +4.85\\] | inconclusive | 50.0% | 44.0% | n/a | 5.50 | 0.100 |');
    expect(md).toContain('| single | 1 | 85.00 ± n/a | \u22125.00 | n/a | n/a | 20.0% | \u221220.0% | n/a | 12.00 | 0.000 |');
    expect(md).toContain('| nan | 3 | 91.00 ± 1.41 (1 non-finite excluded) | 0.00 ± 0.00 (2 paired) | \\[0.00, 0.00\\] | lossless | 10.0% | 10.0% | n/a | 9.00 | 0.000 |');
    expect(md).toContain('| infobatch | \u22120.50 | \u22120.50 | +0.50 | \u22120.17 | [\u22121.60, +1.27] |');
    expect(md).toContain('"lossless" only where \\|mean Δ\\| ≤ 0.2 points AND the 95% CI covers 0');
    expect(md).toContain('The headline saving is sample passes');
  });

  it('has a factual reading line per policy', () => {
    expect(md).toContain('- infobatch: \u22120.17 points (paired std 0.58, 95% CI \\[\u22121.60, +1.27\\] over 3 paired seeds: lossless) at 36.7% saved sample passes, 35.0% saved wall-clock (3 seeds).');
    expect(md).toContain('- full: baseline, 91.00% final test accuracy');
  });

  it('shows n/a without a full label', () => {
    const noFull = renderMarkdownReport(results(HAND_MADE.runs.filter((r) => r.label !== 'full')));
    expect(noFull).toContain('| infobatch | 3 | 90.83 ± 1.53 | n/a | n/a | n/a | 36.7% | n/a | n/a | 6.00 | 0.500 |');
    expect(noFull).toContain('No run is labelled full');
  });

  it('escapes table-breaking labels and fences commands containing backticks', () => {
    const odd = renderMarkdownReport(results([run('a | <b>', 1, 0.9, 0, 1, 0)], 'echo ```x```'));
    expect(odd).toContain('| a \\| \\<b\\> | 1 |');
    expect(odd).toContain('````sh\necho ```x```\n````');
    expect(escapeMarkdown('x*y_z')).toBe('x\\*y\\_z');
    expect(markdownCodeBlock('plain')).toBe('```\nplain\n```');
  });
});

describe('renderHtmlReport', () => {
  const evil = '<script>alert("x")</script> r=0.5';
  const data = syntheticResults({ seeds: [1, 2] });
  data.runs.filter((r) => r.label === 'dynamic-random').forEach((r) => (r.label = evil));
  data.command = 'infobatch bench --name "</script><!-- & \u2028"';
  const html = renderHtmlReport(data);

  it('is self-contained: no external URLs, stylesheets or fonts', () => {
    expect(html).not.toMatch(/\b(?:src|href|xlink:href|action)\s*=\s*["']?\s*(?:https?:)?\/\//i);
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/<link\b|@import|url\(/i);
    expect(html).toContain("default-src 'none'");
  });

  it('embeds the results and summary as JSON', () => {
    const match = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html);
    expect(match).not.toBeNull();
    const embedded = JSON.parse(match![1]!);
    expect(embedded.schemaVersion).toBe(1);
    expect(embedded.results).toEqual(JSON.parse(JSON.stringify(data)));
    expect(embedded.summary.policies.map((p: { label: string }) => p.label)).toContain(evil);
    expect(embedded.results.command).toBe(data.command);
  });

  it('escapes labels and the command everywhere', () => {
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; r=0.5');
    expect(html.match(/<script\b/g)).toHaveLength(3); // early handler, JSON data, main script
    expect(html.match(/<\/script>/g)).toHaveLength(3);
    expect(html).not.toContain('<!-- &');
    expect(jsonForScript({ s: '</script><!--&\u2028' })).toBe('{"s":"\\u003c/script\\u003e\\u003c!--\\u0026\\u2028"}');
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('has the table, the command and all plots', () => {
    expect(html).toContain('<pre><code>infobatch bench --name &quot;&lt;/script&gt;&lt;!-- &amp; \u2028&quot;</code></pre>');
    for (const chart of ['paired', 'frontier-passes', 'frontier-wall', 'accuracy', 'kept', 'scatter-wall', 'scatter-passes']) expect(html).toContain(`data-chart="${chart}"`);
    // Two infobatch policies × 3 histogram epochs each.
    expect(html.match(/data-chart="histogram-/g)).toHaveLength(6);
    expect(html).toContain('class="threshold"');
    expect(html).not.toMatch(/data-marks="0"/);
    expect(html).toContain('<th scope="col">policy</th>');
    expect(html).toMatch(/<td class="verdict-(lossless|worse|inconclusive|better)">(lossless|worse|inconclusive|better)<\/td>/);
    expect(html).toContain('−'); // real minus signs in the table
  });

  it('renders a report with no full run, one seed and NaN without throwing', () => {
    const r = results([run('infobatch', 1, Number.NaN, 0.3, 5, 0.1), run('random', 1, 0.8, 0.3, 5, 0)]);
    const out = renderHtmlReport(r);
    expect(out).toContain('No run is labelled full');
    expect(out).toContain('data-chart="scatter-wall" data-marks="0" data-empty="true"');
    expect(out).toContain('No run recorded score histograms.');
  });

  it('numbers epochs from 1 in every plot and histogram title', () => {
    // The fixture's runs have epochs 0..9 in results.json.
    expect(html).toContain('infobatch · seed 1 · epoch 2</figcaption>');
    expect(html).not.toMatch(/· epoch 0</);
    expect(html).toMatch(/<title>full, epoch 10: /);
    expect(html).not.toMatch(/<title>full, epoch 0: /);
  });

  it('plots paired differences per seed with their mean and 95% interval, and the frontier', () => {
    const paired = /<figure class="chart" data-chart="paired"[\s\S]*?<\/figure>/.exec(html)![0];
    // 4 policies besides full, 2 seeds each: 8 per-seed dots and 4 means.
    expect(paired.match(/data-mark="point"/g)).toHaveLength(4);
    expect(paired.match(/, seed [12]: [+\u2212]?\d/g)).toHaveLength(8);
    expect(paired).toContain('class="band"');
    expect(html).toContain('Frontier: InfoBatch against random pruning and fewer epochs at the same saving');
    expect(html).toMatch(/InfoBatch is (lossless|not lossless|lossless \()/);
  });

  it('gives each of 20 policies its own colour, every pair at least 25 apart in CIELAB', () => {
    expect(new Set(PALETTE).size).toBe(20);
    const lab = (hex: string): number[] => {
      const [r, g, b] = [1, 3, 5].map((i) => {
        const c = parseInt(hex.slice(i, i + 2), 16) / 255;
        return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
      });
      const f = (t: number) => (t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116);
      const x = f((r! * 0.4124 + g! * 0.3576 + b! * 0.1805) / 0.95047);
      const y = f(r! * 0.2126 + g! * 0.7152 + b! * 0.0722);
      const z = f((r! * 0.0193 + g! * 0.1192 + b! * 0.9505) / 1.08883);
      return [116 * y - 16, 500 * (x - y), 200 * (y - z)];
    };
    let closest = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 20; i++) for (let j = i + 1; j < 20; j++) closest = Math.min(closest, Math.hypot(...lab(PALETTE[i]!).map((v, k) => v - lab(PALETTE[j]!)[k]!)));
    expect(closest).toBeGreaterThanOrEqual(25);
  });

  it('lays labels out in a column without overlaps, as near their points as it can', () => {
    expect(columnLayout([50, 52, 54], 0, 300)).toEqual([50, 63, 76]);
    expect(columnLayout([295, 296], 0, 300)).toEqual([287, 300]);
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 300, noNaN: true }), { minLength: 1, maxLength: 20 }), (wanted) => {
        const placed = columnLayout(wanted, 0, 300).slice().sort((a, b) => a - b);
        for (let i = 1; i < placed.length; i++) expect(placed[i]! - placed[i - 1]!).toBeGreaterThanOrEqual(13 - 1e-9);
      }),
      { numRuns: 100, seed: 5 },
    );
  });

  it('shows histogram counts on a log scale', () => {
    expect(html).toContain('count (log scale)');
  });

  it('picks nice ticks', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(88.3, 90.4, 4)).toEqual([88.5, 89, 89.5, 90]);
  });
});

describe('scripts/screenshot.mjs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'infobatch-report-test-'));
  // KEEP_REPORT_SCREENSHOT=1 keeps the temp dir (and the screenshot) for a look.
  afterAll(() => {
    if (process.env.KEEP_REPORT_SCREENSHOT !== '1') rmSync(dir, { recursive: true, force: true });
  });

  it('fails with a clear message when Chromium is missing', () => {
    const html = join(dir, 'missing.html');
    writeFileSync(html, '<!doctype html><body></body>');
    const out = spawnSync(process.execPath, [SCREENSHOT_SCRIPT, html, join(dir, 'missing.png')], {
      encoding: 'utf8',
      env: { ...process.env, CHROMIUM_PATH: join(dir, 'no-such-chromium') },
    });
    expect(out.status).toBe(2);
    expect(out.stderr).toMatch(/Chromium not found at .*no-such-chromium/);
    expect(out.stderr).toContain('apt-get install -y chromium');
  });

  const hasChromium = existsSync(CHROMIUM);
  if (!hasChromium) console.warn(`[report.test] skipping Chromium render tests: ${CHROMIUM} is absent (apt-get update && apt-get install -y chromium)`);

  it.skipIf(!hasChromium)('renders the report in headless Chromium: marker ok, screenshot written', () => {
    const html = join(dir, 'report.html');
    const png = join(dir, 'report.png');
    writeFileSync(html, renderHtmlReport(syntheticResults()));

    const dom = spawnSync(
      CHROMIUM,
      ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', `--user-data-dir=${join(dir, 'profile')}`, '--window-size=1280,2400', '--virtual-time-budget=5000', '--dump-dom', pathToFileURL(html).href],
      { encoding: 'utf8', timeout: 90_000, maxBuffer: 64 * 1024 * 1024 },
    );
    expect(dom.status, dom.stderr).toBe(0);
    expect(dom.stdout).toMatch(/<body[^>]*data-rendered="ok"/);
    expect(dom.stdout).toMatch(/<div id="error-banner" hidden="">\s*<\/div>/);

    const shot = spawnSync(process.execPath, [SCREENSHOT_SCRIPT, html, png], { encoding: 'utf8', timeout: 180_000 });
    expect(shot.status, shot.stderr).toBe(0);
    expect(shot.stdout).toContain('rendered ok (13 charts)'); // paired, 2 frontier, 4 plots, 6 histograms
    const bytes = readFileSync(png);
    expect(bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
    expect(bytes.readUInt32BE(16)).toBe(1280); // IHDR width
    expect(bytes.length).toBeGreaterThan(20_000);
    console.log(`[report.test] screenshot written to ${png}${process.env.KEEP_REPORT_SCREENSHOT === '1' ? '' : ' (removed after the suite; KEEP_REPORT_SCREENSHOT=1 keeps it)'}`);
  });

  it.skipIf(!hasChromium)('reports a page script error instead of a screenshot', () => {
    const html = join(dir, 'broken.html');
    const broken = renderHtmlReport(syntheticResults({ seeds: [1] })).replace(/(<script type="application\/json" id="report-data">)/, '$1{not json');
    writeFileSync(html, broken);
    const shot = spawnSync(process.execPath, [SCREENSHOT_SCRIPT, html, join(dir, 'broken.png')], { encoding: 'utf8', timeout: 180_000 });
    expect(shot.status).toBe(1);
    expect(shot.stderr).toContain('data-rendered=error');
    expect(shot.stderr).toMatch(/page error: Report script error: .*JSON/);
    expect(existsSync(join(dir, 'broken.png'))).toBe(false);
  });
});
