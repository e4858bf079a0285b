/**
 * The results object written by the experiment harness, and the per-policy aggregates the
 * reports show. Pure module (no node:*), so reports can be rendered anywhere.
 */
import { InfoBatchError } from '../core/errors.js';
import { pairedDelta, verdictOf, type PairedDelta, type Verdict } from './paired-stats.js';
import type { ScorePersistence } from './score-persistence.js';

/**
 * The primary metric of a bench that is not plain classification (`bench --task …`), stored as
 * `config.metric`. When it is present, `final.testAccuracy` and every `epochs[].testAccuracy` hold
 * this metric's value instead of a test accuracy (a fraction in [0, 1] when `percent`, otherwise the
 * metric's own unit, e.g. a perplexity or a mean squared error), and `testLoss` holds the task's
 * held-out loss. Results without it are classification results (test accuracy, higher is better).
 */
export interface MetricInfo {
  /** Shown in reports, e.g. 'mean IoU'. */
  name: string;
  /** Whether larger values are better. */
  higherIsBetter: boolean;
  /** The value is a fraction in [0, 1], shown in % with differences in points. */
  percent?: boolean;
}

/** Everything one benchmark invocation produced. Serialised as JSON by the harness. */
export interface BenchResults {
  schemaVersion: 1;
  name: string;
  /** The exact CLI command that produced these results. */
  command: string;
  /** ISO 8601 time. */
  createdAt: string;
  /** Where the results file was last written (`cpuModel` absent in files written before it was recorded). */
  environment: { node: string; backend: string; cpus: number; platform: string; cpuModel?: string };
  config: {
    dataset: string;
    model: string;
    epochs: number;
    batchSize: number;
    seeds: number[];
    learningRate: number;
    /** The task's primary metric; absent for classification (see {@link MetricInfo}). */
    metric?: MetricInfo;
    [k: string]: unknown;
  };
  runs: RunResult[];
}

/** One training run: one policy (label) with one seed. */
export interface RunResult {
  /** Policy label shown in tables, e.g. 'full', 'infobatch', 'infobatch r=0.3', 'full (matched budget)'. */
  label: string;
  policy: { name: string; [option: string]: unknown };
  /** Where the up-weighting went (see `RescaleMode`); absent in runs recorded before it was chosen (those used 'loss'). */
  rescaleMode?: 'loss' | 'step';
  /** Factor on the recipe's learning rate (`:lrScale=`); absent when 1. */
  learningRateScale?: number;
  /**
   * What the samples were scored by when not by their training loss (`:score=normalised`: the loss
   * divided by the expected loss at the noise level drawn, see the task's module); absent for the loss.
   */
  score?: 'normalised';
  /** Each sample's scores smoothed across visits with `scoreSmoothing: { ema: scoreEma }` (`:scoreEma=`); absent without. */
  scoreEma?: number;
  seed: number;
  epochs: EpochRecord[];
  /**
   * The machine the run trained on and when it finished; absent in runs recorded before it was.
   * A bench resumed on another machine holds runs of both: compare timings within one machine.
   */
  machine?: { cpuModel: string; cores: number; finishedAt: string };
  /** Small images the run produced (e.g. diffusion samples), shown by the HTML report; absent for classification. */
  images?: RunImage[];
  final: {
    /**
     * Fraction in [0, 1] (reports show it in %); with `config.metric`, that metric's value instead.
     */
    testAccuracy: number;
    testLoss: number;
    samplesForwarded: number;
    samplesBackpropagated: number;
    /** Sample passes full-data training would have made (epochs × dataset size). */
    fullDataSamples: number;
    /** Saved fraction of sample passes, in [0, 1]. */
    savedFraction: number;
    trainSeconds: number;
    pruneSeconds: number;
    /**
     * Process CPU seconds (user + system) of the training loops, the same span as `trainSeconds`
     * plus the recording of scores; absent in runs recorded before it was measured.
     */
    trainCpuSeconds?: number;
  };
}

/** A PNG a run produced, embedded in the results so reports rendered later still show it. */
export interface RunImage {
  /** File name the harness wrote it under, in the results folder. */
  file: string;
  /** What it shows, e.g. '64 samples after training'. */
  caption: string;
  /** The PNG bytes, base64. */
  pngBase64: string;
}

