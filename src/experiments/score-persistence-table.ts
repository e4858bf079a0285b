/**
 * The reports' table of score persistence ({@link ScorePersistence}): which runs and epochs recorded
 * one, and how its cells read. Pure module (no node:*).
 */
import { formatNumber, formatPercent, type BenchResults } from './results.js';
import type { ScorePersistence } from './score-persistence.js';

/** One recorded {@link ScorePersistence}: which run and epoch (counted from 1, as reports do). */
export interface ScorePersistenceRow {
  label: string;
  seed: number;
  epoch: number;
  persistence: ScorePersistence;
}

/**
 * Every score persistence the runs recorded, for the first run of each label that recorded any
 * (the bench records them with the histograms, on its first seed), in the order of `labels`.
 */
export function scorePersistenceRows(results: BenchResults, labels: readonly string[]): ScorePersistenceRow[] {
  const rows: ScorePersistenceRow[] = [];
  for (const label of labels) {
    const run = results.runs.find((r) => r.label === label && (r.epochs ?? []).some((e) => e.scorePersistence !== undefined));
    if (run === undefined) continue;
    for (const record of run.epochs) {
      if (record.scorePersistence !== undefined) rows.push({ label, seed: run.seed, epoch: record.epoch + 1, persistence: record.scorePersistence });
    }
  }
  return rows;
}

/** How reports write a rank correlation (two decimals). */
export function formatRankCorrelation(value: number): string {
  return formatNumber(value, 2);
}

/** The table's column headings, in the order of {@link scorePersistenceCells}. */
export const SCORE_PERSISTENCE_COLUMNS: readonly string[] = Object.freeze([
  'policy',
  'seed',
  'epoch',
  'samples compared',
  'rank correlation',
  'stayed below the mean',
  'below the mean at the end (all)',
]);

/** The cells of one row, as plain text (callers escape them for their format). */
export function scorePersistenceCells(row: ScorePersistenceRow): string[] {
  const p = row.persistence;
  return [row.label, String(row.seed), String(row.epoch), String(p.samples), formatRankCorrelation(p.rankCorrelation), formatPercent(p.stayedBelowMean), formatPercent(p.belowMeanAfter)];
}

/** What the score persistence table says, in one paragraph. */
export const SCORE_PERSISTENCE_NOTE =
  'Per-sample scores at the start of the epoch against the same samples\' scores at its end (the samples the epoch visited). ' +
  'Rank correlation: Spearman. Stayed below the mean: of the samples below the mean score at the start (the ones InfoBatch may skip), the share still below the mean at the end; ' +
  'if the scores of the two epochs were unrelated it would be about the share of all samples below the mean at the end (last column). ' +
  'A correlation near 0 means a low loss in one epoch says little about the next, so skipping "well-learned" samples is close to skipping random ones.';
