/**
 * The reports' table of saved CPU time per seed: the baseline's CPU seconds of each seed and every
 * other label's saving against the baseline run of the same seed, beside the pooled figure of the
 * summary table. A seed whose saving stands far from the others points to a change in machine
 * speed or load between its runs, not to the policy. Pure module (no node:*).
 */
import { formatNumber, formatPercent, isFiniteNumber, type BenchResults, type ResultsSummary } from './results.js';

/** The table: its seed columns and one row of plain-text cells per label (callers escape them). */
export interface SavedCpuTable {
  /** Column headings: 'policy', one per seed, 'pooled'. */
  columns: string[];
  /** First the baseline's CPU seconds, then one row per label with a paired saving. */
  rows: string[][];
}

/** What the table says, in one paragraph. */
export const SAVED_CPU_NOTE =
  'Each cell: (baseline CPU s − this run\'s CPU s) / baseline CPU s, for the runs of one seed (process CPU seconds of the training loop); ' +
  'pooled: over the paired seeds, as in the results table. "—": no pair (the seed did not run, ran on another CPU, or was recorded before CPU seconds were). ' +
  'A seed far from the others says that the machine\'s speed or load changed between its runs (CPU seconds grow under contention for a shared core), not that the policy changed.';

/**
 * The saved-CPU-per-seed table of `summary`, or null when no label has a paired CPU saving (no
 * baseline, or no run recorded CPU seconds).
 */
export function savedCpuTable(results: BenchResults, summary: ResultsSummary): SavedCpuTable | null {
  if (summary.baselineLabel === null) return null;
  const rows = summary.policies.filter((p) => !p.isBaseline && p.savedCpuPerSeed.length > 0);
  if (rows.length === 0) return null;
  const baselineLabel = summary.baselineLabel;
  const seeds = [...new Set(rows.flatMap((p) => p.savedCpuPerSeed.map((s) => s.seed)))].sort((a, b) => a - b);
  const baselineCpu = new Map<number, number>();
  for (const run of results.runs) {
    if (run.label === baselineLabel && isFiniteNumber(run.final.trainCpuSeconds)) baselineCpu.set(run.seed, run.final.trainCpuSeconds);
  }
  const table: string[][] = [[`${baselineLabel} (CPU s)`, ...seeds.map((s) => (baselineCpu.has(s) ? formatNumber(baselineCpu.get(s)!, 0) : '—')), '']];
  for (const p of rows) {
    const bySeed = new Map(p.savedCpuPerSeed.map((s) => [s.seed, s.saving]));
    table.push([p.label, ...seeds.map((s) => (bySeed.has(s) ? formatPercent(bySeed.get(s)!) : '—')), formatPercent(p.savedCpu)]);
  }
  return { columns: ['policy', ...seeds.map((s) => `seed ${s}`), 'pooled'], rows: table };
}