/** Measurements after one epoch. */
export interface EpochRecord {
  /** 0-based in results.json (as in the core's API); reports show `epoch + 1`, counting from 1 like the CLI. */
  epoch: number;
  /** Fraction in [0, 1]; with `config.metric`, that metric's value instead. */
  testAccuracy: number;
  testLoss: number;
  trainLoss: number;
  planLength: number;
  /** Fraction of the dataset visited this epoch, in [0, 1]. */
  keptFraction: number;
  threshold: number | null;
  trainSeconds: number;
  pruneSeconds: number;
  /** Process CPU seconds of the epoch's training loop; absent in older results and outside Node. */
  trainCpuSeconds?: number;
  /** Score distribution before pruning; only recorded at a few epochs. `edges.length === counts.length + 1`. */
  scoreHistogram?: { edges: number[]; counts: number[]; threshold: number | null };
  /** How the scores at the epoch's start carried over to its end, over the samples it visited; recorded with the histogram (absent in older results). */
  scorePersistence?: ScorePersistence;
}

/**
 * Mean and sample standard deviation of one metric over seeds. Non-finite values (NaN, ±Infinity,
 * or null read back from JSON) are left out of both and counted in `nonFinite`.
 */
export interface Stat {
  /** Mean of the finite values; null when there are none. */
  mean: number | null;
  /** Sample standard deviation (n − 1); null with fewer than 2 finite values. */
  std: number | null;
  /** Number of finite values. */
  n: number;
  /** Number of values left out because they were not finite. */
  nonFinite: number;
}

/** Mean, min and max over seeds of one per-epoch metric. */
export interface Band {
  mean: number | null;
  min: number | null;
  max: number | null;
  n: number;
}

/** Aggregates over seeds for one epoch of one policy. */
export interface EpochAggregate {
  epoch: number;
  /** Test accuracy in % (with `config.metric`: its value, in % when it is a percent metric). */
  testAccuracy: Band;
  /** Kept fraction in [0, 1]. */
  keptFraction: Band;
  trainLoss: Band;
}

/** Aggregates over seeds for one policy label. */
export interface PolicySummary {
  label: string;
  /** `policy.name` of the label's first run. */
  policyName: string;
  /** Number of runs (seeds) with this label. */
  seeds: number;
  /** The seeds, in run order. */
  seedList: number[];
  /** Final test accuracy in % (with `config.metric`: its value, in % when it is a percent metric). */
  accuracy: Stat;
  /** True for the label the differences are taken against. */
  isBaseline: boolean;
  /**
   * Mean accuracy minus the baseline's mean accuracy, in percentage points; null without a
   * baseline or without a finite mean on either side. 0 for the baseline itself.
   */
  deltaVsFull: number | null;
  /**
   * Sample std of the per-seed differences (this − baseline), in points, when the two labels ran
   * exactly the same seeds with finite accuracies (paired) and at least 2 of them; otherwise null.
   */
  deltaStd: number | null;
  /** Whether the runs pair up with the baseline's runs seed by seed. */
  paired: boolean;
  /**
   * Per-seed differences to the baseline over the seeds both ran (this − baseline, in points for %
   * metrics), with mean, paired std and t-based 95% interval; null for the baseline or when no seed pairs.
   */
  pairedDelta: PairedDelta | null;
  /** {@link Verdict} of `pairedDelta` under `ResultsSummary.losslessTolerance`; null without an interval. */
  verdict: Verdict | null;
  /** Mean `final.savedFraction` (saved sample passes), in [0, 1]. */
  savedSamplePasses: Stat;
  /**
   * Saved train+prune seconds, paired: over the seeds both this label and the baseline ran on the
   * same CPU ({@link RunResult.machine}), (Σ baseline − Σ this) / Σ baseline; negative when slower;
   * null without a baseline or without such a seed. For the baseline itself, 0.
   */
  savedWallClock: number | null;
  /** Seeds behind {@link PolicySummary.savedWallClock}. */
  savedWallClockSeeds: number;
  /**
   * Saved process CPU seconds (`final.trainCpuSeconds`), paired like
   * {@link PolicySummary.savedWallClock}: only seeds where both runs have CPU seconds (runs recorded
   * before it was measured lack them) and ran on the same CPU; null without such a seed.
   */
  savedCpu: number | null;
  /** Seeds behind {@link PolicySummary.savedCpu}. */
  savedCpuSeeds: number;
  /** Each of those seeds' own saved CPU fraction, sorted by seed (see {@link pairedSaving}). */
  savedCpuPerSeed: SeedSaving[];
  /** `final.trainCpuSeconds` over seeds (n counts the runs that have it). */
  trainCpuSeconds: Stat;
  trainSeconds: Stat;
  pruneSeconds: Stat;
  /** Final test loss. */
  testLoss: Stat;
  /** Per-epoch aggregates, sorted by epoch. */
  epochs: EpochAggregate[];
}

