/**
 * The `workers` option of the training functions: validation, and the start of the
 * data-parallel runner.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { describeValue, InfoBatchError } from '../../core/errors.js';
import { assertInteger, assertKnownKeys, assertOptionBag } from '../../core/validate.js';
import { isNode } from '../backend.js';
import { trainableVariables, type PerSampleLoss, type TrainableModel } from '../engine.js';
import type { InfoBatchTfjs } from '../info-batch-tfjs.js';
import { meanSquaredError, softmaxCrossEntropy, sparseSoftmaxCrossEntropy } from '../losses.js';
import { ParallelStepRunner } from './coordinator.js';
import type { BuiltInLossName, ReplicaEndpoint, ReplicaSpec } from './protocol.js';

/**
 * Data-parallel training: each global batch is split over `count` replicas (worker threads in
 * Node), whose gradients are summed and applied once per step.
 */
export interface WorkersOptions {
  /**
   * Number of replicas (e.g. the number of cores). 1 trains on this thread. With the default Node
   * worker threads, this thread is rank 0 and `count − 1` threads are started, and `count` is at
   * most `os.availableParallelism()` (more threads than cores train no faster and cost about 70 MB
   * each); with `spawn`, at most 1024.
   */
  readonly count: number;
  /**
   * How each replica builds the model and its per-sample loss: a module (URL or absolute path)
   * whose export `exportName` (default `'createReplica'`) is a factory `(args) => { model, loss }`.
   * @defaultValue for a tfjs-layers model, rebuilt from `model.toJSON()` and its weights, with the
   *   loss named by `loss` or recognised when it is one of infobatch/tfjs's per-sample losses
   */
  readonly replica?: {
    /** URL or absolute path of the module. */
    readonly module: string | URL;
    /** Name of the factory export. @defaultValue 'createReplica' */
    readonly exportName?: string;
    /** Structured-clone-safe arguments passed to the factory. */
    readonly args?: unknown;
  };
  /** The per-sample loss replicas of a layers model use, when `loss` is not itself a built-in. */
  readonly loss?: BuiltInLossName;
  /**
   * Starts the replicas and returns one endpoint per rank, `count` in all (e.g. Web Workers, or
   * processes on other machines through your own transport); this thread then only coordinates.
   * @defaultValue Node worker threads
   */
  readonly spawn?: (count: number) => Promise<readonly ReplicaEndpoint[]>;
  /**
   * Longest wait for a replica's answer (to its start, to each step, to the epoch-end check), in
   * milliseconds: a replica that has not answered by then stops the run with `'WORKER_FAILED'`,
   * every replica stopped, instead of a run that waits forever on a hung thread. Raise it for
   * models whose step, or whose start in a replica, takes longer.
   * @defaultValue 300000 (five minutes)
   */
  readonly timeoutMs?: number;
}

/** Most endpoints a `workers.spawn` transport may return (replicas on other machines). @internal */
const MAX_ENDPOINTS = 1024;

/**
 * How many threads this machine runs at once, in Node (`os.availableParallelism()`): the limit of
 * `workers` with Node worker threads. Measured on a 2-core machine with the built package (wasm,
 * a small MLP): each replica thread adds 65–75 MB RSS (4 workers 406 MB, 8 workers 675 MB, 16
 * workers 1,152 MB, against 195 MB on one thread), and threads beyond the cores share them, so a
 * step, which waits for the slowest rank, gets no faster. Undefined outside Node.
 */
function nodeCores(): number | undefined {
  if (!isNode()) return undefined;
  const os = (process as unknown as { getBuiltinModule?: (id: string) => { availableParallelism?: () => number; cpus(): unknown[] } | undefined }).getBuiltinModule?.('node:os');
  if (os === undefined) return undefined;
  return Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
}

/** Default of {@link WorkersOptions.timeoutMs}. @internal */
export const DEFAULT_WORKER_TIMEOUT_MS = 300_000;

