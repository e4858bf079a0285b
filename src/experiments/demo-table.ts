/**
 * The demo's comparison table (full data vs InfoBatch), shared by the CLI demo and the browser
 * page. Pure module: no node:*, no tfjs.
 */
import type { RunResult } from './results.js';

/** The two runs the table compares. */
export interface DemoRuns {
  readonly full: RunResult;
  readonly infobatch: RunResult;
}

/** The demo's training recipe (besides model, epochs and seed), shared by the CLI demo and the browser page. */
export const DEMO_RECIPE = Object.freeze({ batchSize: 128, learningRate: 0.05, momentum: 0.9, weightDecay: 5e-4 });

/** Column titles of the comparison table. */
export const DEMO_TABLE_COLUMNS = ['run', 'test accuracy', 'samples forwarded', 'wall-clock (s)', 'saved'] as const;

/** Wall-clock of a run's training loop: training plus pruning overhead (evaluation excluded). */
export function demoWallSeconds(run: RunResult): number {
  return run.final.trainSeconds + run.final.pruneSeconds;
}

/** One table row of `run`; `full` is the baseline the 'saved' column compares with ('-' for the baseline itself). */
export function demoTableRow(run: RunResult, full: RunResult | undefined): string[] {
  const wall = demoWallSeconds(run);
  const saved =
    full === undefined || run === full
      ? '-'
      : `${(run.final.savedFraction * 100).toFixed(1)}% passes, ${((1 - wall / demoWallSeconds(full)) * 100).toFixed(1)}% time`;
  return [run.label, `${(run.final.testAccuracy * 100).toFixed(2)}%`, run.final.samplesForwarded.toLocaleString('en-US'), wall.toFixed(1), saved];
}

/** The data rows of the table: full data first, then InfoBatch. */
export function demoTableRows(runs: DemoRuns): string[][] {
  return [demoTableRow(runs.full, runs.full), demoTableRow(runs.infobatch, runs.full)];
}

/** The table as aligned text lines (header, rule, one line per run), as the CLI prints it. */
export function formatDemoTable(runs: DemoRuns): string[] {
  const rows = [['', ...DEMO_TABLE_COLUMNS.slice(1)], ...demoTableRows(runs)];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)];
}
