/**
 * The messages between a data-parallel coordinator and its replicas. They hold only plain data
 * and typed arrays (structured-clone safe), so the same protocol runs over Node `worker_threads`,
 * browser Web Workers, or a user's own transport between machines.
 *
 * One training step: the coordinator sends each rank a {@link StepRequest} with the current model
 * parameters and the rank's part of the global batch (rows `rank, rank + worldSize, …`, the
 * `EpochPlan.shard` order); each rank answers a {@link StepReply} with the gradient of
 * `Σ w·l / B` over its part (`B` the global batch length) and the per-sample losses; the
 * coordinator sums the gradients in rank order, applies them once, and records the losses under
 * their sample ids. At each epoch end a {@link CheckRequest} asks every rank for a hash of the
 * parameters it holds, which must equal the coordinator's.
 */

/** Per-sample losses of infobatch/tfjs that replicas can rebuild by name. */
export type BuiltInLossName = 'softmaxCrossEntropy' | 'sparseSoftmaxCrossEntropy' | 'meanSquaredError';

/** How a replica builds its copy of the model (and its per-sample loss). */
export type ReplicaSpec =
  | {
      /** A tfjs-layers model rebuilt from `model.toJSON()`; its weights come with the init message. */
      readonly kind: 'layers';
      /** What `model.toJSON(undefined, false)` returned: the model's topology. */
      readonly topology: unknown;
      /** A per-sample loss of infobatch/tfjs, or the name of a tfjs-layers loss (`model.compile`'s `loss`). */
      readonly loss: BuiltInLossName | {
        /** A tfjs-layers loss name, e.g. `'categoricalCrossentropy'`, computed per sample. */
        readonly compiled: string;
      };
    }
  | {
      /**
       * A module (URL) exporting a factory `(args, { rank, worldSize }) => { model, loss }` (or
       * a promise of it); the model's trainable variables must match the coordinator's in order
       * and size.
       */
      readonly kind: 'module';
      /** URL (or absolute path, in Node) of the module to import. */
      readonly module: string;
      /** Name of the factory among the module's exports. */
      readonly exportName: string;
      /** Structured-clone-safe arguments passed to the factory. */
      readonly args?: unknown;
    };

/** A tensor's values and shape. */
export interface TensorData {
  /** The values, row-major. */
  readonly values: Float32Array | Int32Array;
  /** The shape; its product is `values.length`. */
  readonly shape: readonly number[];
  /** The tfjs dtype the values are read back as. */
  readonly dtype: 'float32' | 'int32';
}

/** First message to a replica. */
export interface InitRequest {
  /** Message kind. */
  readonly type: 'init';
  /** This replica's rank, in `[0, worldSize)`. */
  readonly rank: number;
  /** Number of replicas. */
  readonly worldSize: number;
  /** The tfjs backend the coordinator trains on; replicas use the same one. */
  readonly backend: string;
  /** Whether the coordinator uses `useFastWasmKernels` (so that every rank computes alike). */
  readonly fastWasmKernels?: boolean;
  /** How to build the model and its per-sample loss. */
  readonly replica: ReplicaSpec;
  /** Number of values of each trainable variable, in order, for the replica to check. */
  readonly sizes: readonly number[];
}

/** One step's work for one rank. */
export interface StepRequest {
  /** Message kind. */
  readonly type: 'step';
  /** Increasing step id, echoed in the reply. */
  readonly id: number;
  /** All trainable parameters, concatenated in variable order. */
  readonly params: Float32Array;
  /** This rank's rows of the batch inputs. */
  readonly xs: TensorData;
  /** This rank's rows of the batch targets. */
  readonly ys: TensorData;
  /** InfoBatch weights of this rank's rows. */
  readonly sampleWeights: Float32Array;
  /**
   * Denominator `D` of the objective `Σ w·l / D` over this rank's rows: the global batch's length
   * `B` in rescale mode `'loss'`, its weight sum `Σ w` in mode `'step'`.
   */
  readonly denominator: number;
  /** Add the model's regularisation penalties to this rank's objective (one rank does). */
  readonly penalty: boolean;
  /** Also send the model's outputs for this rank's rows (for metrics computed by the coordinator). */
  readonly outputs: boolean;
}