/** A validated `workers` option. @internal */
export interface ResolvedWorkers {
  readonly count: number;
  /** The coordinator's per-sample loss: with Node worker threads, this thread computes rank 0. */
  readonly loss: PerSampleLoss;
  readonly replica: ReplicaSpec;
  readonly spawn: ((count: number) => Promise<readonly ReplicaEndpoint[]>) | undefined;
  /** See {@link WorkersOptions.timeoutMs}. */
  readonly timeoutMs: number;
}

const BUILT_IN: ReadonlyArray<readonly [BuiltInLossName, unknown]> = [
  ['softmaxCrossEntropy', softmaxCrossEntropy],
  ['sparseSoftmaxCrossEntropy', sparseSoftmaxCrossEntropy],
  ['meanSquaredError', meanSquaredError],
];

function isLayersModel(model: TrainableModel): model is TrainableModel & { toJSON(unused?: null, returnString?: boolean): unknown } {
  return typeof (model as { toJSON?: unknown }).toJSON === 'function' && Array.isArray((model as { layers?: unknown }).layers);
}

/**
 * Validates the `workers` option; undefined when training stays on this thread (absent or 1).
 * @internal
 */
export function resolveWorkers(where: string, model: TrainableModel, loss: PerSampleLoss, option: unknown, compiled?: { readonly compiledLoss: unknown }): ResolvedWorkers | undefined {
  if (option === undefined) return undefined;
  const bag: WorkersOptions = typeof option === 'number' ? { count: option } : (option as WorkersOptions);
  if (typeof option !== 'number') {
    assertOptionBag(where, 'workers', option);
    assertKnownKeys(`${where} workers`, option, ['count', 'replica', 'loss', 'spawn', 'timeoutMs']);
  }
  const { timeoutMs = DEFAULT_WORKER_TIMEOUT_MS } = bag;
  if (!(typeof timeoutMs === 'number' && timeoutMs > 0)) {
    throw new InfoBatchError('OUT_OF_RANGE', `'workers.timeoutMs' passed to ${where} must be a number of milliseconds > 0 (Infinity: no limit) but got ${describeValue(timeoutMs)}.`);
  }
  const countName = typeof option === 'number' ? 'workers' : 'workers.count';
  assertInteger(where, countName, bag.count, 1, MAX_ENDPOINTS);
  if (bag.count === 1) return undefined;
  const cores = bag.spawn === undefined ? nodeCores() : undefined;
  if (cores !== undefined && bag.count > cores) {
    throw new InfoBatchError('OUT_OF_RANGE', `${countName === 'workers' ? "'workers'" : "'workers.count'"} passed to ${where} is ${bag.count}, but this machine runs ${cores} threads at once (os.availableParallelism()): Node worker threads beyond that share the cores, so they train no faster, and each costs about 70 MB. Pass at most ${cores} (e.g. os.availableParallelism()), or your own workers.spawn to train across machines.`);
  }
  if (bag.spawn !== undefined && typeof bag.spawn !== 'function') {
    throw new InfoBatchError('INVALID_TYPE', `'workers.spawn' passed to ${where} must be a function (count) => Promise<ReplicaEndpoint[]> but got ${describeValue(bag.spawn)}.`);
  }
  if (bag.spawn === undefined && !isNode()) {
    throw new InfoBatchError('UNSUPPORTED', `'workers' passed to ${where} starts Node worker threads by default; in a browser pass workers.spawn, returning one endpoint per Web Worker.`);
  }
  let replica: ReplicaSpec;
  if (bag.replica !== undefined) {
    assertOptionBag(where, 'workers.replica', bag.replica);
    assertKnownKeys(`${where} workers.replica`, bag.replica, ['module', 'exportName', 'args']);
    const { module, exportName = 'createReplica', args } = bag.replica;
    if (!(typeof module === 'string' || module instanceof URL) || typeof exportName !== 'string') {
      throw new InfoBatchError('INVALID_TYPE', `'workers.replica' passed to ${where} must be { module: URL or absolute path, exportName?: string, args? } but got module ${describeValue(module)}, exportName ${describeValue(exportName)}.`);
    }
    const href = module instanceof URL ? module.href : /^[a-z][a-z0-9+.-]*:/i.test(module) && !/^[a-z]:[\\/]/i.test(module) ? module : `file://${module.startsWith('/') ? '' : '/'}${module.replace(/\\/g, '/')}`;
    replica = { kind: 'module', module: href, exportName, ...(args !== undefined && { args }) };
  } else {
    if (!isLayersModel(model)) {
      throw new InfoBatchError('INVALID_OPTION', `'workers' passed to ${where} needs workers.replica for a model that is not a tfjs-layers model: a module exporting a factory (args) => { model, loss } that builds the same model in each worker.`);
    }
    if (compiled !== undefined && bag.loss === undefined) {
      const name = compiled.compiledLoss;
      if (typeof name !== 'string') {
        throw new InfoBatchError('INVALID_OPTION', `'workers' passed to ${where} needs the model compiled with its loss given by name (e.g. loss: 'categoricalCrossentropy'), so that worker threads can compile the same loss; got ${describeValue(name)}. Pass workers.replica to build model and loss in the workers yourself.`);
      }
      return { count: bag.count, loss, replica: { kind: 'layers', topology: model.toJSON(null, false), loss: { compiled: name } }, spawn: bag.spawn, timeoutMs };
    }
    const named = bag.loss ?? BUILT_IN.find(([, fn]) => fn === loss)?.[0];
    if (named === undefined || !BUILT_IN.some(([name]) => name === named)) {
      throw new InfoBatchError('INVALID_OPTION', `'workers' passed to ${where} cannot send the loss function to worker threads: pass one of ${BUILT_IN.map(([n]) => n).join(', ')} from infobatch/tfjs as 'loss' itself, name it with workers: { count, loss: 'softmaxCrossEntropy' }, or give workers.replica (got loss ${describeValue(bag.loss ?? loss)}).`);
    }
    replica = { kind: 'layers', topology: model.toJSON(null, false), loss: named };
  }
  return { count: bag.count, loss, replica, spawn: bag.spawn, timeoutMs };
}

