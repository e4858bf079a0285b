/**
 * Trains one {@link Task} run with one policy and seed, the task counterpart of `runTraining`:
 * Adam with a cosine learning rate stepped per epoch, `trainWithInfoBatch` with the task's
 * per-sample loss, the task's evaluation after every epoch. The result has the classification
 * harness's shape; `testAccuracy` holds the task's primary metric value (see `config.metric`).
 */
import * as tf from '@tensorflow/tfjs';
import { InfoBatchError } from '../../core/errors.js';
import { InfoBatch } from '../../core/info-batch.js';
import type { PolicyConfig } from '../../core/policy.js';
import { createPolicy } from '../../policies/registry.js';
import { cosineSchedule, trainWithInfoBatch } from '../../tfjs/index.js';
import type { RunVariant } from '../policy-spec.js';
import type { EpochRecord, RunResult } from '../results.js';
import { epochRecorder, runResult } from '../run-record.js';
import type { Task, TaskArtifact, TaskData, TaskEvaluation } from './task.js';

/** Options of {@link runTaskTraining}. */
export interface TaskRunOptions {
  readonly label: string;
  readonly policy: PolicyConfig;
  /** How the run trains apart from its policy (rescale mode, learning-rate factor). */
  readonly variant?: RunVariant;
  readonly seed: number;
  readonly epochs: number;
  readonly batchSize: number;
  /** Peak learning rate of Adam. */
  readonly learningRate: number;
  /** Epochs at which the score histogram is recorded (before the epoch's plan). */
  readonly histogramEpochs?: readonly number[];
  /**
   * Evaluate after every epoch (metric and loss are NaN in the records otherwise).
   * @defaultValue true
   */
  readonly evaluate?: boolean;
  /**
   * Ask the run for its artifacts (e.g. a PNG of samples) after training.
   * @defaultValue false
   */
  readonly artifacts?: boolean;
  /** Called after each epoch with its record (`testAccuracy` = the metric value). */
  readonly onEpoch?: (record: EpochRecord) => void;
}

/** What {@link runTaskTraining} returns. */
export interface TaskRunOutcome {
  readonly result: RunResult;
  readonly artifacts: readonly TaskArtifact[];
  /** The final evaluation (NaN values when `evaluate` was false). */
  readonly evaluation: TaskEvaluation;
  /** Seconds the run spent before training (e.g. LM pretraining); not part of `trainSeconds`. */
  readonly setupSeconds: number;
}

/**
 * Trains a fresh model of `task` on `data` and returns its record. The initial weights (and, for
 * tasks that pretrain, the pretrained weights) depend on the seed alone, so every policy of a seed
 * starts from the same model. Every tensor it creates is disposed.
 *
 * @example
 * ```ts
 * const data = await segmentationTask.load();
 * const { result } = await runTaskTraining(segmentationTask, data, { label: 'infobatch', policy: { name: 'infobatch' }, seed: 0, epochs: 10, batchSize: 64, learningRate: 3e-3 });
 * ```
 */
export async function runTaskTraining(task: Task, data: TaskData, options: TaskRunOptions): Promise<TaskRunOutcome> {
  const { label, policy, variant = {}, seed, epochs, batchSize, learningRate, histogramEpochs = [], evaluate = true, artifacts = false, onEpoch } = options;
  const score = variant.score ?? 'loss';
  assertTaskScoring(task, score);
  const run = await task.createRun(data, { seed, ...(score !== 'loss' && { score }) });
  const optimizer = tf.train.adam(learningRate);
  const ib = new InfoBatch({ numSamples: data.numTrain, numEpochs: epochs, seed, policy: createPolicy(policy), ...(variant.scoreEma !== undefined && { scoreSmoothing: { ema: variant.scoreEma } }) });
  const lr = cosineSchedule({ baseLr: learningRate * (variant.learningRateScale ?? 1), totalEpochs: epochs });
  const { records, callbacks, timedEvaluate } = epochRecorder(ib, { metricKey: 'metric', histogramEpochs, ...(onEpoch !== undefined && { onEpoch }) });
  let lastEvaluation: TaskEvaluation = { metric: { ...task.metric, value: Number.NaN }, loss: Number.NaN };
  try {
    const result = await trainWithInfoBatch(run.model, data.train, {
      epochs,
      batchSize,
      optimizer,
      loss: (yTrue, yPred) => run.loss(yTrue, yPred),
      ...(run.score !== undefined && { score: (yTrue: tf.Tensor, yPred: tf.Tensor, perSample: tf.Tensor) => run.score!(yTrue, yPred, perSample) }),
      infobatch: ib,
      learningRate: (epoch) => lr(epoch),
      ...(variant.rescaleMode !== undefined && { rescaleMode: variant.rescaleMode }),
      callbacks,
      ...(evaluate && {
        evaluate: timedEvaluate(async () => {
          lastEvaluation = await run.evaluate();
          return { metric: lastEvaluation.metric.value, loss: lastEvaluation.loss };
        }),
      }),
    });
    const files = artifacts && run.artifacts !== undefined ? await run.artifacts() : [];
    return {
      result: runResult(label, ib, seed, records, result.summary, { rescaleMode: result.rescale.mode, learningRateScale: variant.learningRateScale ?? 1, score, ...(variant.scoreEma !== undefined && { scoreEma: variant.scoreEma }) }),
      artifacts: files,
      evaluation: lastEvaluation,
      setupSeconds: run.setupSeconds,
    };
  } finally {
    run.dispose();
    optimizer.dispose();
  }
}

/**
 * Throws unless `task` offers the scoring `score` (`'loss'` always).
 * @throws InfoBatchError 'INVALID_OPTION' naming the task and the scorings it offers.
 */
export function assertTaskScoring(task: Pick<Task, 'name' | 'scorings'>, score: string): void {
  if (score === 'loss' || (task.scorings ?? []).some((s) => s === score)) return;
  const offered = ['loss', ...(task.scorings ?? [])].join(', ');
  throw new InfoBatchError('INVALID_OPTION', `The ${task.name} task cannot score samples by ${JSON.stringify(score)}: it offers ${offered}. 'normalised' is for tasks that draw noise per visit (--task diffusion, --task mae).`);
}

/**
 * A short untimed run (two epochs on the first `samples` training samples, no evaluation) so that
 * one-off costs (kernel set-up, first allocations, a task's pretraining of seed 0) do not land on
 * whichever timed run comes first.
 */
export async function warmUpTask(task: Task, data: TaskData, options: { readonly batchSize: number; readonly learningRate: number; readonly seed?: number }, samples = 256): Promise<void> {
  const count = Math.min(samples, data.numTrain);
  const x = tf.slice(data.train.x, 0, count);
  const y = data.train.y === data.train.x ? x : tf.slice(data.train.y, 0, count);
  try {
    const view: TaskData = { ...data, train: { x, y }, numTrain: count };
    await runTaskTraining(task, view, { label: 'warm-up', policy: { name: 'infobatch' }, seed: options.seed ?? 0, epochs: 2, batchSize: options.batchSize, learningRate: options.learningRate, evaluate: false });
  } finally {
    tf.dispose(x === y ? [x] : [x, y]);
  }
}
