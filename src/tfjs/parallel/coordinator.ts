/**
 * The coordinator side of data-parallel training: a {@link StepRunner} for the one training loop
 * that spreads each global batch over replicas and applies their summed gradient once.
 */
import * as tf from '@tensorflow/tfjs-core';
import { crc32 } from '../../core/crc32.js';
import { objectiveDenominator, stepScale } from '../../core/rescale.js';
import { InfoBatchError } from '../../core/errors.js';
import type { StepInput, StepOutput, StepRunner } from '../engine.js';
import type { InfoBatchTfjs } from '../info-batch-tfjs.js';
import { withScaledLearningRate } from '../rescale.js';
import { fastWasmKernelsActive } from '../wasm-kernels.js';
import { shardGradients, type ShardModel } from './replica.js';
import { strideRows, type FromReplica, type ReplicaEndpoint, type ReplicaSpec, type TensorData, type ToReplica } from './protocol.js';

/** Options of {@link ParallelStepRunner.start}. */
export interface ParallelRunnerOptions {
  /** One endpoint per rank, in rank order (ranks 1, 2, … when `local` is given). */
  readonly endpoints: readonly ReplicaEndpoint[];
  /** When given, this thread computes rank 0 on the coordinator's own model and loss. */
  readonly local?: ShardModel | undefined;
  /** How each replica builds the model. */
  readonly replica: ReplicaSpec;
  /** The coordinator's variables (the model's trainable variables), updated once per step. */
  readonly variables: readonly tf.Variable[];
  readonly optimizer: tf.Optimizer;
  readonly ibt: InfoBatchTfjs;
  /** Function name used in error messages. */
  readonly where: string;
  /** Extra per-step scalars from `(yTrue, yPred)` (compiled metrics); replicas then send their outputs. */
  readonly extras?: ((yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Scalar[]) | undefined;
  /** Longest wait for a replica's answer, in milliseconds (Infinity: no limit). @defaultValue Infinity */
  readonly timeoutMs?: number | undefined;
}

interface Pending {
  readonly expect: FromReplica['type'];
  resolve(message: FromReplica): void;
  reject(error: unknown): void;
  /** The timer of {@link ParallelRunnerOptions.timeoutMs}, cleared on the answer. */
  timer?: ReturnType<typeof setTimeout>;
}

/**
 * Longest blocking wait for one replica's reply in {@link ParallelStepRunner.receiveNow}; a reply
 * later than that arrives through the event loop, so a replica that died is still noticed.
 */
const RECEIVE_NOW_MS = 100;

/** A batch tensor's values, read once per step. */
function readTensor(tensor: tf.Tensor): TensorData {
  const dtype = tensor.dtype === 'int32' || tensor.dtype === 'bool' ? 'int32' : 'float32';
  const all = tensor.dataSync();
  const values = dtype === 'int32' ? (all instanceof Int32Array ? all : Int32Array.from(all as ArrayLike<number>)) : all instanceof Float32Array ? all : Float32Array.from(all as ArrayLike<number>);
  return { values, shape: tensor.shape, dtype };
}

/** `total += part`, element by element (a monomorphic loop: V8 keeps it fast). */
function addInto(total: Float32Array, part: Float32Array): void {
  for (let i = 0; i < total.length; i++) total[i]! += part[i]!;
}

/** Rank `rank`'s rows of a batch (see {@link strideRows}). */
function rankRows(batch: TensorData, rank: number, worldSize: number): TensorData {
  const rows = batch.shape[0]!;
  const rowSize = rows === 0 ? 1 : batch.values.length / rows;
  const part = strideRows(batch.values, rowSize, rank, worldSize);
  return { values: part, shape: [part.length / rowSize, ...batch.shape.slice(1)], dtype: batch.dtype };
}

/**
 * Runs each step on `endpoints.length` replicas: rank `r` takes rows `r, r + W, …` of the global
 * batch (the `EpochPlan.shard` order), computes the gradient of `Σ w·l / B` over them, and the
 * coordinator sums the gradients in rank order (so a run is reproducible from its seed and worker
 * count), applies the sum once with its own optimizer, and records every rank's per-sample losses
 * under their sample ids. The model, optimizer state, learning rate and callbacks stay on the
 * coordinator, as with one thread. A replica that fails or disagrees stops the run with an
 * InfoBatchError 'WORKER_FAILED' naming its rank, after every replica is terminated.
 * @internal
 */
export class ParallelStepRunner implements StepRunner {
  private readonly options: ParallelRunnerOptions;
  private readonly pending: (Pending | undefined)[];
  private readonly sizes: number[];
  private failure: InfoBatchError | undefined;
  private closing: Promise<void> | undefined;
  private stepId = 0;
  /** The parameters last sent to the replicas (hashed at the epoch end). */
  private lastParams: Float32Array | undefined;
  /** Rank of endpoint 0: 1 when this thread computes rank 0 itself. */
  private readonly offset: number;
  private stage = 'init';

