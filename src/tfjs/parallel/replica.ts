/**
 * The replica side of the data-parallel protocol ({@link ToReplica} in, {@link FromReplica} out),
 * independent of the transport: a Node worker, a Web Worker or a process on another machine
 * feeds it messages and sends its replies.
 */
import * as tf from '@tensorflow/tfjs-core';
import { crc32 } from '../../core/crc32.js';
import { InfoBatchError } from '../../core/errors.js';
import { selectBackend, type BackendName } from '../backend.js';
import { forward, regularization, trainableVariables, type PerSampleLoss, type TrainableModel } from '../engine.js';
import { compiledTraining } from '../compiled-loss.js';
import { meanSquaredError, softmaxCrossEntropy, sparseSoftmaxCrossEntropy } from '../losses.js';
import type { BuiltInLossName, FromReplica, InitRequest, ReplicaSpec, StepRequest, TensorData, ToReplica } from './protocol.js';

/** What a replica module's factory returns. */
export interface ReplicaParts {
  /** The replica's model; its trainable variables match the coordinator's in order and size. */
  readonly model: TrainableModel;
  /** Its per-sample loss, the same function as the coordinator's. */
  readonly loss: PerSampleLoss;
}

const BUILT_IN_LOSSES: Record<BuiltInLossName, PerSampleLoss> = {
  softmaxCrossEntropy: (y, p) => softmaxCrossEntropy(y, p),
  sparseSoftmaxCrossEntropy: (y, p) => sparseSoftmaxCrossEntropy(y, p),
  meanSquaredError: (y, p) => meanSquaredError(y, p),
};

async function buildReplica(spec: ReplicaSpec, rank: number, worldSize: number): Promise<ReplicaParts> {
  if (spec.kind === 'layers') {
    const layers = await import('@tensorflow/tfjs-layers');
    const model = await layers.models.modelFromJSON({ modelTopology: spec.topology as never });
    if (typeof spec.loss === 'string') return { model: model as unknown as TrainableModel, loss: BUILT_IN_LOSSES[spec.loss] };
    // The optimizer is never used here: the coordinator applies the updates.
    model.compile({ optimizer: 'sgd', loss: spec.loss.compiled });
    return { model: model as unknown as TrainableModel, loss: compiledTraining(model, 'a data-parallel replica').loss };
  }
  const module = (await import(/* webpackIgnore: true */ /* @vite-ignore */ spec.module)) as Record<string, unknown>;
  const factory = module[spec.exportName];
  if (typeof factory !== 'function') {
    throw new InfoBatchError('INVALID_OPTION', `Replica module ${spec.module} has no exported function '${spec.exportName}'.`);
  }
  const parts = (await factory(spec.args, { rank, worldSize })) as Partial<ReplicaParts> | null;
  if (typeof parts !== 'object' || parts === null || typeof parts.model !== 'object' || typeof parts.loss !== 'function') {
    throw new InfoBatchError('INVALID_TYPE', `'${spec.exportName}' of replica module ${spec.module} must return { model, loss }.`);
  }
  return parts as ReplicaParts;
}

/**
 * One replica of data-parallel training: feed it the coordinator's messages in order with
 * {@link Replica.handle}; it answers through `send`. The Node worker threads of `workers: N` run
 * one each; run one at the far end of your own transport to train across machines.
 *
 * @example
 * ```ts
 * const replica = new Replica((reply, transfer) => channel.send(reply, transfer));
 * channel.onMessage((message) => replica.handle(message));
 * ```
 */
export class Replica {
  private rank = -1;
  private parts: ReplicaParts | undefined;
  private variables: tf.Variable[] = [];

  /** @param send - delivers a reply (with buffers that may be transferred). */
  constructor(private readonly send: (message: FromReplica, transfer?: ArrayBuffer[]) => void) {}

  /** Handles one message; failures are replied as {@link ErrorReply}s, never thrown. */
  async handle(message: ToReplica): Promise<void> {
    const during = message.type;
    try {
      if (message.type === 'init') await this.init(message);
      else if (message.type === 'step') this.step(message);
      else if (message.type === 'check') this.send({ type: 'hash', hash: this.hash() });
      else if (message.type === 'close') this.close();
    } catch (error) {
      this.send({ type: 'error', during, message: error instanceof Error ? error.message : String(error) });
    }
  }

  private async init(message: InitRequest): Promise<void> {
    this.rank = message.rank;
    await selectBackend({ prefer: [message.backend as BackendName], fastWasmKernels: message.fastWasmKernels === true });
    this.parts = await buildReplica(message.replica, message.rank, message.worldSize);
    this.variables = trainableVariables(this.parts.model, `replica ${message.rank}`);
    const sizes = this.variables.map((v) => v.size);
    if (sizes.length !== message.sizes.length || sizes.some((size, i) => size !== message.sizes[i])) {
      throw new InfoBatchError('SHAPE_MISMATCH', `replica ${message.rank} built a model whose trainable variables hold [${sizes.join(', ')}] values but the coordinator's hold [${message.sizes.join(', ')}]; the replica must build the same architecture.`);
    }
    this.send({ type: 'ready', rank: message.rank });
  }

