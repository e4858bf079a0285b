/**
 * The loss and metrics that `model.compile` set, read back from a tfjs `LayersModel` and turned
 * into per-sample form for InfoBatch.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { describeValue, InfoBatchError } from '../core/errors.js';
import type { PerSampleLoss } from './engine.js';

/** What fit-style training reads from a compiled model. @internal */
export interface CompiledTraining {
  /** The compiled loss, one value per sample. */
  readonly loss: PerSampleLoss;
  /** The compiled metrics of a batch, each `tf.mean(metric(yTrue, yPred))`, as tfjs's `fit` logs them. */
  readonly metrics: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Scalar[];
  /** Log names: `loss` then the metrics (`acc`, `mse`, …), as `model.metricsNames` gives them. */
  readonly labels: readonly string[];
  /** The compiled optimizer. */
  readonly optimizer: tf.Optimizer;
  /** The loss function `compile` set (its identity changes when the model is compiled again). */
  readonly lossFunction: unknown;
}

type LossFn = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;

/** The parts of a compiled `LayersModel` read here (public fields of tfjs-layers 4). */
interface CompiledFields {
  readonly optimizer?: tf.Optimizer;
  readonly lossFunctions?: LossFn[];
  readonly metricsTensors?: Array<[LossFn, number]>;
  readonly metricsNames?: string[];
  readonly outputs?: unknown[];
  readonly inputs?: unknown[];
}

/**
 * The per-sample form of a compiled loss. tfjs's losses (`categoricalCrossentropy` on
 * probabilities with epsilon clipping, `sparseCategoricalCrossentropy`, `binaryCrossentropy`,
 * `meanSquaredError`, `meanAbsoluteError`, `hinge`, `kullbackLeiblerDivergence`, …) reduce the
 * last axis only, so for a `[batch, units]` output they already give one value per sample, and
 * `model.fit` minimises their mean. For outputs of higher rank (e.g. `[batch, time, units]`) the
 * remaining non-batch axes are averaged here, which keeps `mean over the batch` equal to tfjs's
 * mean over everything. A loss function that returns a scalar is not reduced further: the
 * training loop reports it as a `SCALAR_LOSS` error before training.
 */
export function perSample(lossFn: LossFn): PerSampleLoss {
  return (yTrue, yPred) => {
    const losses = lossFn(yTrue, yPred);
    if (losses instanceof tf.Tensor && losses.rank > 1) {
      return tf.tidy(() => tf.mean(losses, Array.from({ length: losses.rank - 1 }, (_, i) => i + 1)));
    }
    return losses;
  };
}

/**
 * Reads the optimizer, loss and metrics `compile` set on `model`.
 * @throws InfoBatchError 'INVALID_STATE' for an uncompiled model, 'UNSUPPORTED' for a model with
 *   several inputs or outputs.
 * @internal
 */
export function compiledTraining(model: LayersModel, where: string): CompiledTraining {
  const fields = model as unknown as CompiledFields;
  const { optimizer, lossFunctions, metricsTensors, metricsNames } = fields;
  if (optimizer == null || !Array.isArray(lossFunctions) || lossFunctions.length === 0 || !Array.isArray(metricsNames) || !Array.isArray(metricsTensors)) {
    throw new InfoBatchError('INVALID_STATE', `'model' passed to ${where} is not compiled (it has ${optimizer == null ? 'no optimizer' : 'no loss'}); call model.compile({ optimizer, loss, metrics }) first, as for model.fit.`);
  }
  const numInputs = Array.isArray(fields.inputs) ? fields.inputs.length : 1;
  const numOutputs = Array.isArray(fields.outputs) ? fields.outputs.length : lossFunctions.length;
  if (numOutputs !== 1 || lossFunctions.length !== 1) {
    throw new InfoBatchError('UNSUPPORTED', `'model' passed to ${where} has ${numOutputs} outputs; fitWithInfoBatch supports models with one output (InfoBatch needs one loss per sample). Train a multi-output model with trainWithInfoBatch and a loss that sums the outputs' per-sample losses.`);
  }
  if (numInputs !== 1) {
    throw new InfoBatchError('UNSUPPORTED', `'model' passed to ${where} has ${numInputs} inputs; fitWithInfoBatch supports models with one input tensor. Concatenate the inputs into one tensor, or train with trainWithInfoBatch.`);
  }
  if (metricsNames.length !== 1 + metricsTensors.length) {
    throw new InfoBatchError('UNSUPPORTED', `'model' passed to ${where} has metric names ${describeValue(metricsNames)} that do not match its ${metricsTensors.length} metric functions; fitWithInfoBatch supports the single-output compiled models of tfjs-layers 4.`);
  }
  const metricFns = metricsTensors.map(([fn]) => fn);
  return {
    loss: perSample(lossFunctions[0]!),
    metrics: (yTrue, yPred) => metricFns.map((fn) => tf.mean(fn(yTrue, yPred)) as tf.Scalar),
    labels: [...metricsNames],
    optimizer,
    lossFunction: lossFunctions[0],
  };
}