export interface ResultsSummary {
  /** The label differences are taken against, or null when no run has it. */
  baselineLabel: string | null;
  /** `config.metric` of the results, when they have one (absent for classification). */
  metric?: MetricInfo;
  /** One entry per label, in order of first appearance in `runs`. */
  policies: PolicySummary[];
  /**
   * Largest |mean paired difference| called lossless: 0.2 points for accuracy and % metrics, 0.2%
   * of the baseline's mean for other metrics; null when neither applies (no baseline mean).
   */
  losslessTolerance: number | null;
}

export interface SummarizeOptions {
  /** Label to compare against; default 'full'. */
  baselineLabel?: string;
}

/** The lossless tolerance of the reports: 0.2 points (% metrics), or 0.2% of the baseline mean. */
export const LOSSLESS_POINTS = 0.2;

/** A number that is finite (rejects NaN, ±Infinity, null, undefined and non-numbers). */
export function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** Mean and sample std of the finite values in `values`. */
export function stat(values: readonly unknown[]): Stat {
  const finite = values.filter(isFiniteNumber);
  const n = finite.length;
  const nonFinite = values.length - n;
  if (n === 0) return { mean: null, std: null, n, nonFinite };
  const mean = finite.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, std: null, n, nonFinite };
  const ss = finite.reduce((a, b) => a + (b - mean) * (b - mean), 0);
  return { mean, std: Math.sqrt(ss / (n - 1)), n, nonFinite };
}

function band(values: readonly unknown[]): Band {
  const finite = values.filter(isFiniteNumber);
  if (finite.length === 0) return { mean: null, min: null, max: null, n: 0 };
  return {
    mean: finite.reduce((a, b) => a + b, 0) / finite.length,
    min: Math.min(...finite),
    max: Math.max(...finite),
    n: finite.length,
  };
}

/** Multiplies finite values by `factor` (100 for fractions shown in %). */
const scaleBy = (factor: number) => (x: unknown): unknown => (isFiniteNumber(x) ? x * factor : x);

function groupByLabel(runs: readonly RunResult[]): Map<string, RunResult[]> {
  const groups = new Map<string, RunResult[]>();
  for (const run of runs) {
    const group = groups.get(run.label);
    if (group === undefined) groups.set(run.label, [run]);
    else group.push(run);
  }
  return groups;
}

function epochAggregates(runs: readonly RunResult[], percent: (x: unknown) => unknown): EpochAggregate[] {
  const byEpoch = new Map<number, EpochRecord[]>();
  for (const run of runs) {
    for (const record of run.epochs ?? []) {
      const list = byEpoch.get(record.epoch);
      if (list === undefined) byEpoch.set(record.epoch, [record]);
      else list.push(record);
    }
  }
  return [...byEpoch.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([epoch, records]) => ({
      epoch,
      testAccuracy: band(records.map((r) => percent(r.testAccuracy))),
      keptFraction: band(records.map((r) => r.keptFraction)),
      trainLoss: band(records.map((r) => r.trainLoss)),
    }));
}

/** Mean of (train + prune) seconds over runs whose two timings are both finite; null if none. */
function wallClockOf(run: RunResult): number | undefined {
  return isFiniteNumber(run.final.trainSeconds) && isFiniteNumber(run.final.pruneSeconds) ? run.final.trainSeconds + run.final.pruneSeconds : undefined;
}

