/**
 * Has a recipe converged? The criterion of the evidence benches: over its last epochs, the
 * baseline's metric moves by less than the spread between seeds, so that more epochs would not
 * change a comparison by more than the seeds already do. Pure module (no node:*).
 */
import { formatNumber, formatSigned, stat, type BenchResults, type MetricFormat } from './results.js';

/** The verdict on one label's runs (every seed, its final `window` epochs). */
export interface ConvergenceCheck {
  /** The policy label checked (the baseline, e.g. 'full'). */
  readonly label: string;
  /** Epochs in the window: the change is taken from the first to the last of the final `window` epochs. */
  readonly window: number;
  /** 1-based first and last epoch of the window (of the seed with the most epochs). */
  readonly epochs: readonly [number, number];
  /** Per seed, last minus first value of the window, in the report's unit (points for % metrics). */
  readonly perSeed: readonly { readonly seed: number; readonly change: number }[];
  /** Mean of |change| over the seeds. */
  readonly meanAbsChange: number;
  /** Sample standard deviation of the final values over the seeds; null with fewer than 2 seeds. */
  readonly seedSpread: number | null;
  /** `meanAbsChange < seedSpread`; null when there is no spread to compare with. */
  readonly converged: boolean | null;
}

/**
 * Checks the runs labelled `label`: each seed's change over its final `window` epochs against the
 * seed-to-seed spread of the final values. Runs with fewer than `window` epochs, or a non-finite
 * value in the window, are left out; null when no run is left.
 *
 * @example
 * ```ts
 * const check = convergenceCheck(results, 'full', metricFormat(summary));
 * if (check?.converged === false) console.log('full data still improves: run more epochs');
 * ```
 */
export function convergenceCheck(results: BenchResults, label: string, format: Pick<MetricFormat, 'percent'>, window = 3): ConvergenceCheck | null {
  const scale = format.percent ? 100 : 1;
  const runs = results.runs.filter((run) => run.label === label && run.epochs.length >= window);
  const perSeed: { seed: number; change: number }[] = [];
  const finals: number[] = [];
  let lastEpochs = 0;
  for (const run of runs) {
    const values = run.epochs.slice(-window).map((record) => record.testAccuracy * scale);
    if (!values.every(Number.isFinite)) continue;
    perSeed.push({ seed: run.seed, change: values[values.length - 1]! - values[0]! });
    finals.push(values[values.length - 1]!);
    lastEpochs = Math.max(lastEpochs, run.epochs.length);
  }
  if (perSeed.length === 0) return null;
  const meanAbsChange = perSeed.reduce((sum, { change }) => sum + Math.abs(change), 0) / perSeed.length;
  const seedSpread = stat(finals).std;
  return {
    label,
    window,
    epochs: [lastEpochs - window + 1, lastEpochs],
    perSeed,
    meanAbsChange,
    seedSpread,
    converged: seedSpread === null ? null : meanAbsChange < seedSpread,
  };
}

/** `formatNumber` with `digits` decimals, or two significant digits when that would show a non-zero value as 0. */
function formatSmall(value: number, digits: number): string {
  const text = formatNumber(value, digits);
  return value !== 0 && Number(text.replace('\u2212', '-')) === 0 ? formatNumber(Number(value.toPrecision(2)), Math.max(digits, 1 - Math.floor(Math.log10(Math.abs(value))))) : text;
}

/** One sentence for the reports, e.g. 'Convergence of full: over epochs 13–15 …'. */
export function convergenceSentence(check: ConvergenceCheck, format: Pick<MetricFormat, 'percent' | 'digits' | 'name'>): string {
  const unit = format.percent ? ' points' : '';
  const changes = check.perSeed.map(({ seed, change }) => `${formatSigned(change, format.digits)} (seed ${seed})`).join(', ');
  const spread = check.seedSpread === null ? 'no seed spread to compare with (one seed)' : `a seed spread (sample std of the final values) of ${formatSmall(check.seedSpread, format.digits)}${unit}`;
  const verdict = check.converged === null ? 'undecided' : check.converged ? 'converged: it moves less than the seeds differ' : 'not converged: it still moves more than the seeds differ, so more epochs could change the comparison';
  return `Convergence of ${check.label}: over epochs ${check.epochs[0]}–${check.epochs[1]} its ${format.name} changed by ${changes}; mean |change| ${formatSmall(check.meanAbsChange, format.digits)}${unit} against ${spread}: ${verdict}.`;
}