/** Asks for the hash of the parameters a rank holds. */
export interface CheckRequest {
  /** Message kind. */
  readonly type: 'check';
}

/** Ends the replica: it releases its tensors and stops listening. */
export interface CloseRequest {
  /** Message kind. */
  readonly type: 'close';
}

/** Every message a coordinator sends to a replica. */
export type ToReplica = InitRequest | StepRequest | CheckRequest | CloseRequest;

/** The replica is built and its variables match `sizes`. */
export interface ReadyReply {
  /** Message kind. */
  readonly type: 'ready';
  /** The rank that is ready. */
  readonly rank: number;
}

/** One step's result for one rank. */
export interface StepReply {
  /** Message kind. */
  readonly type: 'grads';
  /** The id of the {@link StepRequest} answered. */
  readonly id: number;
  /** Gradient of this rank's objective, concatenated in variable order. */
  readonly grads: Float32Array;
  /** Per-sample losses of this rank's rows, in row order. */
  readonly losses: Float32Array;
  /** Value of the regularisation penalty when it was asked for, else 0. */
  readonly penalty: number;
  /** The model's outputs for this rank's rows, when they were asked for. */
  readonly outputs?: TensorData;
}

/** Hash of the rank's parameters (CRC-32 of their bytes). */
export interface CheckReply {
  /** Message kind. */
  readonly type: 'hash';
  /** CRC-32 of the parameters' bytes, in variable order. */
  readonly hash: number;
}

/** The replica failed while handling a request. */
export interface ErrorReply {
  /** Message kind. */
  readonly type: 'error';
  /** What it was doing: 'init', 'step', 'check'. */
  readonly during: string;
  /** The error's message. */
  readonly message: string;
}

/** Every message a replica sends to its coordinator. */
export type FromReplica = ReadyReply | StepReply | CheckReply | ErrorReply;

/**
 * A two-way channel to one replica: a Node worker, a Web Worker, or a user's own transport.
 * Messages must arrive in order.
 */
export interface ReplicaEndpoint {
  /** Sends a message; `transfer` lists buffers that may be moved instead of copied. */
  post(message: ToReplica, transfer?: ArrayBuffer[]): void;
  /**
   * Registers the receiver: `message` for each reply, `failure` when the replica dies or its
   * channel breaks (not after {@link ReplicaEndpoint.terminate}).
   */
  listen(handlers: { message(message: FromReplica): void; failure(cause: unknown): void }): void;
  /** Stops the replica; resolves once it no longer runs. */
  terminate(): Promise<void>;
  /**
   * Optional: blocks this thread for up to `maxWaitMs` until the replica's next reply has arrived,
   * and hands it to the `message` handler before returning (true), or returns false (the reply
   * then comes through the event loop as usual). A transport whose replies can be awaited without
   * a turn of the event loop (Node worker threads, with `Atomics.wait`) saves that turn's latency
   * on every step.
   */
  receiveNow?(maxWaitMs: number): boolean;
}

/**
 * Rows `rank, rank + worldSize, …` of a batch tensor's values (`rowSize` values per row): the
 * rank's part in `EpochPlan.shard` order. @internal
 */
export function strideRows<T extends Float32Array | Int32Array>(values: T, rowSize: number, rank: number, worldSize: number): T {
  const rows = values.length / rowSize;
  const count = rank < rows ? Math.ceil((rows - rank) / worldSize) : 0;
  const part = new (values.constructor as { new (length: number): T })(count * rowSize);
  for (let s = 0; s < count; s++) {
    const row = rank + s * worldSize;
    part.set(values.subarray(row * rowSize, (row + 1) * rowSize), s * rowSize);
  }
  return part;
}