/** Whether two runs' timings compare: the same recorded CPU model, or neither recorded one. */
function sameMachine(a: RunResult, b: RunResult): boolean {
  return (a.machine?.cpuModel ?? null) === (b.machine?.cpuModel ?? null);
}

/** One seed's saving against the baseline run of the same seed: (baseline cost − cost) / baseline cost. */
export interface SeedSaving {
  seed: number;
  saving: number;
}

/**
 * `(Σ baseline cost − Σ cost) / Σ baseline cost` over the seeds where both runs have a finite
 * positive cost and ran on the same machine; null (with 0 seeds) when none does. `perSeed` holds
 * each of those seeds' own saving, sorted by seed, so drift in one seed's timing shows.
 */
export function pairedSaving(
  runs: readonly RunResult[],
  baselineRuns: readonly RunResult[] | undefined,
  cost: (run: RunResult) => number | undefined,
): { saving: number | null; seeds: number; perSeed: SeedSaving[] } {
  if (baselineRuns === undefined) return { saving: null, seeds: 0, perSeed: [] };
  let baselineSum = 0;
  let sum = 0;
  const perSeed: SeedSaving[] = [];
  for (const run of runs) {
    const base = baselineRuns.find((b) => b.seed === run.seed);
    if (base === undefined || !sameMachine(run, base)) continue;
    const value = cost(run);
    const baseValue = cost(base);
    if (!isFiniteNumber(value) || !isFiniteNumber(baseValue) || baseValue <= 0) continue;
    baselineSum += baseValue;
    sum += value;
    perSeed.push({ seed: run.seed, saving: (baseValue - value) / baseValue });
  }
  perSeed.sort((a, b) => a.seed - b.seed);
  const seeds = perSeed.length;
  return seeds === 0 ? { saving: null, seeds, perSeed } : { saving: (baselineSum - sum) / baselineSum, seeds, perSeed };
}

/**
 * Per-label aggregates of a results object: final accuracy mean ± sample std (in %), difference
 * from the baseline label ('full' unless told otherwise) in points (with the std of the paired
 * per-seed differences where the seeds match), mean saved sample passes, saved wall-clock relative
 * to the baseline, and mean train / prune seconds; plus per-epoch mean/min/max curves.
 *
 * @throws InfoBatchError `INVALID_DATA` when `runs` is not an array or two runs share a label and seed.
 */