  private step(message: StepRequest): void {
    const { model, loss } = this.parts!;
    this.setParams(message.params);
    const xs = tf.tensor(message.xs.values, [...message.xs.shape], message.xs.dtype);
    const ys = tf.tensor(message.ys.values, [...message.ys.shape], message.ys.dtype);
    let result: ShardResult;
    try {
      result = shardGradients({ model, loss, variables: this.variables, where: `replica ${this.rank}` }, { xs, ys, sampleWeights: message.sampleWeights, denominator: message.denominator, penalty: message.penalty, outputs: message.outputs });
    } finally {
      tf.dispose([xs, ys]);
    }
    const { grads, losses, penalty, outputs } = result;
    const transfer = [grads.buffer as ArrayBuffer, losses.buffer as ArrayBuffer, ...(outputs ? [outputs.values.buffer as ArrayBuffer] : [])];
    this.send({ type: 'grads', id: message.id, grads, losses, penalty, ...(outputs && { outputs }) }, transfer);
  }

  private setParams(params: Float32Array): void {
    let offset = 0;
    for (const variable of this.variables) {
      const values = params.subarray(offset, offset + variable.size);
      tf.tidy(() => variable.assign(tf.tensor(values, variable.shape, 'float32')));
      offset += variable.size;
    }
  }

  private hash(): number {
    const flat = new Float32Array(this.variables.reduce((n, v) => n + v.size, 0));
    let offset = 0;
    for (const variable of this.variables) {
      flat.set(variable.dataSync() as Float32Array, offset);
      offset += variable.size;
    }
    return crc32(new Uint8Array(flat.buffer));
  }

  private close(): void {
    const model = this.parts?.model as { dispose?: () => unknown } | undefined;
    if (typeof model?.dispose === 'function') model.dispose();
    this.parts = undefined;
    this.variables = [];
  }
}

/** The model a shard's gradient is computed on. @internal */
export interface ShardModel {
  readonly model: TrainableModel;
  readonly loss: PerSampleLoss;
  /** The variables to differentiate, in the protocol's order. */
  readonly variables: readonly tf.Variable[];
  /** Name used in error messages. */
  readonly where: string;
}

/** One shard of a step: its rows (tensors the caller owns) and what to compute. @internal */
export interface ShardInput {
  readonly xs: tf.Tensor;
  readonly ys: tf.Tensor;
  readonly sampleWeights: Float32Array;
  /** Denominator of the objective (see {@link StepRequest.denominator}). */
  readonly denominator: number;
  readonly penalty: boolean;
  readonly outputs: boolean;
}

/** What a shard's step yields: the fields of a {@link StepReply}. @internal */
export interface ShardResult {
  readonly grads: Float32Array;
  readonly losses: Float32Array;
  readonly penalty: number;
  readonly outputs?: TensorData;
}

/**
 * The gradient of `Σ w·l / B` (plus the penalties when asked) over one shard, with its per-sample
 * losses: the work of one rank in one step, wherever it runs. Leaves no tensor behind.
 * @internal
 */
export function shardGradients({ model, loss, variables, where }: ShardModel, input: ShardInput): ShardResult {
  const rows = input.sampleWeights.length;
  // Tensors kept out of variableGrads' scope (tf.keep), disposed once read.
  const kept: tf.Tensor[] = [];
  let result: ShardResult | undefined;
  try {
    // The tidy returns nothing: tidy walks what its function returns, element by element for
    // typed arrays, which cost more than the step itself for a 100k-parameter model.
    tf.tidy(() => {
      let perSample: tf.Tensor | undefined;
      let penaltyValue: tf.Scalar | undefined;
      let output: tf.Tensor | undefined;
      const { grads: named } = tf.variableGrads(() => {
        output = forward(model, input.xs, true, where);
        if (input.outputs) kept.push(tf.keep(output));
        const values = tf.reshape(loss(input.ys, output), [rows]);
        perSample = tf.keep(values);
        kept.push(perSample);
        const data = tf.div(tf.sum(tf.mul(values, tf.tensor1d(input.sampleWeights, 'float32'))), input.denominator) as tf.Scalar;
        const extra = input.penalty ? regularization(model) : undefined;
        if (extra === undefined) return data;
        penaltyValue = tf.keep(extra);
        kept.push(penaltyValue);
        return tf.add(data, extra) as tf.Scalar;
      }, variables as tf.Variable[]);
      const grads = new Float32Array(variables.reduce((n, v) => n + v.size, 0));
      let offset = 0;
      for (const variable of variables) {
        const grad = named[variable.name];
        if (grad !== undefined) grads.set(grad.dataSync() as Float32Array, offset);
        offset += variable.size;
      }
      const outputs: TensorData | undefined = input.outputs && output !== undefined ? { values: Float32Array.from(output.dataSync()), shape: output.shape, dtype: 'float32' } : undefined;
      result = { grads, losses: Float32Array.from(perSample!.dataSync()), penalty: penaltyValue === undefined ? 0 : penaltyValue.dataSync()[0]!, ...(outputs && { outputs }) };
    });
  } finally {
    tf.dispose(kept);
  }
  return result!;
}