/** Imports a Node-only module, hidden from bundlers. */
function importNodeOnly<T>(specifier: string): Promise<T> {
  return import(/* webpackIgnore: true */ /* @vite-ignore */ specifier) as Promise<T>;
}

/**
 * Starts the replicas of a resolved `workers` option and the runner that drives them; the caller
 * must `close()` it. @internal
 */
export async function startWorkers(where: string, workers: ResolvedWorkers, model: TrainableModel, optimizer: tf.Optimizer, ibt: InfoBatchTfjs, extras?: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Scalar[]): Promise<ParallelStepRunner> {
  const variables = trainableVariables(model, where);
  if (workers.spawn === undefined) {
    // Node worker threads: this thread computes rank 0 itself (it would only wait otherwise), so
    // `count` threads are busy in all, one per core.
    const own = import.meta.url.endsWith('.ts') ? './spawn-node.ts' : './spawn-node.js';
    const node = await importNodeOnly<{ spawnNodeReplicas(count: number): Promise<ReplicaEndpoint[]> }>(new URL(own, import.meta.url).href);
    const endpoints = await node.spawnNodeReplicas(workers.count - 1);
    return ParallelStepRunner.start({ endpoints, local: { model, loss: workers.loss, variables, where }, replica: workers.replica, variables, optimizer, ibt, where, extras, timeoutMs: workers.timeoutMs });
  }
  const endpoints = await workers.spawn(workers.count);
  if (!Array.isArray(endpoints) || endpoints.length !== workers.count) {
    await Promise.all((Array.isArray(endpoints) ? endpoints : []).map((e: ReplicaEndpoint) => e.terminate().catch(() => undefined)));
    throw new InfoBatchError('INVALID_STATE', `'workers.spawn' passed to ${where} must return ${workers.count} endpoints but returned ${describeValue(endpoints)}.`);
  }
  return ParallelStepRunner.start({ endpoints, replica: workers.replica, variables, optimizer, ibt, where, extras, timeoutMs: workers.timeoutMs });
}
