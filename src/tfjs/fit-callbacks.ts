/**
 * tfjs `fit` callbacks for {@link fitWithInfoBatch}: the user's callbacks are standardised as
 * tfjs does (hook objects become `tf.CustomCallback`s with `yieldEvery`), run in a
 * `tf.CallbackList` between an epoch averager (tfjs's `BaseLogger`, which is not exported) and a
 * `tf.History`, with the same `params`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { CallbackList, CustomCallback, History, type CustomCallbackArgs, type LayersModel, type ModelFitArgs } from '@tensorflow/tfjs-layers';
import { describeValue, InfoBatchError } from '../core/errors.js';

/** A tfjs callback object (`tf.callbacks.earlyStopping(…)`, `tf.CustomCallback`, a `tf.Callback` subclass). */
export interface CallbackObject {
  setParams(params: Record<string, unknown>): void;
  setModel(model: unknown): void;
  onTrainBegin(logs?: unknown): Promise<void>;
  onTrainEnd(logs?: unknown): Promise<void>;
  onEpochBegin(epoch: number, logs?: unknown): Promise<void>;
  onEpochEnd(epoch: number, logs?: unknown): Promise<void>;
  onBatchBegin(batch: number, logs?: unknown): Promise<void>;
  onBatchEnd(batch: number, logs?: unknown): Promise<void>;
}

/** Log values: numbers, or scalars before they are read. */
export type FitLogs = Record<string, number | tf.Scalar>;

const HOOK_KEYS = ['onTrainBegin', 'onTrainEnd', 'onEpochBegin', 'onEpochEnd', 'onBatchBegin', 'onBatchEnd', 'onYield', 'nowFunc', 'nextFrameFunc'] as const;
const OBJECT_METHODS = ['setParams', 'setModel', 'onTrainBegin', 'onTrainEnd', 'onEpochBegin', 'onEpochEnd', 'onBatchBegin', 'onBatchEnd'] as const;

function isCallbackObject(value: unknown): value is CallbackObject {
  return typeof value === 'object' && value !== null && OBJECT_METHODS.every((m) => typeof (value as Record<string, unknown>)[m] === 'function');
}

/**
 * The user's `callbacks` as callback objects, the way tfjs's `fit` standardises them: callback
 * objects are used as they are, hook objects (`{ onEpochEnd, … }`) become `tf.CustomCallback`s
 * that yield to the event loop as `yieldEvery` says. Arrays may mix both.
 * @throws InfoBatchError 'INVALID_TYPE' for anything else.
 * @internal
 */
export function standardizeCallbacks(callbacks: ModelFitArgs['callbacks'] | undefined, yieldEvery: ModelFitArgs['yieldEvery'], where: string): CallbackObject[] {
  const list: unknown[] = callbacks === undefined || callbacks === null ? [{}] : Array.isArray(callbacks) ? callbacks : [callbacks];
  return list.map((entry, i) => {
    const name = Array.isArray(callbacks) ? `callbacks[${i}]` : 'callbacks';
    if (isCallbackObject(entry)) return entry;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new InfoBatchError('INVALID_TYPE', `'${name}' passed to ${where} must be a tfjs callback (e.g. tf.callbacks.earlyStopping()) or an object of hooks { onEpochEnd, onBatchEnd, … } but got ${describeValue(entry)}.`);
    }
    for (const [key, value] of Object.entries(entry)) {
      if (!(HOOK_KEYS as readonly string[]).includes(key)) {
        throw new InfoBatchError('INVALID_OPTION', `'${name}.${key}' passed to ${where} is not a tfjs callback hook; the hooks are ${HOOK_KEYS.join(', ')}.`);
      }
      if (value !== undefined && typeof value !== 'function') {
        throw new InfoBatchError('INVALID_TYPE', `'${name}.${key}' passed to ${where} must be a function but got ${describeValue(value)}.`);
      }
    }
    if (yieldEvery === 'never' && (entry as CustomCallbackArgs).onYield !== undefined) {
      throw new InfoBatchError('INVALID_OPTION', `'${name}.onYield' passed to ${where} is never called because 'yieldEvery' is "never"; drop one of them.`);
    }
    return new CustomCallback(entry as CustomCallbackArgs, yieldEvery) as unknown as CallbackObject;
  });
}

/** Which log keys an {@link EpochAverager} accumulates, and how the epoch's logs are made from them. */
export interface AveragerSpec {
  /** Keys averaged over the epoch's samples, weighted by batch size (tfjs's `BaseLogger`). */
  readonly mean: readonly string[];
  /**
   * Keys summed over the epoch's batches. They carry figures that are not logs (names starting
   * with `__`): removed from each batch's logs once read, so later callbacks never see them, and
   * not written to the epoch's logs.
   */
  readonly sum?: readonly string[];
  /** Completes the epoch's logs from the sums (e.g. `loss` from `Σ w·l` and `Σ w`). */
  readonly finish?: (logs: FitLogs, sums: Readonly<Record<string, number>>, seen: number) => void;
}

type Total = number | tf.Scalar;

/**
 * tfjs's `BaseLogger`: each epoch's log of a metric is the batch-size-weighted mean of its batch
 * logs, accumulated on the device as tfjs does (`Σ size·value`, then `· 1/seen`; numbers are
 * summed here, as numbers), but read back to a number at the epoch's end so that no log tensor
 * outlives its epoch. It also sums the hidden figures of {@link AveragerSpec.sum}.
 */