export function summarizeResults(results: BenchResults, options: SummarizeOptions = {}): ResultsSummary {
  if (!Array.isArray(results?.runs)) {
    throw new InfoBatchError('INVALID_DATA', 'summarizeResults: results.runs must be an array');
  }
  const groups = groupByLabel(results.runs);
  const metric = metricOf(results);
  // Accuracy and percent metrics are fractions shown in %; other metrics keep their unit.
  const percent = scaleBy(metric === undefined || metric.percent === true ? 100 : 1);
  for (const [label, runs] of groups) {
    const seen = new Set<number>();
    for (const run of runs) {
      if (seen.has(run.seed)) {
        throw new InfoBatchError('INVALID_DATA', `summarizeResults: two runs have label ${JSON.stringify(label)} and seed ${run.seed}`);
      }
      seen.add(run.seed);
    }
  }
  const wanted = options.baselineLabel ?? 'full';
  const baselineRuns = groups.get(wanted);
  const baselineLabel = baselineRuns === undefined ? null : wanted;
  const baselineAccuracy = baselineRuns === undefined ? null : stat(baselineRuns.map((r) => percent(r.final.testAccuracy))).mean;
  const baselineBySeed = new Map<number, unknown>((baselineRuns ?? []).map((r) => [r.seed, percent(r.final.testAccuracy)]));
  const baselineValues = valuesBySeed(baselineRuns ?? [], percent);
  const isPercent = metric === undefined || metric.percent === true;
  const losslessTolerance = isPercent ? LOSSLESS_POINTS : baselineAccuracy === null ? null : (LOSSLESS_POINTS / 100) * Math.abs(baselineAccuracy);
  const higherIsBetter = metric?.higherIsBetter ?? true;

  const policies: PolicySummary[] = [];
  for (const [label, runs] of groups) {
    const accuracies = runs.map((r) => percent(r.final.testAccuracy));
    const accuracy = stat(accuracies);
    const isBaseline = label === baselineLabel;

    let deltaVsFull: number | null = null;
    if (isBaseline) deltaVsFull = accuracy.mean === null ? null : 0;
    else if (baselineAccuracy !== null && accuracy.mean !== null) deltaVsFull = accuracy.mean - baselineAccuracy;

    // Paired: the same seed set on both sides, every accuracy finite.
    const paired =
      !isBaseline &&
      baselineRuns !== undefined &&
      runs.length === baselineRuns.length &&
      runs.every((r) => baselineBySeed.has(r.seed) && isFiniteNumber(baselineBySeed.get(r.seed))) &&
      accuracies.every(isFiniteNumber);
    const deltaStd = paired ? stat(runs.map((r, i) => (accuracies[i] as number) - (baselineBySeed.get(r.seed) as number))).std : null;

    const wallClock = pairedSaving(runs, baselineRuns, wallClockOf);
    const cpu = pairedSaving(runs, baselineRuns, (r) => r.final.trainCpuSeconds);
    const delta = isBaseline || baselineRuns === undefined ? null : pairedDelta(valuesBySeed(runs, percent), baselineValues);

    policies.push({
      label,
      policyName: String(runs[0]!.policy?.name ?? ''),
      seeds: runs.length,
      seedList: runs.map((r) => r.seed),
      accuracy,
      isBaseline,
      deltaVsFull,
      deltaStd,
      paired,
      pairedDelta: delta,
      verdict: losslessTolerance === null ? null : verdictOf(delta, losslessTolerance, higherIsBetter),
      savedSamplePasses: stat(runs.map((r) => r.final.savedFraction)),
      savedWallClock: wallClock.saving,
      savedWallClockSeeds: wallClock.seeds,
      savedCpu: cpu.saving,
      savedCpuSeeds: cpu.seeds,
      savedCpuPerSeed: cpu.perSeed,
      trainCpuSeconds: stat(runs.map((r) => r.final.trainCpuSeconds ?? Number.NaN)),
      trainSeconds: stat(runs.map((r) => r.final.trainSeconds)),
      pruneSeconds: stat(runs.map((r) => r.final.pruneSeconds)),
      testLoss: stat(runs.map((r) => r.final.testLoss)),
      epochs: epochAggregates(runs, percent),
    });
  }
  return metric === undefined ? { baselineLabel, policies, losslessTolerance } : { baselineLabel, metric, policies, losslessTolerance };
}

/** Final metric per seed (scaled like the summary: % for percent metrics). */
export function valuesBySeed(runs: readonly RunResult[], scale: (x: unknown) => unknown = (x) => x): Map<number, number> {
  const out = new Map<number, number>();
  for (const run of runs) {
    const value = scale(run.final.testAccuracy);
    if (isFiniteNumber(value)) out.set(run.seed, value);
  }
  return out;
}

/** The factor that turns stored final metrics into report units: 100 for accuracy and % metrics, else 1. */
export function reportScale(results: BenchResults): number {
  const metric = metricOf(results);
  return metric === undefined || metric.percent === true ? 100 : 1;
}


/** A valid `config.metric`, or undefined (classification results, or a malformed entry). */
function metricOf(results: BenchResults): MetricInfo | undefined {
  const metric: unknown = results.config?.metric;
  if (typeof metric !== 'object' || metric === null) return undefined;
  const { name, higherIsBetter, percent } = metric as Record<string, unknown>;
  if (typeof name !== 'string' || typeof higherIsBetter !== 'boolean') return undefined;
  return { name, higherIsBetter, ...(percent === true && { percent: true }) };
}

// ---------------------------------------------------------------------------------------------
// Formatting shared by the Markdown and HTML reports.

/** U+2212 MINUS SIGN, used for negative numbers in reports. */
export const MINUS = '\u2212';

