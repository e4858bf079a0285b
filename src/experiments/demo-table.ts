/**
 * The demo's comparison (full data, InfoBatch, and full data for fewer epochs at InfoBatch's
 * budget), shared by the CLI demo and the browser page. Pure module: no node:*, no tfjs.
 */
import type { RunResult } from './results.js';

/** The demo's runs: full data, InfoBatch, and full data for fewer epochs at InfoBatch's sample budget. */
export type DemoRunName = 'full' | 'infobatch' | 'full-matched';

/** How the table names each run. */
export const DEMO_RUN_TITLES: Readonly<Record<DemoRunName, string>> = Object.freeze({
  full: 'full data',
  infobatch: 'InfoBatch',
  'full-matched': 'full data, fewer epochs',
});

/** The runs the table compares (`matched` is optional: the browser page trains only the first two). */
export interface DemoRuns {
  readonly full: RunResult;
  readonly infobatch: RunResult;
  readonly matched?: RunResult;
}

/** The demo's training recipe (besides model, epochs and seed), shared by the CLI demo and the browser page. */
export const DEMO_RECIPE = Object.freeze({ batchSize: 128, learningRate: 0.05, momentum: 0.9, weightDecay: 5e-4 });

/** Column titles of the comparison table. */
export const DEMO_TABLE_COLUMNS = ['run', 'epochs', 'test accuracy', 'sample passes', 'wall-clock (s)', 'passes saved', 'time saved'] as const;

/** Epochs of full-data training that cost what a run with `savedFraction` of `epochs` saved costs (at least 1). */
export function matchedEpochs(epochs: number, savedFraction: number): number {
  return Math.max(1, Math.round(epochs * (1 - savedFraction)));
}

/** Wall-clock of a run's training loop: training plus pruning overhead (evaluation excluded). */
export function demoWallSeconds(run: RunResult): number {
  return run.final.trainSeconds + run.final.pruneSeconds;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** The table title of a run label (the label itself when it is not one of the demo's). */
function title(label: string): string {
  return Object.hasOwn(DEMO_RUN_TITLES, label) ? DEMO_RUN_TITLES[label as DemoRunName] : label;
}

/**
 * One table row of `run`; `full` is the baseline the two 'saved' columns compare with ('-' for the
 * baseline itself). Saved passes and time are both measured against the full-data run.
 */
export function demoTableRow(run: RunResult, full: RunResult | undefined): string[] {
  const wall = demoWallSeconds(run);
  const baseline = full === undefined || run === full;
  return [
    title(run.label),
    String(run.epochs.length),
    pct(run.final.testAccuracy),
    run.final.samplesForwarded.toLocaleString('en-US'),
    wall.toFixed(1),
    baseline ? '-' : pct(1 - run.final.samplesForwarded / full.final.samplesForwarded),
    baseline ? '-' : pct(1 - wall / demoWallSeconds(full)),
  ];
}

/** The data rows of the table: full data, InfoBatch, then (when present) full data for fewer epochs. */
export function demoTableRows(runs: DemoRuns): string[][] {
  return [runs.full, runs.infobatch, ...(runs.matched === undefined ? [] : [runs.matched])].map((run) => demoTableRow(run, runs.full));
}

/** The table as aligned text lines (header, rule, one line per run), as the CLI prints it. */
export function formatDemoTable(runs: DemoRuns): string[] {
  const rows = [['', ...DEMO_TABLE_COLUMNS.slice(1)], ...demoTableRows(runs)];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)];
}

/** Time saved against passes saved, and whether their gap is larger than the timing noise explains. */
export interface DemoTiming {
  /** Fraction of the full run's sample passes InfoBatch did not make. */
  readonly passesSaved: number;
  /** Fraction of the full run's wall-clock InfoBatch did not spend. */
  readonly timeSaved: number;
  /** `timeSaved − passesSaved`: what a pass cost more (negative) or less (positive) under InfoBatch. */
  readonly gap: number;
  /** About two standard errors of `gap` from the epoch-to-epoch spread of the cost of one pass. */
  readonly noise: number;
  /** Whether `|gap|` exceeds `noise` (and one point). */
  readonly beyondNoise: boolean;
}

