/**
 * Runs that did not learn: their training loss ended no lower than it was in their first epoch (or
 * was not a finite number). Such a run diverged or collapsed (e.g. every ReLU dead after one too
 * large step, leaving a constant prediction), and its final metric is an outlier that a paired
 * mean and interval silently absorb; the reports name these runs. Pure module (no node:*).
 */
import { formatMetric, formatNumber, isFiniteNumber, type BenchResults, type MetricFormat } from './results.js';

/** One run that did not learn. */
export interface StalledRun {
  readonly label: string;
  readonly seed: number;
  /** Epochs the run recorded. */
  readonly epochs: number;
  /** Mean training loss of the first epoch. */
  readonly firstTrainLoss: number;
  /** Mean training loss of the last epoch (NaN or ±Infinity when it was not finite). */
  readonly finalTrainLoss: number;
  /** The run's final metric (`final.testAccuracy`: an accuracy, or the task's metric). */
  readonly finalMetric: number;
}

/**
 * The runs of `results` whose last epoch's training loss is not below their first epoch's, or not
 * finite in any epoch, in the order of `results.runs`. Runs with fewer than two epochs are not
 * judged.
 *
 * @example
 * ```ts
 * for (const run of stalledRuns(results)) console.warn(`${run.label} seed ${run.seed} did not learn`);
 * ```
 */
export function stalledRuns(results: BenchResults): StalledRun[] {
  const stalled: StalledRun[] = [];
  for (const run of results.runs) {
    if (run.epochs.length < 2) continue;
    const first = run.epochs[0]!.trainLoss;
    const last = run.epochs[run.epochs.length - 1]!.trainLoss;
    const finite = run.epochs.every((record) => isFiniteNumber(record.trainLoss));
    if (finite && last < first) continue;
    stalled.push({ label: run.label, seed: run.seed, epochs: run.epochs.length, firstTrainLoss: first, finalTrainLoss: last, finalMetric: run.final.testAccuracy });
  }
  return stalled;
}

/**
 * One sentence naming the runs that did not learn, for report.md and report.html; null when every
 * run learned. `scale` turns a stored metric into the report's unit (100 for percent metrics).
 */
export function stalledRunsSentence(runs: readonly StalledRun[], format: MetricFormat, scale: number): string | null {
  if (runs.length === 0) return null;
  const items = runs.map(
    (run) =>
      `${run.label} seed ${run.seed} (training loss ${formatLoss(run.firstTrainLoss)} in epoch 1, ${formatLoss(run.finalTrainLoss)} in epoch ${run.epochs}; final ${format.name} ${formatMetric(run.finalMetric * scale, format)})`,
  );
  const verb = runs.length === 1 ? 'run' : 'runs';
  return `Did not learn: ${items.join('; ')}. The training loss of ${runs.length === 1 ? 'this' : 'these'} ${verb} ended no lower than in the first epoch, or was not finite: the run diverged or collapsed (for example every ReLU dead after one too large step). ${runs.length === 1 ? 'It enters' : 'They enter'} this report's tables, intervals and plots as ${runs.length === 1 ? 'it is' : 'they are'}; read the affected rows with that in mind.`;
}

function formatLoss(value: number): string {
  return isFiniteNumber(value) ? formatNumber(value, 3) : String(value);
}
