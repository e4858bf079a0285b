import type { AppliedRescaleMode } from '../core/rescale.js';
import type { InfoBatch, RunSummary } from '../core/info-batch.js';
import type { TrainCallbacks, TrainOptions } from '../tfjs/trainer.js';
import type { EpochRecord, RunResult } from './results.js';
import type { TaskScoring } from './tasks/task.js';
import { scorePersistence } from './score-persistence.js';

/** Options of {@link epochRecorder}. */
export interface EpochRecorderOptions {
  /** Key of the primary metric in the trainer's `evaluation` (e.g. 'accuracy'). */
  readonly metricKey: string;
  /**
   * Epochs at which the score histogram is recorded (before the epoch's plan), and how the scores
   * carry over from the start of the epoch to its end ({@link scorePersistence}).
   */
  readonly histogramEpochs?: readonly number[];
  /** Called after each epoch with its record. */
  readonly onEpoch?: (record: EpochRecord) => void;
}

/** Process CPU seconds (user + system) so far; NaN where the runtime cannot tell (browsers). */
function cpuSeconds(): number {
  if (typeof process === 'undefined' || typeof process.cpuUsage !== 'function') return Number.NaN;
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/**
 * Trainer callbacks that turn each epoch's metrics into an {@link EpochRecord} (plus score
 * histograms at chosen epochs); the records collect in `records`. Pass the evaluation through
 * `timedEvaluate` so the epoch's CPU seconds stop where the training loop ends.
 */
export function epochRecorder(ib: InfoBatch, options: EpochRecorderOptions): {
  records: EpochRecord[];
  callbacks: TrainCallbacks;
  timedEvaluate: (evaluate: NonNullable<TrainOptions['evaluate']>) => NonNullable<TrainOptions['evaluate']>;
} {
  const { metricKey, histogramEpochs = [], onEpoch } = options;
  const records: EpochRecord[] = [];
  const histograms = new Map<number, EpochRecord['scoreHistogram']>();
  // Scores and visited ids at the start of a histogram epoch, compared with the scores at its end.
  let scoresAtStart: { epoch: number; scores: Float32Array; visited: Int32Array } | null = null;
  // CPU seconds from the first step of the epoch to the end of its loop (the start of evaluation).
  let loopCpuStart = Number.NaN;
  let loopCpuEnd = Number.NaN;
  const timedEvaluate = (evaluate: NonNullable<TrainOptions['evaluate']>): NonNullable<TrainOptions['evaluate']> => (epoch) => {
    loopCpuEnd = cpuSeconds();
    return evaluate(epoch);
  };
  const callbacks: TrainCallbacks = {
    onEpochBegin: (epoch, plan) => {
      scoresAtStart = null;
      if (histogramEpochs.includes(epoch)) {
        histograms.set(epoch, scoreHistogram(ib.scores, plan.stats.threshold));
        scoresAtStart = { epoch, scores: ib.scores.slice(), visited: plan.indices.slice() };
      }
      loopCpuEnd = Number.NaN;
      loopCpuStart = cpuSeconds();
    },
    onEpochEnd: (epoch, metrics) => {
      if (Number.isNaN(loopCpuEnd)) loopCpuEnd = cpuSeconds();
      const trainCpuSeconds = loopCpuEnd - loopCpuStart;
      const evaluation = metrics.evaluation ?? {};
      const persistence = scoresAtStart?.epoch === epoch ? scorePersistence(scoresAtStart.scores, ib.scores, scoresAtStart.visited) : null;
      scoresAtStart = null;
      const record: EpochRecord = {
        epoch,
        testAccuracy: evaluation[metricKey] ?? Number.NaN,
        testLoss: evaluation['loss'] ?? Number.NaN,
        trainLoss: metrics.meanLoss,
        planLength: metrics.planLength,
        keptFraction: metrics.keptFraction,
        threshold: Number.isFinite(metrics.threshold) ? metrics.threshold : null,
        // Wall-clock of the epoch without the pruning overhead, which is reported on its own.
        trainSeconds: metrics.trainSeconds - metrics.recordSeconds,
        pruneSeconds: metrics.pruneSeconds,
        trainCpuSeconds,
        ...(histograms.has(epoch) && { scoreHistogram: histograms.get(epoch)! }),
        ...(persistence !== null && { scorePersistence: persistence }),
      };
      records.push(record);
      onEpoch?.(record);
    },
  };
  return { records, callbacks, timedEvaluate };
}

/** How a run trained apart from its policy, as recorded in {@link RunResult}. */
export interface RunTraining {
  readonly rescaleMode: AppliedRescaleMode;
  readonly learningRateScale: number;
  /** What the samples were scored by; `'loss'` when omitted. */
  readonly score?: TaskScoring;
  /** The `scoreSmoothing: { ema }` factor; absent without smoothing. */
  readonly scoreEma?: number;
}

/** The record of one finished run: its epochs and totals. */
export function runResult(label: string, ib: InfoBatch, seed: number, records: EpochRecord[], summary: RunSummary, training?: RunTraining): RunResult {
  const last = records[records.length - 1]!;
  const sum = (key: 'trainSeconds' | 'pruneSeconds' | 'trainCpuSeconds') => records.reduce((s, r) => s + (r[key] ?? Number.NaN), 0);
  return {
    label,
    policy: { ...ib.policy.config },
    ...(training !== undefined && { rescaleMode: training.rescaleMode }),
    ...(training !== undefined && training.learningRateScale !== 1 && { learningRateScale: training.learningRateScale }),
    ...(training?.score !== undefined && training.score !== 'loss' && { score: training.score }),
    ...(training?.scoreEma !== undefined && { scoreEma: training.scoreEma }),
    seed,
    epochs: records,
    final: {
      testAccuracy: last.testAccuracy,
      testLoss: last.testLoss,
      samplesForwarded: summary.samplesVisited,
      samplesBackpropagated: summary.samplesVisited,
      fullDataSamples: summary.fullDataSamples,
      savedFraction: summary.savedFraction,
      trainSeconds: sum('trainSeconds'),
      pruneSeconds: sum('pruneSeconds'),
      trainCpuSeconds: sum('trainCpuSeconds'),
    },
  };
}

/** Histogram of the finite scores in `bins` equal bins. */
export function scoreHistogram(scores: ArrayLike<number>, threshold: number, bins = 30): { edges: number[]; counts: number[]; threshold: number | null } {
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (Number.isFinite(s)) {
      low = Math.min(low, s);
      high = Math.max(high, s);
    }
  }
  const finiteThreshold = Number.isFinite(threshold) ? threshold : null;
  if (low > high) return { edges: [], counts: [], threshold: finiteThreshold };
  const width = high > low ? (high - low) / bins : 1;
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (Number.isFinite(s)) counts[Math.min(bins - 1, Math.floor((s - low) / width))]!++;
  }
  return { edges: Array.from({ length: bins + 1 }, (_, b) => low + b * width), counts, threshold: finiteThreshold };
}