/** Fixed-point with a real minus sign; 'n/a' for null / non-finite. */
export function formatNumber(value: number | null, digits: number): string {
  if (!isFiniteNumber(value)) return 'n/a';
  const text = value.toFixed(digits);
  if (/^-0(\.0*)?$/.test(text)) return text.slice(1); // no "−0.00"
  return text.startsWith('-') ? MINUS + text.slice(1) : text;
}

/** Like formatNumber with an explicit '+' on positive values. */
export function formatSigned(value: number | null, digits: number): string {
  const text = formatNumber(value, digits);
  if (text === 'n/a' || text.startsWith(MINUS) || /^0(\.0*)?$/.test(text)) return text;
  return `+${text}`;
}

/** '[−0.31, +0.12]' for a paired difference's 95% interval; 'n/a' without one. */
export function formatInterval(delta: PairedDelta | null, digits: number): string {
  if (delta === null || delta.ciLow === null || delta.ciHigh === null) return 'n/a';
  return `[${formatSigned(delta.ciLow, digits)}, ${formatSigned(delta.ciHigh, digits)}]`;
}

/** A fraction shown as a percentage, e.g. 0.38 → '38.0%'. */
export function formatPercent(fraction: number | null, digits = 1): string {
  const text = formatNumber(isFiniteNumber(fraction) ? fraction * 100 : null, digits);
  return text === 'n/a' ? text : `${text}%`;
}

function nonFiniteNote(s: Stat): string {
  return s.nonFinite > 0 ? ` (${s.nonFinite} non-finite excluded)` : '';
}

/** The cells of one table row, as plain text, in column order. */
export interface SummaryRowText {
  policy: string;
  seeds: string;
  accuracy: string;
  delta: string;
  /** t-based 95% interval of the paired difference. */
  interval: string;
  verdict: string;
  savedSamplePasses: string;
  savedWallClock: string;
  savedCpu: string;
  trainSeconds: string;
  pruneSeconds: string;
}

/** How reports show the primary metric: its name, direction, unit and decimals. */
export interface MetricFormat {
  readonly name: string;
  readonly higherIsBetter: boolean;
  /** Values (and differences) are in % (points). */
  readonly percent: boolean;
  /** Decimals of values and differences. */
  readonly digits: number;
  /** False only for classification results (no `config.metric`), whose wording stays 'test accuracy'. */
  readonly custom: boolean;
}

/** The format of classification results: test accuracy in %, 2 decimals. */
export const ACCURACY_FORMAT: MetricFormat = Object.freeze({ name: 'test accuracy', higherIsBetter: true, percent: true, digits: 2, custom: false });

/**
 * The metric format of a summary: {@link ACCURACY_FORMAT} without `summary.metric`; otherwise its
 * name and direction, with 2 decimals in % or about 3 significant digits of the largest mean.
 */
export function metricFormat(summary: ResultsSummary): MetricFormat {
  const metric = summary.metric;
  if (metric === undefined) return ACCURACY_FORMAT;
  const percent = metric.percent === true;
  let digits = 2;
  if (!percent) {
    const largest = Math.max(0, ...summary.policies.map((p) => Math.abs(p.accuracy.mean ?? 0)));
    digits = largest > 0 ? Math.min(6, Math.max(2, 2 - Math.floor(Math.log10(largest)))) : 3;
  }
  return { name: metric.name, higherIsBetter: metric.higherIsBetter, percent, digits, custom: true };
}

/** A metric value with its unit, e.g. '91.00%' or '3.412'. */
export function formatMetric(value: number | null, format: MetricFormat): string {
  const text = formatNumber(value, format.digits);
  return text !== 'n/a' && format.percent ? `${text}%` : text;
}

/** 'higher is better' or 'lower is better'. */
export function directionText(format: MetricFormat): string {
  return format.higherIsBetter ? 'higher is better' : 'lower is better';
}

/**
 * The first sentence of the table notes: 'Accuracy in %, mean ± sample std over seeds.' for
 * classification; the metric's name, unit, direction and where it is stored otherwise.
 */
export function metricNote(format: MetricFormat): string {
  if (!format.custom) return 'Accuracy in %, mean ± sample std over seeds.';
  const name = format.name.charAt(0).toUpperCase() + format.name.slice(1);
  return `${name}${format.percent ? ' in %' : ''}, mean ± sample std over seeds, ${directionText(format)} (results.json keeps it in final.testAccuracy).`;
}