export class EpochAverager implements CallbackObject {
  private seen = 0;
  private totals = new Map<string, Total>();

  constructor(private readonly spec: AveragerSpec = { mean: [] }) {}

  setParams(): void {}
  setModel(): void {}
  async onTrainBegin(): Promise<void> {}
  async onTrainEnd(): Promise<void> {
    this.reset();
  }
  async onBatchBegin(): Promise<void> {}
  async onEpochBegin(): Promise<void> {
    this.reset();
  }
  private accumulate(key: string, value: number | tf.Scalar, factor: number): void {
    const previous = this.totals.get(key);
    if (typeof value === 'number' && (previous === undefined || typeof previous === 'number')) {
      // Rounded to float32 at each step, as a device sum is: a total restored from a checkpoint
      // (as a float32 scalar) then continues exactly as the uninterrupted sum would.
      this.totals.set(key, Math.fround((previous ?? 0) + Math.fround(value * factor)));
      return;
    }
    const total = tf.tidy(() => tf.add(previous ?? 0, factor === 1 ? value : tf.mul(value, factor)) as tf.Scalar);
    if (typeof previous !== 'number') previous?.dispose();
    this.totals.set(key, total);
  }
  async onBatchEnd(_batch: number, logs?: unknown): Promise<void> {
    const entries = (logs ?? {}) as FitLogs;
    const size = typeof entries['size'] === 'number' ? entries['size'] : 0;
    this.seen += size;
    for (const key of this.spec.mean) {
      const value = entries[key];
      if (value !== undefined) this.accumulate(key, value, size);
    }
    for (const key of this.spec.sum ?? []) {
      const value = entries[key];
      if (value !== undefined) this.accumulate(key, value, 1);
      delete entries[key];
    }
  }
  private async read(total: Total): Promise<number> {
    return typeof total === 'number' ? total : (await total.data())[0]!;
  }
  async onEpochEnd(_epoch: number, logs?: unknown): Promise<void> {
    if (logs === undefined || logs === null) return;
    const entries = logs as FitLogs;
    for (const key of this.spec.mean) {
      const total = this.totals.get(key);
      if (total === undefined) continue;
      if (typeof total === 'number') {
        entries[key] = total / this.seen;
      } else {
        const mean = tf.tidy(() => tf.mul(tf.div(1, this.seen), total));
        entries[key] = (await mean.data())[0]!;
        mean.dispose();
      }
    }
    const sums: Record<string, number> = {};
    for (const key of this.spec.sum ?? []) {
      const total = this.totals.get(key);
      if (total !== undefined) sums[key] = await this.read(total);
    }
    this.spec.finish?.(entries, sums, this.seen);
    this.reset();
  }
  /**
   * The epoch's running sums, read back (for a checkpoint taken inside an epoch).
   * @internal
   */
  async snapshot(): Promise<AveragerState> {
    const totals: Record<string, number> = {};
    for (const [key, total] of this.totals) totals[key] = await this.read(total);
    return { seen: this.seen, totals };
  }

  /**
   * Puts back the running sums of {@link EpochAverager.snapshot} (float32 values, so the epoch's
   * averages come out as if it had not been interrupted).
   * @internal
   */
  restore(state: AveragerState): void {
    this.reset();
    this.seen = state.seen;
    for (const [key, value] of Object.entries(state.totals)) this.totals.set(key, tf.scalar(value));
  }

  /** Disposes the running sums (also when a run fails mid-epoch). */
  reset(): void {
    tf.dispose([...this.totals.values()].filter((total): total is tf.Scalar => typeof total !== 'number'));
    this.totals.clear();
    this.seen = 0;
  }
}

/** Running sums of an {@link EpochAverager} inside an epoch. @internal */
export interface AveragerState {
  /** Samples seen this epoch. */
  readonly seen: number;
  /** `Σ size·value` of each metric so far (float32). */
  readonly totals: Readonly<Record<string, number>>;
}

/** Parameters tfjs's `fit` hands its callbacks (`callback.params`). @internal */
export interface FitParams {
  readonly epochs: number;
  readonly initialEpoch: number;
  readonly samples: number;
  readonly batchSize: number;
  readonly verbose: number;
  readonly doValidation: boolean;
  /** Log names of the epoch averages: the training labels, then `val_` ones with validation. */
  readonly metrics: readonly string[];
}

/**
 * The callback list of one run, as tfjs's `fit` builds it: the epoch averager, the printing
 * callback (tfjs: the registered ones, e.g. tfjs-node's progress bar), the user's callbacks, then a
 * `tf.History`.
 * @internal
 */
export function configureCallbacks(model: LayersModel, callbacks: CallbackObject[], params: FitParams, options: { averaged?: AveragerSpec; logger?: CallbackObject } = {}): { list: CallbackList; history: History; averager: EpochAverager } {
  const history = new History();
  const averager = new EpochAverager(options.averaged ?? { mean: params.metrics });
  const all = [averager, ...(options.logger ? [options.logger] : []), ...callbacks, history as unknown as CallbackObject];
  const list = new CallbackList(all as unknown as ConstructorParameters<typeof CallbackList>[0]);
  list.setParams({ ...params, steps: null, metrics: [...params.metrics] } as unknown as Parameters<CallbackList['setParams']>[0]);
  list.setModel(model as unknown as Parameters<CallbackList['setModel']>[0]);
  return { list, history, averager };
}