  private constructor(options: ParallelRunnerOptions) {
    this.options = options;
    this.pending = options.endpoints.map(() => undefined);
    this.sizes = options.variables.map((v) => v.size);
    this.offset = options.local === undefined ? 0 : 1;
  }

  /** Starts a runner: sends `init` to every rank and waits until all are ready. */
  static async start(options: ParallelRunnerOptions): Promise<ParallelStepRunner> {
    const runner = new ParallelStepRunner(options);
    options.endpoints.forEach((endpoint, e) => {
      const rank = e + runner.offset;
      endpoint.listen({
        message: (message) => runner.receive(rank, message),
        failure: (cause) => runner.fail(rank, cause),
      });
    });
    const backend = tf.getBackend();
    try {
      await runner.all((rank) => ({ type: 'init', rank, worldSize: runner.worldSize, backend, fastWasmKernels: fastWasmKernelsActive(), replica: options.replica, sizes: runner.sizes }), 'ready');
    } catch (error) {
      await runner.close();
      throw error;
    }
    runner.stage = 'training';
    return runner;
  }

  /** Number of ranks. */
  get worldSize(): number {
    return this.options.endpoints.length + this.offset;
  }

  async runStep({ batch, tensors, position, wantCost }: StepInput): Promise<StepOutput> {
    const { variables, optimizer, ibt, extras } = this.options;
    const worldSize = this.worldSize;
    const globalBatch = batch.indices.length;
    const { mode } = ibt.rescaleFor(optimizer);
    const denominator = objectiveDenominator(batch.weights, mode);
    this.stage = `step ${position.step} of epoch ${position.epoch}`;
    const id = ++this.stepId;
    const params = this.readParams();
    this.lastParams = params;
    const batchXs = readTensor(tensors.xs);
    const batchYs = readTensor(tensors.ys);
    const sent = this.all((rank) => {
      const xs = rankRows(batchXs, rank, worldSize);
      const ys = rankRows(batchYs, rank, worldSize);
      const sampleWeights = strideRows(batch.weights, 1, rank, worldSize);
      return {
        message: { type: 'step', id, params, xs, ys, sampleWeights, denominator, penalty: rank === 0, outputs: extras !== undefined },
        transfer: [xs.values.buffer as ArrayBuffer, ys.values.buffer as ArrayBuffer, sampleWeights.buffer as ArrayBuffer],
      };
    }, 'grads') as Promise<Extract<FromReplica, { type: 'grads' }>[]>;
    let replies: Extract<FromReplica, { type: 'grads' }>[];
    if (this.options.local === undefined) {
      this.receiveNow();
      replies = await sent;
    } else {
      // Rank 0 here, while the replicas compute theirs.
      let own: Extract<FromReplica, { type: 'grads' }>;
      try {
        own = { type: 'grads', id, ...this.localShard(this.options.local, batch.weights, batchXs, batchYs, denominator, extras !== undefined) };
      } catch (error) {
        sent.catch(() => undefined);
        throw error;
      }
      // Take the replicas' replies as soon as they are sent, where the transport can.
      this.receiveNow();
      replies = [own, ...(await sent)];
    }

    // Sum in rank order: the same bits on every run with this worker count.
    const total = new Float32Array(params.length);
    const losses = new Float32Array(globalBatch);
    let penalty = 0;
    replies.forEach((reply, rank) => {
      if (reply.grads.length !== total.length || reply.losses.length !== Math.ceil((globalBatch - rank) / worldSize)) {
        throw this.fail(rank, new Error(`its reply to step ${id} holds ${reply.grads.length} gradient values and ${reply.losses.length} losses`));
      }
      addInto(total, reply.grads);
      for (let s = 0; s < reply.losses.length; s++) losses[rank + s * worldSize] = reply.losses[s]!;
      penalty += reply.penalty;
    });
    return tf.tidy(() => {
      let offset = 0;
      const gradients: tf.NamedTensorMap = {};
      for (const variable of variables) {
        gradients[variable.name] = tf.tensor(total.subarray(offset, offset + variable.size), variable.shape, 'float32');
        offset += variable.size;
      }
      withScaledLearningRate(optimizer, mode === 'step' ? stepScale(batch.weights) : 1, () => optimizer.applyGradients(gradients));
      const dataLoss = ibt.update(tf.tensor1d(losses, 'float32'), batch, { rescaleMode: mode });
      const weightedSum = tf.mul(dataLoss, denominator) as tf.Scalar;
      const extraValues = extras === undefined ? [] : extras(tensors.ys, this.gatherOutputs(replies, globalBatch));
      return { weightedSum, extras: extraValues, ...(wantCost && { cost: tf.add(dataLoss, penalty) as tf.Scalar }) };
    });
  }