/** Column headers of the summary table, in order. */
export const SUMMARY_COLUMNS = [
  'policy',
  'seeds',
  'final test acc (mean ± std)',
  'Δ acc vs full (points)',
  '95% CI of Δ',
  'verdict',
  'saved sample passes',
  'saved wall-clock',
  'saved CPU',
  'train s',
  'prune overhead s',
] as const;

/**
 * Column headers for a metric format: {@link SUMMARY_COLUMNS} for classification, otherwise the
 * metric's name and direction in the two metric columns.
 */
export function summaryColumns(format: MetricFormat = ACCURACY_FORMAT): readonly string[] {
  if (!format.custom) return SUMMARY_COLUMNS;
  const [policy, seeds, , , ...rest] = SUMMARY_COLUMNS;
  return [policy, seeds, `final ${format.name}${format.percent ? ' %' : ''} (mean ± std, ${directionText(format)})`, `Δ ${format.name} vs full${format.percent ? ' (points)' : ''}`, ...rest];
}

/** A paired saving in %, with ' (k paired)' when it rests on `seeds` of the label's `total` seeds. */
export function formatPairedSaving(saving: number | null, seeds: number, total: number): string {
  return formatPercent(saving) + (saving === null || seeds === total ? '' : ` (${seeds} paired)`);
}

/** Plain-text table cells for one policy (not escaped for any format). */
export function summaryRowText(p: PolicySummary, format: MetricFormat = ACCURACY_FORMAT): SummaryRowText {
  const d = format.digits;
  const acc = p.accuracy.mean === null ? 'n/a' : `${formatNumber(p.accuracy.mean, d)} ± ${formatNumber(p.accuracy.std, d)}`;
  let delta: string;
  const paired = p.pairedDelta;
  if (p.isBaseline) delta = 'baseline';
  else if (paired !== null) delta = `${formatSigned(paired.mean, d)}${paired.std === null ? '' : ` ± ${formatNumber(paired.std, d)}`}${paired.n === p.seeds ? '' : ` (${paired.n} paired)`}`;
  else if (p.deltaVsFull === null) delta = 'n/a';
  else delta = p.deltaStd === null ? formatSigned(p.deltaVsFull, d) : `${formatSigned(p.deltaVsFull, d)} ± ${formatNumber(p.deltaStd, d)}`;
  return {
    policy: p.label,
    seeds: String(p.seeds),
    accuracy: acc + nonFiniteNote(p.accuracy),
    delta,
    interval: p.isBaseline ? '' : formatInterval(paired, d),
    verdict: p.isBaseline ? '' : (p.verdict ?? 'n/a'),
    savedSamplePasses: formatPercent(p.savedSamplePasses.mean) + nonFiniteNote(p.savedSamplePasses),
    // The baseline pairs with itself: no note.
    savedWallClock: formatPairedSaving(p.savedWallClock, p.savedWallClockSeeds, p.isBaseline ? p.savedWallClockSeeds : p.seeds),
    savedCpu: formatPairedSaving(p.savedCpu, p.savedCpuSeeds, p.isBaseline ? p.savedCpuSeeds : p.seeds),
    trainSeconds: formatNumber(p.trainSeconds.mean, 2) + nonFiniteNote(p.trainSeconds),
    pruneSeconds: formatNumber(p.pruneSeconds.mean, 3) + nonFiniteNote(p.pruneSeconds),
  };
}

/**
 * One factual sentence per policy, e.g. "infobatch: −0.12 points at 38.0% saved wall-clock …"; with
 * a task metric, the difference is named by the metric and its direction.
 */
