import type { InfoBatch, RunSummary } from '../core/info-batch.js';
import type { TrainCallbacks } from '../tfjs/trainer.js';
import type { EpochRecord, RunResult } from './results.js';

/** Options of {@link epochRecorder}. */
export interface EpochRecorderOptions {
  /** Key of the primary metric in the trainer's `evaluation` (e.g. 'accuracy'). */
  readonly metricKey: string;
  /** Epochs at which the score histogram is recorded (before the epoch's plan). */
  readonly histogramEpochs?: readonly number[];
  /** Called after each epoch with its record. */
  readonly onEpoch?: (record: EpochRecord) => void;
}

/**
 * Trainer callbacks that turn each epoch's metrics into an {@link EpochRecord} (plus score
 * histograms at chosen epochs); the records collect in `records`.
 */
export function epochRecorder(ib: InfoBatch, options: EpochRecorderOptions): { records: EpochRecord[]; callbacks: TrainCallbacks } {
  const { metricKey, histogramEpochs = [], onEpoch } = options;
  const records: EpochRecord[] = [];
  const histograms = new Map<number, EpochRecord['scoreHistogram']>();
  const callbacks: TrainCallbacks = {
    onEpochBegin: (epoch, plan) => {
      if (histogramEpochs.includes(epoch)) histograms.set(epoch, scoreHistogram(ib.scores, plan.stats.threshold));
    },
    onEpochEnd: (epoch, metrics) => {
      const evaluation = metrics.evaluation ?? {};
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
        ...(histograms.has(epoch) && { scoreHistogram: histograms.get(epoch)! }),
      };
      records.push(record);
      onEpoch?.(record);
    },
  };
  return { records, callbacks };
}

/** The record of one finished run: its epochs and totals. */
export function runResult(label: string, ib: InfoBatch, seed: number, records: EpochRecord[], summary: RunSummary): RunResult {
  const last = records[records.length - 1]!;
  const sum = (key: 'trainSeconds' | 'pruneSeconds') => records.reduce((s, r) => s + r[key], 0);
  return {
    label,
    policy: { ...ib.policy.config },
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