  /** Checks that every rank holds the parameters it was last sent (a CRC-32 of their bytes). */
  async endEpoch(epoch: number): Promise<void> {
    if (this.lastParams === undefined || this.options.endpoints.length === 0) return;
    this.stage = `the weight check at the end of epoch ${epoch}`;
    const expected = crc32(new Uint8Array(this.lastParams.buffer));
    const replies = await this.all(() => ({ type: 'check' }), 'hash');
    replies.forEach((reply, e) => {
      const hash = (reply as Extract<FromReplica, { type: 'hash' }>).hash;
      if (hash !== expected) {
        throw this.fail(e + this.offset, new Error(`its weights (hash ${hash.toString(16)}) differ from the coordinator's (hash ${expected.toString(16)})`));
      }
    });
  }

  /** Stops every replica (idempotent); resolves once none runs. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const endpoint of this.options.endpoints) {
        try {
          endpoint.post({ type: 'close' });
        } catch {
          // already gone
        }
      }
      await Promise.all(this.options.endpoints.map((endpoint) => endpoint.terminate().catch(() => undefined)));
    })();
    return this.closing;
  }

  /** The ranks' outputs put back in batch order, as one tensor. */
  private gatherOutputs(replies: readonly Extract<FromReplica, { type: 'grads' }>[], globalBatch: number): tf.Tensor {
    const first = replies[0]!.outputs!;
    const rowSize = first.shape.slice(1).reduce((a, b) => a * b, 1);
    const values = new Float32Array(globalBatch * rowSize);
    const worldSize = this.worldSize;
    replies.forEach((reply, rank) => {
      const part = reply.outputs!.values;
      for (let s = 0; s * rowSize < part.length; s++) values.set(part.subarray(s * rowSize, (s + 1) * rowSize), (rank + s * worldSize) * rowSize);
    });
    return tf.tensor(values, [globalBatch, ...first.shape.slice(1)], 'float32');
  }