function meanVar(values: readonly number[]): { mean: number; variance: number } {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const variance = values.length < 2 ? 0 : values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1);
  return { mean, variance };
}

/**
 * Compares InfoBatch's time saving with its pass saving. If a sample pass cost the same in both
 * runs, the two would match; the noise estimate comes from how much the cost of a pass varies
 * from epoch to epoch within each run (two standard errors of the difference of the mean costs).
 */
export function demoTiming(full: RunResult, infobatch: RunResult): DemoTiming {
  const passesSaved = 1 - infobatch.final.samplesForwarded / full.final.samplesForwarded;
  const timeSaved = 1 - demoWallSeconds(infobatch) / demoWallSeconds(full);
  const costs = (run: RunResult) => run.epochs.filter((e) => e.planLength > 0).map((e) => (e.trainSeconds + e.pruneSeconds) / e.planLength);
  const f = meanVar(costs(full));
  const i = meanVar(costs(infobatch));
  const n = (run: RunResult) => Math.max(1, costs(run).length);
  const relativeSe = f.mean > 0 ? Math.sqrt(f.variance / n(full) + i.variance / n(infobatch)) / f.mean : 0;
  const noise = 2 * relativeSe * (1 - passesSaved);
  const gap = timeSaved - passesSaved;
  return { passesSaved, timeSaved, gap, noise, beyondNoise: Math.abs(gap) > Math.max(noise, 0.01) };
}

const points = (x: number) => `${(x * 100).toFixed(1)} points`;

/**
 * The demo's full printout: the table, then the headline (passes saved, with the time saved beside
 * it), the accuracies, and a note when time and passes disagree by more than timing noise.
 */
export function formatDemoReport(runs: DemoRuns): string[] {
  const { full, infobatch, matched } = runs;
  const t = demoTiming(full, infobatch);
  const acc = (run: RunResult) => pct(run.final.testAccuracy);
  const delta = infobatch.final.testAccuracy - full.final.testAccuracy;
  const lines = [
    ...formatDemoTable(runs),
    '',
    `InfoBatch saved ${pct(t.passesSaved)} of the sample passes (${pct(t.timeSaved)} of the training time) ` +
      `and reached ${acc(infobatch)} test accuracy against ${acc(full)} with full data (${delta >= 0 ? '+' : ''}${(delta * 100).toFixed(1)} points).`,
  ];
  if (infobatch.final.samplesForwarded >= full.final.samplesForwarded) {
    lines.push(
      `With ${full.epochs.length} epochs InfoBatch had no epoch to prune: the first has no scores yet and the last 12.5% (at least one) use the full data. ` +
        'Run more epochs (the default is 10) to see a saving.',
    );
  } else if (matched !== undefined && matched.epochs.length >= full.epochs.length) {
    lines.push(`The saving is under half an epoch, so "full data, fewer epochs" trained all ${matched.epochs.length} epochs too; it reached ${acc(matched)}.`);
  } else if (matched !== undefined) {
    lines.push(`Full data for ${matched.epochs.length} instead of ${full.epochs.length} epochs, at about the same number of passes, reached ${acc(matched)}.`);
  }
  if (t.beyondNoise) {
    const why =
      t.gap < 0
        ? `pruning took ${infobatch.final.pruneSeconds.toFixed(2)} s, and fixed per-step and per-epoch costs weigh more in shorter epochs`
        : 'the runs met different machine load, or the full-data run still paid one-off costs';
    lines.push(
      `Time saved and passes saved differ by ${points(Math.abs(t.gap))}, more than the epoch-to-epoch timing noise (about ±${points(t.noise)}) explains: ` +
        `a sample pass cost ${t.gap < 0 ? 'more' : 'less'} under InfoBatch (${why}).`,
    );
  } else {
    lines.push(`Time saved matches passes saved within the epoch-to-epoch timing noise (about ±${points(Math.max(t.noise, 0.01))}).`);
  }
  return lines;
}