export function readingLine(p: PolicySummary, baselineLabel: string | null, format: MetricFormat = ACCURACY_FORMAT): string {
  const seeds = `${p.seeds} seed${p.seeds === 1 ? '' : 's'}`;
  const d = format.digits;
  const acc = p.accuracy.mean === null ? 'n/a' : formatMetric(p.accuracy.mean, format);
  if (p.isBaseline) {
    return `${p.label}: baseline, ${acc} final ${format.name}, ${formatNumber(p.trainSeconds.mean, 2)} s train + ${formatNumber(p.pruneSeconds.mean, 3)} s prune (${seeds}).`;
  }
  const passes = `${formatPercent(p.savedSamplePasses.mean)} saved sample passes`;
  if (p.deltaVsFull === null) {
    const why = baselineLabel === null ? 'no full run' : `no finite ${format.custom ? format.name : 'accuracy'} on one side`;
    const accText = p.accuracy.mean === null ? `final ${format.name} n/a` : `${acc} final ${format.name}`;
    return `${p.label}: ${accText} at ${passes}; Δ vs full n/a, ${why} (${seeds}).`;
  }
  const paired = p.pairedDelta;
  const mean = paired !== null ? paired.mean : p.deltaVsFull;
  const spread = paired !== null && paired.std !== null ? ` (paired std ${formatNumber(paired.std, d)}, 95% CI ${formatInterval(paired, d)} over ${paired.n} paired seeds: ${p.verdict ?? 'n/a'})` : p.deltaStd === null ? '' : ` (paired std ${formatNumber(p.deltaStd, d)})`;
  const unit = !format.custom ? 'points' : `${format.percent ? 'points of ' : ''}${format.name} (${directionText(format)})`;
  const cpu = p.savedCpu === null ? '' : `, ${formatPairedSaving(p.savedCpu, p.savedCpuSeeds, p.seeds)} saved CPU time`;
  return `${p.label}: ${formatSigned(mean, d)} ${unit}${spread} at ${passes}, ${formatPairedSaving(p.savedWallClock, p.savedWallClockSeeds, p.seeds)} saved wall-clock${cpu} (${seeds}).`;
}

/** The keys of {@link SummaryRowText} in column order. */
export const SUMMARY_KEYS: readonly (keyof SummaryRowText)[] = ['policy', 'seeds', 'accuracy', 'delta', 'interval', 'verdict', 'savedSamplePasses', 'savedWallClock', 'savedCpu', 'trainSeconds', 'pruneSeconds'];

/**
 * The notes under the summary table: the metric, how Δ, its interval and the verdict are computed
 * (with the lossless rule), and which saving the headline uses.
 */
export function summaryNotes(summary: ResultsSummary, format: MetricFormat): string[] {
  const d = format.digits;
  const unit = format.percent ? ' points' : '';
  const tolerance =
    summary.losslessTolerance === null
      ? 'n/a (no baseline mean)'
      : format.percent
        ? `${formatNumber(summary.losslessTolerance, 1)} points`
        : `${formatNumber(summary.losslessTolerance, d + 1)} (0.2% of the baseline mean)`;
  const baseline = summary.baselineLabel;
  const notes = [metricNote(format)];
  if (baseline === null) {
    notes.push('No run is labelled full, so differences, intervals, verdicts and saved time are n/a.');
  } else {
    notes.push(
      `Δ is paired: for each seed that both ran, this policy's final value minus ${baseline}'s, in${unit === '' ? ' the metric\'s unit' : unit}; the table shows the mean ± sample std of those per-seed differences (with "(k paired)" when only k seeds pair), and the 95% CI is mean ± t(0.975, n − 1) · std / √n (Student t, n paired seeds).`,
      `Verdict: "lossless" only where |mean Δ| ≤ ${tolerance} AND the 95% CI covers 0; "better"/"worse" where the CI excludes 0 (${directionText(format)}); "inconclusive" where the CI covers 0 but |mean Δ| exceeds the tolerance; n/a with fewer than 2 paired seeds. With few seeds the interval is wide and covers 0 easily, so read its width beside the verdict: a wide "lossless" interval is weak evidence.`,
      `Savings are relative to ${baseline}. The headline saving is sample passes (forward passes skipped, exact and machine-independent); wall-clock = (Σ full train+prune s − Σ this train+prune s) / Σ full's over the seeds both ran on the same CPU, CPU = the same with process CPU seconds of the training loops (final.trainCpuSeconds; runs recorded before it was measured lack it), with "(k paired)" when only k seeds count. On a shared machine wall-clock moves with the load; CPU time less so.`,
    );
  }
  return notes;
}