  /** Rank 0's part of the step, computed on this thread from the batch tensors. */
  private localShard(local: ShardModel, weights: Float32Array, batchXs: TensorData, batchYs: TensorData, denominator: number, outputs: boolean) {
    const worldSize = this.worldSize;
    // From the values already read (wasm's gather kernel costs more than these copies).
    const xsPart = rankRows(batchXs, 0, worldSize);
    const ysPart = rankRows(batchYs, 0, worldSize);
    const xs = tf.tensor(xsPart.values, [...xsPart.shape], xsPart.dtype);
    const ys = tf.tensor(ysPart.values, [...ysPart.shape], ysPart.dtype);
    try {
      return shardGradients(local, { xs, ys, sampleWeights: strideRows(weights, 1, 0, worldSize), denominator, penalty: true, outputs });
    } finally {
      tf.dispose([xs, ys]);
    }
  }

  /** The current parameters, concatenated in variable order. */
  private readParams(): Float32Array {
    const params = new Float32Array(this.sizes.reduce((a, b) => a + b, 0));
    let offset = 0;
    for (const variable of this.options.variables) {
      params.set(variable.dataSync() as Float32Array, offset);
      offset += variable.size;
    }
    return params;
  }

  /**
   * Waits (blocking this thread, at most {@link RECEIVE_NOW_MS} per replica) for the replies of the
   * requests in flight, on transports that can hand them over without a turn of the event loop.
   */
  private receiveNow(): void {
    this.options.endpoints.forEach((endpoint, e) => {
      if (endpoint.receiveNow === undefined) return;
      while (this.pending[e] !== undefined && this.failure === undefined) {
        if (!endpoint.receiveNow(RECEIVE_NOW_MS)) return;
      }
    });
  }

  /** Sends one request to every rank and waits for all replies of type `expect`. */
  private all(make: (rank: number) => ToReplica | { message: ToReplica; transfer: ArrayBuffer[] }, expect: FromReplica['type']): Promise<FromReplica[]> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const timeoutMs = this.options.timeoutMs ?? Infinity;
    return Promise.all(this.options.endpoints.map((endpoint, e) => new Promise<FromReplica>((resolve, reject) => {
      const rank = e + this.offset;
      const pending: Pending = { expect, resolve, reject };
      this.pending[e] = pending;
      if (timeoutMs !== Infinity) {
        pending.timer = setTimeout(() => {
          if (this.pending[e] === pending) this.fail(rank, new Error(`it did not answer within workers.timeoutMs = ${timeoutMs} ms (it may be hung; raise timeoutMs if its work takes longer)`));
        }, timeoutMs);
      }
      try {
        const made = make(rank);
        if ('message' in made) endpoint.post(made.message, made.transfer);
        else endpoint.post(made);
      } catch (cause) {
        reject(this.fail(rank, cause));
      }
    })));
  }

  private receive(rank: number, message: FromReplica): void {
    const pending = this.pending[rank - this.offset];
    if (message.type === 'error') {
      this.fail(rank, new Error(`${message.message} (while handling '${message.during}')`));
      return;
    }
    if (pending === undefined || pending.expect !== message.type) {
      this.fail(rank, new Error(`it sent an unexpected '${message.type}' message`));
      return;
    }
    this.pending[rank - this.offset] = undefined;
    clearTimeout(pending.timer);
    pending.resolve(message);
  }

  /**
   * Records the first failure, rejects every waiting request with it, and terminates every
   * replica; returns the error (to throw).
   */
  private fail(rank: number, cause: unknown): InfoBatchError {
    if (this.failure === undefined) {
      const reason = cause instanceof Error ? cause.message : String(cause);
      this.failure = new InfoBatchError('WORKER_FAILED', `${this.options.where}: data-parallel worker rank ${rank} of ${this.worldSize} failed during ${this.stage}: ${reason}. Every worker was stopped.`, { cause });
      const closed = this.close();
      const failure = this.failure;
      this.pending.forEach((pending, r) => {
        this.pending[r] = undefined;
        clearTimeout(pending?.timer);
        // Reject only once every replica is stopped, so no thread outlives the error.
        if (pending !== undefined) void closed.then(() => pending.reject(failure));
      });
    }
    return this.failure;
  }
}
